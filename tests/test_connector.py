"""The officielebekendmakingen connector against a local server replaying recorded responses (the real
site is outside this machine's reach; the replayed body is the real XML of a Handelingen item)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from corpus.connectors.officielebekendmakingen import FetchError, fetch_publication, normalise_identifier


@pytest.fixture
def replay_server(shared_corpus: Path):
    recorded = {
        "/h-tk-20172018-70-6.xml": (
            200,
            (shared_corpus / "handelingen" / "h-tk-20172018-70-6.xml").read_bytes(),
        ),
        "/kst-33763-141.xml": (200, b"<html><body>Onderhoud</body></html>"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            status, body = recorded.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_writes_the_publication_and_the_reader_reads_it(replay_server: str, tmp_path: Path) -> None:
    from corpus.loader import load_paths

    path = fetch_publication("h-tk-20172018-70-6", tmp_path, base_url=replay_server)
    assert path.name == "h-tk-20172018-70-6.xml"
    docs = list(load_paths([path]))
    assert len(docs) == 1 and docs[0].id == "h-tk-20172018-70-6" and docs[0].access == "openbaar"


def test_html_error_page_is_refused_and_nothing_written(replay_server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="kst-33763-141.*officiele-publicatie"):
        fetch_publication("Kamerstukken II 2017/18, 33763, nr. 141", tmp_path, base_url=replay_server)
    assert not list(tmp_path.iterdir())


def test_missing_publication_names_identifier_and_status(replay_server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"kst-30821-153.*HTTP 404"):
        fetch_publication("30821-153", tmp_path, base_url=replay_server)


def test_unreachable_host_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="could not be reached"):
        fetch_publication("kst-30821-153", tmp_path, base_url="http://127.0.0.1:9", timeout=2)


def test_identifier_forms() -> None:
    assert normalise_identifier("KST-33763-141") == "kst-33763-141"
    assert normalise_identifier("Kamerstuk 33763-141") == "kst-33763-141"
    with pytest.raises(FetchError):
        normalise_identifier("5 april 2018")
