"""The CLI beside a running app: one process holds the store, the others ask it.

Qdrant Edge allows one process per store, and the store's lock (``index.store.base.StoreLock``) is taken
before the engine is touched, so a refused opener changes nothing. ``briefing serve`` holds the store for its
whole life. The CLI commands that need the store (``status``, ``search``, ``ask``, ``moties``, ``draft``,
``ingest``, ``delete``)
decide per call (``run``):

1. **direct**: the store's lock is free: open the store in this process, as before;
2. **app**: the store is busy and ``<home>/serve.json`` names a live app that answers: send the command to
   the app's local admin API and print what it returns, exactly as the direct path prints it;
3. **wait or fail**: the store is busy and no app answers (another ingest, a CLI search): writes wait for the
   lock with a message on stderr, up to ``BRIEFING_STORE_WAIT`` seconds (default 1800); reads fail at once
   with a clear message (only a starting app, which holds the store a moment before it announces itself,
   is waited for).

The local admin API lives on the app's own FastAPI (added through Gradio's ``launch(app_kwargs=...)``) under
``/local/``. It answers only clients on a loopback address that carry the token from ``serve.json`` (random
per start, file mode 0600, compared in constant time) as ``Authorization: Bearer``, and refuses any request
with an ``Origin`` header: the CLI never sends one, a web page always does. It runs with full access, like
the CLI: whoever can read ``serve.json`` can read the store files themselves.

This module must stay cheap to import: the CLI imports it for every store command; FastAPI is imported only
by ``routes`` (in the app). No ``from __future__ import annotations`` here: FastAPI reads the endpoints'
annotations, and those defined inside ``routes`` name types imported there, which string annotations would
not find.
"""

import contextlib
import hmac
import ipaddress
import json
import logging
import os
import queue
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from corpus.settings import Settings

SERVE_FILE = "serve.json"
WAIT_ENV = "BRIEFING_STORE_WAIT"
DEFAULT_WAIT = 1800.0  # seconds a CLI write waits for the store; an ingest of the whole corpus takes minutes
SERVE_GRACE = 30.0  # a starting app holds the store this long at most before serve.json appears
POLL = 0.5
PING_TIMEOUT = 5.0
# How long the CLI waits for the app's answer. An ask may load the embedding model first (on 2 busy cores);
# writes have no limit: an ingest runs as long as it runs, in the app, and must not be abandoned halfway.
READ_TIMEOUT = {"status": 120.0, "search": 300.0, "ask": 900.0, "moties": 300.0, "draft": 900.0}
WRITES = ("ingest", "delete")

T = TypeVar("T")
Log = Callable[[str], None]
# An ingest in the app reports its progress (``IngestProgress.to_json()``) to the CLI on the same request:
# the response is then NDJSON, one {"progress": ...} line per report and one {"result"|"error": ...} at the end.
STREAM_TYPE = "application/x-ndjson"
Progress = Callable[[dict[str, Any]], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class LocalApiError(ValueError):
    """The app ran the command and it failed (the message is the app's), or it stopped answering midway."""


class AppUnavailable(Exception):
    """No app answers for this home (not running, not reachable, or not the app serve.json names)."""


# --- serve.json ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeInfo:
    """What a running app announces in ``<home>/serve.json``."""

    pid: int
    url: str  # loopback only, e.g. http://127.0.0.1:7860
    token: str
    home: str = ""


def serve_file(settings: Settings) -> Path:
    return settings.home / SERVE_FILE


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but another user's: not our app, yet alive
        return True
    return True


def _loopback_url(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    host = parsed.hostname or ""
    return parsed.scheme == "http" and (host == "localhost" or is_loopback_client(host))


def read_serve_file(settings: Settings) -> ServeInfo | None:
    """The app announced for this home, or None: no file, unreadable, not private to this user, a URL off
    this machine (the token must never leave it), or a dead pid (a stale file of a killed app)."""
    path = serve_file(settings)
    try:
        st = path.stat()
        # Only a file this user wrote privately is trusted: the token in it is a credential.
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        info = ServeInfo(
            pid=int(data["pid"]),
            url=str(data["url"]),
            token=str(data["token"]),
            home=str(data.get("home", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not info.token or not _loopback_url(info.url) or not pid_alive(info.pid):
        return None
    return info


def write_serve_file(settings: Settings, url: str, token: str) -> ServeInfo:
    """Announce this process's app; mode 0600 from the start (written to a private temp file, then moved)."""
    info = ServeInfo(pid=os.getpid(), url=url, token=token, home=str(settings.home.resolve()))
    target = serve_file(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{SERVE_FILE}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(info), f)
    os.replace(tmp, target)
    return info


def remove_serve_file(settings: Settings, info: ServeInfo) -> None:
    """Withdraw the announcement, if it is still ours (a later app may have replaced it)."""
    path = serve_file(settings)
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("token") == info.token:
            path.unlink()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def app_url(host: str, port: int) -> str | None:
    """The loopback URL the CLI uses for an app listening on ``host``; None when loopback cannot reach it
    (bound to one non-loopback address only)."""
    if host in ("", "0.0.0.0", "localhost") or host.startswith("127."):
        return f"http://127.0.0.1:{port}"
    if host in ("::", "::1"):
        return f"http://[::1]:{port}"
    return None


# --- the guard ----------------------------------------------------------------------------------------------


def is_loopback_client(host: str | None) -> bool:
    """Whether a peer address is loopback. Only literal addresses count (the server reports the peer's IP;
    a name here is never resolved), and an IPv4-mapped IPv6 address counts as its IPv4 address."""
    if not host:
        return False
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected token matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_request(client_host: str | None, headers: dict[str, str], token: str) -> tuple[int, str] | None:
    """Why a request to the local API is refused, as (HTTP status, message); None when it may pass.
    ``headers`` with lower-case names."""
    if not is_loopback_client(client_host):
        return 403, "the local API answers loopback clients only"
    if "origin" in headers:
        # A browser sends Origin with every cross-origin request; the CLI never does. The token alone would
        # stop a web page, but a page has no business here at all.
        return 403, "the local API is not for browsers"
    if not token_matches(bearer_token(headers.get("authorization")), token):
        return 401, "missing or wrong token"
    return None


# --- what the CLI prints --------------------------------------------------------------------------------------


@dataclass
class Output:
    """A command's result: ``data`` is what ``--json`` prints, ``lines`` what it prints otherwise."""

    data: Any
    lines: list[str] = field(default_factory=list)


def jsonable(obj: Any) -> Any:
    """``obj`` as it comes out of JSON: what the CLI's ``_dump`` makes of it is unchanged (same
    ``default=str``), so the direct and the app path print the very same thing."""
    return json.loads(json.dumps(obj, ensure_ascii=False, default=str))


def status_output(info: dict[str, Any]) -> Output:
    return Output(info, [f"{k}: {v}" for k, v in info.items()])


def search_output(hits: Sequence[Any]) -> Output:
    lines: list[str] = []
    for i, h in enumerate(hits, 1):
        lines.append(
            f"{i}. [{h.score:.3f}] {h.citation}  (p. {h.page})"
            if h.page
            else f"{i}. [{h.score:.3f}] {h.citation}"
        )
        lines.append("   " + h.text[:300].replace("\n", " "))
    return Output([h.to_json() for h in hits], lines)


def moties_output(found: Sequence[Any]) -> Output:
    lines: list[str] = [] if found else ["Geen moties gevonden."]
    for u in found:
        who = ", ".join(u.indieners)
        lines.append(f"{u.title} ({u.citation}) — {u.status or 'uitslag onbekend'}")
        if who:
            lines.append(f"   ingediend door {who}" + (f" ({', '.join(u.fracties)})" if u.fracties else ""))
        if u.dictum:
            lines.append("   " + u.dictum[:300])
        lines.append(f"   in: {u.doc_citation}")
    return Output([u.to_json() for u in found], lines)


def ingest_output(summary: Any) -> Output:
    return Output(summary.to_json(), [summary.describe()])


def delete_output(removed: dict[str, Any]) -> Output:
    # `briefing delete` prints its JSON either way.
    text = json.dumps(removed, ensure_ascii=False, indent=2, default=str)
    return Output(removed, [text])


# --- the operations, run by whichever process holds the store --------------------------------------------------


def do_status(settings: Settings) -> dict[str, Any]:
    from index.status import index_status

    return index_status(settings)


def do_search(settings: Settings, query: str, k: int, filters: dict[str, str], mode: str | None) -> list[Any]:
    from index.search import Searcher

    return Searcher(settings).search(query, k=k, filters=filters, mode=mode)  # type: ignore[arg-type]


def do_ask(
    settings: Settings, question: str, engine: str | None, filters: dict[str, str], assistant: Any = None
) -> Output:
    if assistant is None:
        from assistant.answer import Assistant

        assistant = Assistant(settings)
    answer = assistant.ask(question, engine=engine, filters=filters)
    return Output(answer.to_json(), [answer.render_text()])


def do_moties(settings: Settings, filters: dict[str, Any]) -> list[Any]:
    from index.units import list_motions

    return list_motions(settings, **filters)


def do_draft(
    settings: Settings, topic: str, engine: str | None, filters: dict[str, str], assistant: Any = None
) -> Any:
    from assistant.draft import draft_letter

    return draft_letter(topic, settings, engine=engine, filters=filters, assistant=assistant)


def do_ingest(
    settings: Settings,
    paths: Sequence[str | Path],
    prune: bool,
    progress: bool,
    on_progress: Callable[[Any], None] | None = None,
) -> Any:
    from index.ingest import ingest_paths
    from index.search import get_index

    with get_index(settings).write_lock:
        return ingest_paths(
            [Path(p) for p in paths], settings, progress=progress, prune=prune, on_progress=on_progress
        )


def do_delete(settings: Settings, doc_ids: Sequence[str]) -> dict[str, Any]:
    from index.ingest import delete_documents
    from index.search import get_index

    with get_index(settings).write_lock:
        return delete_documents(list(doc_ids), settings)


# --- the server side: routes on the app's FastAPI ------------------------------------------------------------


class SearchBody(BaseModel):
    query: str
    k: int = 8
    filters: dict[str, str] = Field(default_factory=dict)
    mode: str | None = None


class AskBody(BaseModel):
    question: str
    engine: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)


class MotiesBody(BaseModel):
    dossier: str | None = None
    status: str | None = None
    indiener: str | None = None
    fractie: str | None = None
    query: str | None = None
    limit: int = 200


class DraftBody(BaseModel):
    topic: str
    engine: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)


class IngestBody(BaseModel):
    paths: list[str]
    prune: bool = False
    progress: bool = False  # stream progress reports before the result (STREAM_TYPE)


class DeleteBody(BaseModel):
    doc_ids: list[str]


def routes(settings: Settings, token: str) -> list[Any]:
    """The ``/local/...`` routes for the app's FastAPI (pass them as ``app_kwargs={"routes": ...}``, so they
    exist before the server answers anything)."""
    from fastapi import APIRouter, Depends, HTTPException, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse

    from index.store.base import StoreBusyError, StoreConfigError

    log = logging.getLogger(__name__)

    # Async, so that they run on the event loop: a ping is answered even while long commands fill the
    # thread pool, and the CLI does not take a busy app for a dead one.
    async def guard(request: Request) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        refused = check_request(request.client.host if request.client else None, headers, token)
        if refused is not None:
            status, message = refused
            extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            raise HTTPException(status_code=status, detail=message, headers=extra)

    def outcome(op: str, work: Callable[[], Any]) -> tuple[dict[str, Any], int]:
        try:
            return {"result": jsonable(work())}, 200
        except (ValueError, FileNotFoundError, StoreBusyError, StoreConfigError) as e:
            # What the CLI would have shown as its one-line error had it run the command itself.
            return {"error": str(e)}, 400
        except Exception as e:  # the CLI gets a message; the app's log gets the traceback
            log.exception("local API %s failed", op)
            return {"error": f"{type(e).__name__}: {e}"}, 500

    def answer(op: str, work: Callable[[], Any]) -> JSONResponse:
        body, status = outcome(op, work)
        return JSONResponse(body, status_code=status)

    def streamed(op: str, work: Callable[[Callable[[Any], None]], Any]) -> StreamingResponse:
        """Run ``work(report)`` in a thread of its own and stream what it reports, then its outcome (the
        status code is sent before the outcome is known, so the last line carries it). A CLI that stops
        reading does not stop the work: a write runs to its end, as without progress."""
        lines: queue.Queue[str | None] = queue.Queue()

        def report(progress: Any) -> None:
            lines.put(json.dumps({"progress": progress.to_json()}, ensure_ascii=False) + "\n")

        def run_work() -> None:
            try:
                body, status = outcome(op, lambda: work(report))
                lines.put(json.dumps({**body, "status": status}, ensure_ascii=False) + "\n")
            finally:
                lines.put(None)

        threading.Thread(target=run_work, name=f"local-{op}", daemon=True).start()

        def stream() -> Iterator[str]:
            while (line := lines.get()) is not None:
                yield line

        return StreamingResponse(stream(), media_type=STREAM_TYPE)

    router = APIRouter(prefix="/local", dependencies=[Depends(guard)], include_in_schema=False)

    @router.get("/ping")
    async def ping() -> dict[str, Any]:
        return {"pid": os.getpid(), "home": str(settings.home.resolve())}

    @router.post("/status")
    def status() -> JSONResponse:
        return answer("status", lambda: do_status(settings))

    @router.post("/search")
    def search(body: SearchBody) -> JSONResponse:
        return answer(
            "search",
            lambda: [
                h.model_dump() for h in do_search(settings, body.query, body.k, body.filters, body.mode)
            ],
        )

    @router.post("/ask")
    def ask(body: AskBody) -> JSONResponse:
        def work() -> dict[str, Any]:
            from assistant import service

            # The app's shared assistant: its model is loaded already (the CLI has full access, as here).
            out = do_ask(settings, body.question, body.engine, body.filters, service.get_assistant(settings))
            return {"data": out.data, "lines": out.lines}

        return answer("ask", work)

    @router.post("/moties")
    def moties(body: MotiesBody) -> JSONResponse:
        return answer("moties", lambda: [u.model_dump() for u in do_moties(settings, body.model_dump())])

    @router.post("/draft")
    def draft(body: DraftBody) -> JSONResponse:
        def work() -> dict[str, Any]:
            from assistant import service

            letter = do_draft(
                settings, body.topic, body.engine, body.filters, service.get_assistant(settings)
            )
            return letter.to_json()

        return answer("draft", work)

    @router.post("/ingest")
    def ingest(body: IngestBody) -> Response:
        if body.progress:
            return streamed(
                "ingest",
                lambda report: asdict(
                    do_ingest(settings, body.paths, body.prune, progress=False, on_progress=report)
                ),
            )
        return answer("ingest", lambda: asdict(do_ingest(settings, body.paths, body.prune, progress=False)))

    @router.post("/delete")
    def delete(body: DeleteBody) -> JSONResponse:
        return answer("delete", lambda: do_delete(settings, body.doc_ids))

    return list(router.routes)


# --- the client side ------------------------------------------------------------------------------------------


def _request(
    info: ServeInfo,
    method: str,
    op: str,
    payload: Any,
    timeout: float | None,
    on_progress: Progress | None = None,
) -> Any:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(
        f"{info.url.rstrip('/')}/local/{op}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {info.token}", "Content-Type": "application/json"},
    )
    # No proxies, whatever the environment says: the token must go straight to loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        if r.headers.get_content_type() != STREAM_TYPE:  # also an app from before progress was streamed
            return json.loads(r.read().decode("utf-8"))
        for raw in r:
            event = json.loads(raw.decode("utf-8"))
            if "progress" not in event:
                return event
            if on_progress is not None:
                on_progress(event["progress"])
    raise OSError("the answer ended before the command did")


def _error_message(e: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(e.read().decode("utf-8"))
    except (OSError, ValueError):
        return f"HTTP {e.code}"
    return str(body.get("error") or body.get("detail") or f"HTTP {e.code}")


def live_app(settings: Settings) -> ServeInfo | None:
    """The app that serves this home and answers now, or None."""
    info = read_serve_file(settings)
    if info is None:
        return None
    try:
        pong = _request(info, "GET", "ping", None, PING_TIMEOUT)
    except (urllib.error.URLError, OSError, ValueError):  # refused, 401/403 (another app's port), timeout
        return None
    if not isinstance(pong, dict) or pong.get("pid") != info.pid:
        return None
    return info


def call_app(info: ServeInfo, op: str, payload: dict[str, Any], on_progress: Progress | None = None) -> Any:
    """Run ``op`` in the app; its result (JSON). Raises LocalApiError with the app's message.
    ``on_progress`` asks the app to stream the command's progress reports to it (``ingest``)."""
    if on_progress is not None:
        payload = {**payload, "progress": True}
    timeout = None if op in WRITES else READ_TIMEOUT.get(op, 300.0)
    try:
        body = _request(info, "POST", op, payload, timeout, on_progress)
    except urllib.error.HTTPError as e:
        if e.code == 400:
            # The command's own error (a bad filter, ...): shown exactly as when it runs here.
            raise LocalApiError(_error_message(e)) from None
        raise LocalApiError(f"the app (pid {info.pid}) answered: {_error_message(e)}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise LocalApiError(f"the app (pid {info.pid}) did not complete `{op}`: {e}") from None
    if "error" in body:  # a streamed answer carries its status in its last line
        if body.get("status") == 400:
            raise LocalApiError(str(body["error"]))
        raise LocalApiError(f"the app (pid {info.pid}) answered: {body['error']}")
    return body["result"]


def store_wait_seconds() -> float:
    raw = os.environ.get(WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{WAIT_ENV} must be a number of seconds, not {raw!r}") from None
    return max(0.0, value)


def run(
    settings: Settings,
    op: str,
    payload: dict[str, Any],
    direct: Callable[[], T],
    from_app: Callable[[Any], T],
    *,
    log: Log = _stderr,
    on_progress: Progress | None = None,
) -> T:
    """Run a CLI command where the store is: here (``direct``), in the running app (``from_app`` turns its
    JSON result into what ``direct`` returns; ``on_progress`` gets the app's progress reports), or here after
    waiting (writes). See the module docstring."""
    from index.search import get_index
    from index.store.base import LockHolder, StoreBusyError, set_store_role

    write = op in WRITES
    set_store_role(op)  # so that whoever we keep waiting can be told who is in the way
    wait = store_wait_seconds() if write else 0.0
    started = time.monotonic()
    told: LockHolder | None = None
    while True:
        try:
            get_index(settings)  # takes the store's lock, or refuses without touching the store
        except StoreBusyError as busy:
            app = live_app(settings)
            if app is not None:
                if write:
                    log(f"the app (briefing serve, pid {app.pid}) holds the store: `{op}` runs in the app")
                return from_app(call_app(app, op, payload, on_progress))
            holder = busy.holder or LockHolder()
            waited = time.monotonic() - started
            if holder.pid == os.getpid():  # open in this very process under other settings: no use waiting
                raise busy
            if not write:
                starting = holder.role == "serve" and holder.pid is not None and pid_alive(holder.pid)
                if starting and waited >= SERVE_GRACE:
                    raise StoreBusyError(
                        f"the store is in use: {holder.describe()}, but that app does not answer on "
                        f"loopback ({SERVE_FILE} missing or stale: is it bound to one network address only?)",
                        busy.holder,
                    ) from None
                if not starting:
                    raise StoreBusyError(
                        f"the store is in use: {holder.describe()}, and no running app (briefing serve) "
                        f"answers for it; `briefing {op}` cannot read it now. Try again when that has finished.",
                        busy.holder,
                    ) from None
            elif waited >= wait:
                raise StoreBusyError(
                    f"gave up waiting for the store after {wait:.0f} s: {holder.describe()} "
                    f"(wait longer with {WAIT_ENV}=seconds)",
                    busy.holder,
                ) from None
            elif holder != told:
                log(f"waiting for the store: {holder.describe()}; giving up after {wait:.0f} s ({WAIT_ENV})")
                told = holder
            time.sleep(POLL)
            continue
        return direct()


def hold_store(settings: Settings, *, log: Log = _stderr) -> None:
    """For the app: open (and so lock) the store before listening. Waits like a CLI write while an ingest
    holds it; exits when another app already serves this home."""
    from index.search import get_index
    from index.store.base import LockHolder, StoreBusyError, set_store_role

    set_store_role("serve")
    wait = store_wait_seconds()
    started = time.monotonic()
    told: LockHolder | None = None
    while True:
        try:
            get_index(settings)
            return
        except StoreBusyError as e:
            busy = e
        except Exception as e:  # e.g. a store server that is down: shown on first use, as before
            logging.getLogger(__name__).warning("the store could not be opened at start: %s", e)
            return
        app = live_app(settings)
        if app is not None:
            raise SystemExit(
                f"another app (briefing serve, pid {app.pid}) already serves {settings.home} at {app.url}"
            )
        holder = busy.holder or LockHolder()
        if holder.pid == os.getpid():  # open in this very process under other settings: no use waiting
            raise SystemExit(str(busy))
        if time.monotonic() - started >= wait:
            raise SystemExit(f"gave up waiting for the store after {wait:.0f} s: {holder.describe()}")
        if holder != told:
            log(f"waiting for the store: {holder.describe()}; giving up after {wait:.0f} s ({WAIT_ENV})")
            told = holder
        time.sleep(POLL)


# --- the commands, as the CLI calls them ------------------------------------------------------------------------


def status(settings: Settings) -> Output:
    return run(
        settings,
        "status",
        {},
        lambda: status_output(do_status(settings)),
        lambda result: status_output(result),
    )


def search(settings: Settings, query: str, *, k: int, filters: dict[str, str], mode: str | None) -> Output:
    from index.search import SearchHit

    return run(
        settings,
        "search",
        {"query": query, "k": k, "filters": filters, "mode": mode},
        lambda: search_output(do_search(settings, query, k, filters, mode)),
        lambda result: search_output([SearchHit.model_validate(h) for h in result]),
    )


def ask(settings: Settings, question: str, *, engine: str | None, filters: dict[str, str]) -> Output:
    return run(
        settings,
        "ask",
        {"question": question, "engine": engine, "filters": filters},
        lambda: do_ask(settings, question, engine, filters),
        lambda result: Output(result["data"], list(result["lines"])),
    )


def moties(settings: Settings, **filters: Any) -> Output:
    """``briefing moties``: ``filters`` are ``list_motions``'s (dossier, status, indiener, fractie, query,
    limit)."""
    from index.search import UnitHit

    body = MotiesBody(**filters).model_dump()
    return run(
        settings,
        "moties",
        body,
        lambda: moties_output(do_moties(settings, body)),
        lambda result: moties_output([UnitHit.model_validate(u) for u in result]),
    )


def draft(settings: Settings, topic: str, *, engine: str | None, filters: dict[str, str]) -> Any:
    """``briefing draft``: the ``Letter``, made here or by the running app."""
    from assistant.draft import Letter

    return run(
        settings,
        "draft",
        {"topic": topic, "engine": engine, "filters": filters},
        lambda: do_draft(settings, topic, engine, filters),
        Letter.from_json,
    )


def ingest(settings: Settings, paths: Sequence[Path], *, prune: bool) -> Output:
    from index.ingest import IngestSummary

    # The app has its own working directory: send absolute paths. A path that does not exist is reported
    # as given (files that exist are reported resolved either way), so map those back.
    given = {os.path.abspath(p): str(p) for p in paths if not Path(p).exists()}

    bar = _AppIngestBar()

    def from_app(result: dict[str, Any]) -> Output:
        bar.close()
        for s in result.get("skipped", []):
            s["path"] = given.get(s.get("path", ""), s.get("path", ""))
        return ingest_output(IngestSummary(**result))

    try:
        return run(
            settings,
            "ingest",
            {"paths": [os.path.abspath(p) for p in paths], "prune": prune},
            lambda: ingest_output(do_ingest(settings, paths, prune, progress=True)),
            from_app,
            on_progress=bar,
        )
    finally:
        bar.close()


class _AppIngestBar:
    """The bar a direct ``briefing ingest`` draws, drawn from the progress the app reports."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, progress: dict[str, Any]) -> None:
        from index.progress import progress_bar

        if self.bar is None:
            if not progress.get("units_total"):
                return  # the direct path shows no bar when nothing is to be embedded either
            self.bar = progress_bar(int(progress["units_total"]))
        if progress.get("doc_id"):
            self.bar.set_postfix_str(str(progress["doc_id"])[:40], refresh=False)
        self.bar.update(int(progress["units_done"]) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def delete(settings: Settings, doc_ids: Sequence[str]) -> Output:
    return run(
        settings,
        "delete",
        {"doc_ids": list(doc_ids)},
        lambda: delete_output(do_delete(settings, doc_ids)),
        lambda result: delete_output(result),
    )
