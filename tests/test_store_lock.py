"""A refused command never breaks the process that holds the store, and the CLI works beside the app.

Real engine, real processes: a holder is a second Python process (or a real ``briefing serve``) that keeps
the Qdrant Edge store open and writes to it; the CLI runs as the ``briefing`` console script. Qdrant Edge
0.9 refuses a second opener only after it has touched the store's files, which breaks the holder's next
flush ("tracker_journal.dat is shorter than expected"); ``test_engine_refusal_alone_breaks_the_holder``
reproduces that, and every other test here would fail if the store's lock were taken after the engine call.
See docs/security-store.md.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import local_api
from corpus.settings import Settings
from index.store.base import LOCK_NAME, LockHolder, StoreBusyError
from index.store.edge import EdgeStore
from tests.conftest import REPO, TEST_CACHE

PY = sys.executable
BRIEFING = str(Path(sys.executable).with_name("briefing"))
APP_START_TIMEOUT = 180  # gradio import and launch on 2 shared cores
CLI_TIMEOUT = 600  # the first command that embeds loads the model

# A holder process: opens the store (taking its lock, as every opener does), writes and flushes, says
# "ready", waits for a line on stdin, then writes and flushes again and reports the count. Any exception
# (the engine's flush failure) goes to stderr and a non-zero exit.
HOLDER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from index.store.base import ChunkRecord, SparseVector, set_store_role
    from index.store.edge import EdgeStore

    def records(start, n, dim):
        return [
            ChunkRecord(
                id=f"00000000-0000-0000-0000-{{i:012d}}",
                dense=[1.0] + [float(i % 7)] * (dim - 1),
                sparse=SparseVector(indices=[i % 50], values=[1.0]),
                payload={{"doc_id": f"doc-{{i}}", "text": f"tekst {{i}}", "unit": "chunk", "access": "openbaar"}},
            )
            for i in range(start, start + n)
        ]

    path, dim = sys.argv[1], int(sys.argv[2])
    set_store_role("ingest")
    store = EdgeStore(path, dim=dim)
    store.add(records(0, 20, dim))
    store.flush()
    print("ready", flush=True)
    sys.stdin.readline()
    store.add(records(20, 20, dim))
    store.flush()
    print("count", store.count(), flush=True)
    store.close()
    """
).format(repo=str(REPO))

# The opener of the old code path: straight into the engine, no lock.
RAW_ENGINE_OPENER = textwrap.dedent(
    """
    import sys
    import qdrant_edge as qe
    try:
        qe.EdgeShard.load(sys.argv[1])
    except Exception as e:
        print("refused:", e)
    else:
        print("opened")
    """
)

# The opener of today's code: EdgeStore, as every command opens the store.
STORE_OPENER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from index.store.base import StoreBusyError
    from index.store.edge import EdgeStore
    try:
        EdgeStore(sys.argv[1], dim=int(sys.argv[2]))
    except StoreBusyError as e:
        print("busy", e.holder.pid if e.holder else None, e.holder.role if e.holder else None)
    else:
        print("opened")
    """
).format(repo=str(REPO))


@dataclass
class Holder:
    proc: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def finish(self) -> tuple[int, str, str]:
        """Let the holder write and flush again; its exit code, stdout and stderr."""
        out, err = self.proc.communicate("go\n", timeout=120)
        return self.proc.returncode, out, err


def _start_holder(path: Path, dim: int = 8) -> Holder:
    proc = subprocess.Popen(
        [PY, "-c", HOLDER, str(path), str(dim)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"holder did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return Holder(proc)


@pytest.fixture
def holder_factory() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for h in started:
        if h.proc.poll() is None:
            h.proc.kill()
            h.proc.wait()


# --- 1. a refused opener touches nothing -----------------------------------------------------------------------


def test_engine_refusal_alone_breaks_the_holder(tmp_path: Path) -> None:
    """Why the lock must come first: the engine's own refusal of a second process (the old code path)
    corrupts the holder. If this ever passes without the damage, the engine changed; the lock stays."""
    path = tmp_path / "edge"
    holder = _start_holder(path)
    opener = subprocess.run([PY, "-c", RAW_ENGINE_OPENER, str(path)], capture_output=True, text=True)
    assert "WouldBlock" in opener.stdout, opener.stdout + opener.stderr
    code, out, err = holder.finish()
    assert code != 0 and "shorter than expected" in err, (code, out, err[-2000:])


@pytest.mark.parametrize("where", ["other process", "this process"])
def test_refused_opener_leaves_the_holder_able_to_write(tmp_path: Path, where: str) -> None:
    path = tmp_path / "edge"
    holder = _start_holder(path)
    refusal: object = None
    try:
        if where == "other process":
            opener = subprocess.run(
                [PY, "-c", STORE_OPENER, str(path), "8"], capture_output=True, text=True, timeout=120
            )
            refusal = opener.stdout.split() or opener.stderr[-2000:]
        else:
            try:
                EdgeStore(path, dim=8).close()
            except StoreBusyError as e:
                refusal = e
        code, out, err = holder.finish()
    finally:
        if holder.proc.poll() is None:
            holder.proc.kill()
    # First the damage (what the engine-first order causes), then the refusal itself.
    assert code == 0, f"the holder broke after the refused opener: {err[-2000:]}"
    assert out.split() == ["count", "40"]
    if where == "other process":
        assert refusal == ["busy", str(holder.pid), "ingest"], refusal
    else:
        assert isinstance(refusal, StoreBusyError), refusal
        assert "in use: another ingest is running" in str(refusal)
        assert refusal.holder == LockHolder(pid=holder.pid, role="ingest")
    reopened = EdgeStore(path, dim=8)  # free again, and everything the holder wrote is there
    try:
        assert reopened.count() == 40
    finally:
        reopened.close()


def test_qdrant_client_local_mode_takes_the_same_lock(tmp_path: Path) -> None:
    """store = "qdrant" with a local path: the same lock, before the client opens the folder, so a second
    opener gets StoreBusyError naming the holder (not the client's own error) and the holder goes on."""
    from index.store.base import ChunkRecord, SparseVector, set_store_role
    from index.store.qdrant import QdrantStore

    def records(start: int, n: int) -> list[ChunkRecord]:
        return [
            ChunkRecord(
                id=f"00000000-0000-0000-0000-{i:012d}",
                dense=[1.0] + [float(i % 7)] * 7,
                sparse=SparseVector(indices=[i % 50], values=[1.0]),
                payload={"doc_id": f"doc-{i}", "text": f"tekst {i}", "unit": "chunk", "access": "openbaar"},
            )
            for i in range(start, start + n)
        ]

    path = tmp_path / "local"
    set_store_role("ingest")
    try:
        first = QdrantStore(path=path, dim=8)
        first.add(records(0, 10))
        with pytest.raises(StoreBusyError, match="in use: another ingest is running") as refused:
            QdrantStore(path=path, dim=8)
        assert refused.value.holder == LockHolder(pid=os.getpid(), role="ingest")
        assert "qdrant-client local mode" in str(refused.value)
        other = subprocess.run(
            [
                PY,
                "-c",
                STORE_OPENER.replace(
                    "EdgeStore(sys.argv[1], dim=int(sys.argv[2]))",
                    "QdrantStore(path=sys.argv[1], dim=int(sys.argv[2]))",
                ).replace(
                    "from index.store.edge import EdgeStore", "from index.store.qdrant import QdrantStore"
                ),
                str(path),
                "8",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert other.stdout.split() == ["busy", str(os.getpid()), "ingest"], (
            other.stdout + other.stderr[-2000:]
        )
        first.add(records(10, 10))  # the refused openers left the holder working
        assert first.count() == 20
        first.close()
    finally:
        set_store_role(None)
    again = QdrantStore(path=path, dim=8)  # closing released the lock; the data is there
    try:
        assert again.count() == 20
    finally:
        again.close()


def test_lock_file_is_private_and_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    holder = _start_holder(path)
    try:
        lock = path / LOCK_NAME
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert json.loads(lock.read_text()) == {"pid": holder.pid, "role": "ingest"}
    finally:
        holder.finish()


# --- 2. the local API's guard ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("172.17.0.1", False),
        ("::ffff:10.0.0.5", False),
        ("2001:db8::1", False),
        ("0.0.0.0", False),
        ("localhost", False),  # the server reports addresses; a name is never resolved and trusted
        ("testclient", False),
        ("", False),
        (None, False),
    ],
)
def test_only_loopback_clients(host: str | None, ok: bool) -> None:
    assert local_api.is_loopback_client(host) is ok


def test_request_check() -> None:
    token = local_api.new_token()
    good = {"authorization": f"Bearer {token}"}
    assert local_api.check_request("127.0.0.1", good, token) is None
    assert local_api.check_request("10.0.0.5", good, token) == (
        403,
        "the local API answers loopback clients only",
    )
    assert local_api.check_request("127.0.0.1", {**good, "origin": "http://evil.example"}, token)[0] == 403
    assert local_api.check_request("127.0.0.1", {}, token)[0] == 401
    assert local_api.check_request("127.0.0.1", {"authorization": "Bearer wrong"}, token)[0] == 401
    assert local_api.check_request("127.0.0.1", {"authorization": token}, token)[0] == 401  # no scheme
    assert local_api.check_request("127.0.0.1", {"authorization": f"Basic {token}"}, token)[0] == 401
    assert not local_api.token_matches("", "")  # an app without a token admits nobody
    assert not local_api.token_matches(token[:-1], token)


def test_routes_refuse_non_loopback_and_bad_tokens(tmp_path: Path) -> None:
    """The guard as wired on FastAPI routes; the peer address is the test client's."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    token = local_api.new_token()
    app = FastAPI(routes=local_api.routes(Settings(home=tmp_path / "home"), token))
    auth = {"Authorization": f"Bearer {token}"}
    local = TestClient(app, client=("127.0.0.1", 50000))
    assert local.get("/local/ping", headers=auth).json()["pid"] == os.getpid()
    assert local.get("/local/ping").status_code == 401
    assert local.get("/local/ping", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert local.post("/local/status", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert local.get("/local/ping", headers={**auth, "Origin": "http://127.0.0.1:7860"}).status_code == 403
    remote = TestClient(app, client=("192.168.1.20", 50000))
    assert remote.get("/local/ping", headers=auth).status_code == 403
    assert remote.post("/local/delete", headers=auth, json={"doc_ids": ["x"]}).status_code == 403


# --- serve.json ---------------------------------------------------------------------------------------------------


def _dead_pid() -> int:
    p = subprocess.Popen([PY, "-c", "pass"])
    p.wait()
    return p.pid


def test_serve_file_is_private_and_stale_ones_are_ignored(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    info = local_api.write_serve_file(settings, "http://127.0.0.1:1", "t0ken")
    path = local_api.serve_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_api.read_serve_file(settings) == info
    # A killed app leaves its file behind: a dead pid means no app.
    path.write_text(json.dumps({"pid": _dead_pid(), "url": "http://127.0.0.1:1", "token": "t"}))
    os.chmod(path, 0o600)
    assert local_api.read_serve_file(settings) is None
    # The token never goes off this machine, and a file others could have written is not trusted.
    path.write_text(json.dumps({"pid": os.getpid(), "url": "http://10.0.0.5:7860", "token": "t"}))
    assert local_api.read_serve_file(settings) is None
    path.write_text(json.dumps({"pid": os.getpid(), "url": "http://127.0.0.1:1", "token": "t"}))
    os.chmod(path, 0o644)
    assert local_api.read_serve_file(settings) is None
    os.chmod(path, 0o600)
    assert local_api.read_serve_file(settings) is not None
    # Withdrawing removes only our own announcement.
    local_api.remove_serve_file(settings, info)
    assert path.exists()
    local_api.remove_serve_file(settings, local_api.ServeInfo(pid=os.getpid(), url="", token="t"))
    assert not path.exists()


# --- 3. the CLI beside a running app, and beside another ingest ------------------------------------------------------

DOC_TEXT = (
    "De minister van Defensie meldt dat de kustwacht vanaf 2026 drones inzet boven de Waddenzee om illegale "
    "visserij op te sporen.\n"
)
UPLOAD_TEXT = "Het kabinet investeert veertig miljoen euro in nieuwe patrouilleschepen voor de Noordzee.\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, models_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(
        BRIEFING_HOME=str(home),
        BRIEFING_MODELS=str(models_dir),
        # Shared with the rest of the suite: a rerun embeds nothing.
        BRIEFING_EMBEDDING_CACHE=str(TEST_CACHE / "embeddings.sqlite"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **extra,
    )
    return env


def _cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BRIEFING, *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=cwd
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}"
    )
    return proc.stdout


@dataclass
class RunningApp:
    proc: subprocess.Popen[str]
    home: Path
    corpus: Path
    env: dict[str, str]
    url: str
    log: Path
    outputs: dict[str, str]  # what commands printed through the app, to compare with the direct path later


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[RunningApp]:
    """A real `briefing serve` on a free loopback port, with an empty home."""
    base = tmp_path_factory.mktemp("store-lock-app")
    home, corpus = base / "home", base / "corpus"
    corpus.mkdir()
    (corpus / "kustwacht.txt").write_text(DOC_TEXT, encoding="utf-8")
    env = _env(home, models_dir)
    port = _free_port()
    log = base / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [BRIEFING, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    running = RunningApp(proc, home, corpus, env, f"http://127.0.0.1:{port}", log, {})
    try:
        settings = Settings(home=home)
        deadline = time.monotonic() + APP_START_TIMEOUT
        while local_api.live_app(settings) is None:
            assert proc.poll() is None, f"the app ended: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the app did not start: {log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_app_announces_itself_privately(app: RunningApp) -> None:
    path = app.home / local_api.SERVE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["pid"] == app.proc.pid and data["url"] == app.url and len(data["token"]) >= 32
    lock = json.loads((app.home / "store" / "edge" / LOCK_NAME).read_text())
    assert lock == {"pid": app.proc.pid, "role": "serve"}


@pytest.mark.slow
def test_cli_ingest_status_search_ask_beside_the_app(app: RunningApp) -> None:
    proc = _cli(app.env, "ingest", str(app.corpus), "--json")
    summary = json.loads(_ok(proc))
    assert "runs in the app" in proc.stderr
    assert (
        summary["documents"] == 1 and summary["added"] + summary["unchanged"] == 1 and not summary["skipped"]
    )

    status = json.loads(_ok(_cli(app.env, "status", "--json")))
    assert status["documents"] == 1 and status["incomplete"] == [] and status["store"] == "qdrant-edge"

    app.outputs["search-json"] = _ok(_cli(app.env, "search", "drones boven de Waddenzee", "--json"))
    hits = json.loads(app.outputs["search-json"])
    assert hits and hits[0]["doc_id"] == "kustwacht"
    app.outputs["search-text"] = _ok(_cli(app.env, "search", "drones boven de Waddenzee"))
    app.outputs["search-none"] = _ok(_cli(app.env, "search", "drones", "--filter", "doc_id=bestaat-niet"))

    answer = json.loads(_ok(_cli(app.env, "ask", "Wat zet de kustwacht in boven de Waddenzee?", "--json")))
    assert "drones" in json.dumps(answer, ensure_ascii=False)

    # A second ingest of the same folder: nothing changed (kept to compare with the direct path).
    again = _cli(app.env, "ingest", str(app.corpus), "--json", "missing-folder")
    app.outputs["ingest-again"] = _ok(again)
    bad = _cli(app.env, "search", "x", "--filter", "colour=blue")
    assert bad.returncode == 1 and "unknown filter 'colour'" in bad.stderr
    app.outputs["bad-filter"] = bad.stderr


@pytest.mark.slow
def test_refused_opener_beside_the_app_leaves_uploads_working(app: RunningApp) -> None:
    """The failure of the issue: a refused opener beside the app, then an upload in the app."""
    opener = subprocess.run(
        [PY, "-c", STORE_OPENER, str(app.home / "store" / "edge"), "768"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert opener.stdout.split() == ["busy", str(app.proc.pid), "serve"], opener.stdout + opener.stderr

    from gradio_client import Client, handle_file

    upload = app.home.parent / "patrouilleschepen.txt"
    upload.write_text(UPLOAD_TEXT, encoding="utf-8")
    client = Client(app.url, verbose=False)
    html, *_ = client.predict([handle_file(str(upload))], "openbaar", False, api_name="/on_upload")
    assert "geïndexeerd" in html, html

    hits = json.loads(_ok(_cli(app.env, "search", "patrouilleschepen Noordzee", "--json")))
    assert hits[0]["doc_id"] == "patrouilleschepen"
    removed = json.loads(_ok(_cli(app.env, "delete", "patrouilleschepen")))
    assert set(removed["deleted"]) == {"patrouilleschepen"}
    status = json.loads(_ok(_cli(app.env, "status", "--json")))
    assert status["documents"] == 1 and status["incomplete"] == []


@pytest.mark.slow
def test_moties_and_draft_beside_the_app(app: RunningApp, tmp_path: Path) -> None:
    """`briefing moties` and `briefing draft` read the store too: through the app while it runs (both were
    refused before); the last test compares what they print with the direct path."""
    from tests.test_units import KAMERSTUK_MOTIE

    folder = tmp_path / "moties"
    folder.mkdir()
    (folder / "kst-99001-17.xml").write_text(KAMERSTUK_MOTIE, encoding="utf-8")
    _ok(_cli(app.env, "ingest", str(folder), "--json"))

    [motion] = json.loads(_ok(_cli(app.env, "moties", "--dossier", "99001", "--json")))
    assert motion["id"] == "99001-17" and motion["indieners"][:1] == ["Jansen"], motion
    assert "verzoekt de regering een fonds" in motion["dictum"]
    text = _ok(_cli(app.env, "moties", "--query", "fonds voor proefvoorzieningen"))
    assert "Kamerstukken II 2019/20, 99001, nr. 17" in text and "ingediend door Jansen" in text, text
    assert _ok(_cli(app.env, "moties", "--status", "aangenomen")) == "Geen moties gevonden.\n"

    removed = json.loads(_ok(_cli(app.env, "delete", motion["doc_id"])))
    assert set(removed["deleted"]) == {motion["doc_id"]}
    app.outputs["moties-json"] = _ok(_cli(app.env, "moties", "--json"))
    assert json.loads(app.outputs["moties-json"]) == []

    docx = tmp_path / "brief.docx"
    app.outputs["draft-json"] = _ok(
        _cli(app.env, "draft", "drones boven de Waddenzee", "--json", "--docx", str(docx))
    )
    letter = json.loads(app.outputs["draft-json"])
    assert letter["title"] == "Kamerbrief over drones boven de Waddenzee"
    assert "drones" in json.dumps(letter["sections"], ensure_ascii=False)
    assert docx.stat().st_size > 0


@pytest.mark.slow
def test_local_api_refuses_missing_and_wrong_tokens(app: RunningApp) -> None:
    import urllib.error
    import urllib.request

    token = json.loads((app.home / local_api.SERVE_FILE).read_text())["token"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def code(headers: dict[str, str]) -> int:
        req = urllib.request.Request(f"{app.url}/local/status", data=b"{}", method="POST", headers=headers)
        try:
            with opener.open(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert code({}) == 401
    assert code({"Authorization": "Bearer " + "x" * len(token)}) == 401
    assert code({"Authorization": f"Bearer {token}", "Origin": "http://evil.example"}) == 403
    assert code({"Authorization": f"Bearer {token}"}) == 200


@pytest.mark.slow
def test_stopping_the_app_withdraws_it_and_the_cli_prints_the_same_directly(app: RunningApp) -> None:
    """Runs last in this module: stops the app (SIGTERM), then the same commands run directly and print
    exactly what they printed through the app."""
    assert app.outputs, "runs after test_cli_ingest_status_search_ask_beside_the_app"
    app.proc.send_signal(signal.SIGTERM)
    assert app.proc.wait(timeout=60) == 0, app.log.read_text()[-3000:]
    assert not (app.home / local_api.SERVE_FILE).exists()
    assert _ok(_cli(app.env, "search", "drones boven de Waddenzee", "--json")) == app.outputs["search-json"]
    assert _ok(_cli(app.env, "search", "drones boven de Waddenzee")) == app.outputs["search-text"]
    assert (
        _ok(_cli(app.env, "search", "drones", "--filter", "doc_id=bestaat-niet"))
        == app.outputs["search-none"]
    )
    again = json.loads(_ok(_cli(app.env, "ingest", str(app.corpus), "--json", "missing-folder")))
    via_app = json.loads(app.outputs["ingest-again"])
    assert {**again, "seconds": 0} == {**via_app, "seconds": 0}
    assert via_app["skipped"] == [{"path": "missing-folder", "reason": "file or folder does not exist"}]
    bad = _cli(app.env, "search", "x", "--filter", "colour=blue")
    assert bad.returncode == 1 and bad.stderr == app.outputs["bad-filter"]
    assert _ok(_cli(app.env, "moties", "--json")) == app.outputs["moties-json"]
    assert _ok(_cli(app.env, "draft", "drones boven de Waddenzee", "--json")) == app.outputs["draft-json"]
    status = json.loads(_ok(_cli(app.env, "status", "--json")))
    assert status["documents"] == 1 and status["incomplete"] == []


@pytest.fixture
def busy_home(
    tmp_path: Path, models_dir: Path, holder_factory: list[Holder]
) -> tuple[Path, Holder, dict[str, str]]:
    """A home whose store another ingest holds (a holder process with role "ingest"), and no app."""
    home = tmp_path / "home"
    holder = _start_holder(home / "store" / "edge", dim=768)
    holder_factory.append(holder)
    return home, holder, _env(home, models_dir)


def test_reads_fail_clearly_while_another_ingest_holds_the_store(
    busy_home: tuple[Path, Holder, dict[str, str]],
) -> None:
    home, holder, env = busy_home
    # A stale announcement of a killed app is ignored, not tried.
    (home / local_api.SERVE_FILE).write_text(
        json.dumps({"pid": _dead_pid(), "url": "http://127.0.0.1:9", "token": "t"})
    )
    os.chmod(home / local_api.SERVE_FILE, 0o600)
    for args in (["status", "--json"], ["search", "drones", "--json"]):
        proc = _cli(env, *args)
        assert proc.returncode == 1 and proc.stdout == ""
        assert f"another ingest is running (pid {holder.pid})" in proc.stderr, proc.stderr
        assert "no running app" in proc.stderr and "Traceback" not in proc.stderr
    code, out, err = holder.finish()
    assert code == 0 and out.split() == ["count", "40"], err[-2000:]


@pytest.mark.slow
def test_write_waits_for_another_ingest_then_runs(busy_home: tuple[Path, Holder, dict[str, str]]) -> None:
    home, holder, env = busy_home
    folder = home.parent / "corpus"
    folder.mkdir()
    (folder / "kustwacht.txt").write_text(DOC_TEXT, encoding="utf-8")
    proc = subprocess.Popen(
        [BRIEFING, "ingest", str(folder), "--json"],
        env={**env, local_api.WAIT_ENV: "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith(f"waiting for the store: another ingest is running (pid {holder.pid})"), first
        time.sleep(1.0)
        assert proc.poll() is None, "the ingest gave up instead of waiting"
        code, out, err = holder.finish()  # the holder writes and flushes undisturbed, then lets go
        assert code == 0 and out.split() == ["count", "40"], err[-2000:]
        stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout)
    assert summary["documents"] == 1 and summary["added"] == 1 and not summary["skipped"]
    # The holder's 40 points (no manifest: taken for debris of a killed run and cleaned) and the new document.
    status = json.loads(_ok(_cli(env, "status", "--json")))
    assert status["documents"] == 1 and status["incomplete"] == []


def test_write_gives_up_after_the_wait(busy_home: tuple[Path, Holder, dict[str, str]]) -> None:
    home, holder, env = busy_home
    started = time.monotonic()
    proc = _cli({**env, local_api.WAIT_ENV: "1"}, "delete", "some-doc")
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"waiting for the store: another ingest is running (pid {holder.pid})" in proc.stderr
    assert "gave up waiting for the store after 1 s" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 60
    code, out, err = holder.finish()
    assert code == 0 and out.split() == ["count", "40"], err[-2000:]


def test_a_store_open_in_this_process_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open here under other settings (another collection, same folder): waiting would wait for ourselves."""
    from index.search import close_indexes, get_index

    monkeypatch.setenv(local_api.WAIT_ENV, "600")
    get_index(Settings(home=tmp_path / "home", collection="a"))
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="in use"):
            local_api.delete(Settings(home=tmp_path / "home", collection="b"), ["x"])
        assert time.monotonic() - started < 10
    finally:
        close_indexes()
