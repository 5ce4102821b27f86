"""A small OpenAI-compatible chat server for tests, replaying recorded completions.

The request's ``model`` names the recording (``tests/recordings/<model>.json``), so one server serves every
scenario and a test picks one through ``Settings(llm_model=...)``. A recording holds:
``{"description": str, "status": 200, "delay_s": 0.0, "content": str}``; a non-200 status answers with an
OpenAI-style error body, ``delay_s`` longer than the client's timeout simulates a hung model.
Both plain JSON and streamed (server-sent events, ``stream: true``) responses are served, in the chunk
format OpenAI, vLLM and llama.cpp's server use. Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent / "recordings"


def load_recording(name: str) -> dict[str, Any]:
    path = RECORDINGS / f"{name}.json"
    if not re.fullmatch(r"[\w-]+", name) or not path.exists():
        return {"status": 404, "content": f"no recording {name!r}"}
    return json.loads(path.read_text(encoding="utf-8"))


def _deltas(text: str) -> list[str]:
    # Word-sized pieces, whitespace kept: what a real server streams, and markers may be split across them.
    return re.findall(r"\S+\s*|\s+", text)


class _Handler(BaseHTTPRequestHandler):
    server: LLMTestServer  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            names = sorted(p.stem for p in RECORDINGS.glob("*.json"))
            self._json(200, {"object": "list", "data": [{"id": n, "object": "model"} for n in names]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.requests.append(body)
        rec = load_recording(str(body.get("model", "")))
        if rec.get("delay_s"):
            time.sleep(float(rec["delay_s"]))
        status = int(rec.get("status", 200))
        if status != 200:
            self._json(status, {"error": {"message": rec.get("content", "error"), "type": "server_error"}})
            return
        model, created, cid = body.get("model"), int(time.time()), f"chatcmpl-{len(self.server.requests)}"
        content = rec["content"]
        if not body.get("stream"):
            self._json(
                200,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in _deltas(content):
            event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class LLMTestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)  # port 0: a free port chosen by the OS
        self.requests: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> LLMTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # pragma: no cover - manual use: python tests/llm_server.py
    with LLMTestServer() as srv:
        print(srv.url, flush=True)
        threading.Event().wait()
