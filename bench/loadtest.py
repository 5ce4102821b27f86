"""The app under load, through its own web API on loopback, in two modes.

    .venv/bin/python bench/loadtest.py [--users 20] [--seconds 60] [--corpus ../shared/corpus] [--json OUT]
    .venv/bin/python bench/loadtest.py --sweep [--users 1,4,16] [--seconds 40] [--cache FILE] [--json OUT]
    .venv/bin/python bench/loadtest.py --sweep --quick --json /tmp/load.json     # smoke test, demo nota

Both start ``briefing serve`` on a free loopback port with three accounts (two public, one internal) over
the corpus (ingested beforehand; the embedding cache, in the home or at ``--cache``, makes a rerun cheap).
Every simulated user is a logged-in Gradio client with its own session. Checked per answer in both modes:
the request did not fail; the conversation returned is this client's own (its turns are exactly the
questions it asked, in order); a public user's sources hold no internal document.

Issue 11 (default; ``make loadtest``): ``--users`` threads ask gold-set questions for ``--seconds`` while
``briefing ingest`` of a few extra documents runs beside them through the app. Home ``build/loadtest-home``.

Issue 12, benchmark 5 (``--sweep``; ``make bench``): requests per second and latency of ``ask`` with 1, 4
and 16 concurrent users, ``--seconds`` each, no ingest. Home ``build/load-home`` (the shared corpus only).
The app gets an empty embedding cache of its own, emptied again between steps, and the users draw gold
questions (answerable and not) from one shuffled deck, so every question is new to the app as a real
user's would be; each user starts a new conversation every 5 questions. What limits it is measured beside:
the app's CPU time per answer and the cores it keeps busy, the whole machine's busy cores (these machines
are shared) and the simulated users' own CPU.

Not part of ``make test``; a smoke test runs ``--sweep --quick``. Writes the common result
(bench/common.py); exits non-zero on a failed request, a mixed session or a leak.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import random
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Result, summary_ms  # noqa: E402

ACCOUNTS = {"intern": "intern", "publiek1": "openbaar", "publiek2": "openbaar"}
PASSWORD = "loadtest-wachtwoord-{name}"
INTERNAL_DOC = "nota-4730561"
EXTRA = [
    ("kustwacht.txt", "Kustwacht\n\nDe kustwacht zet sinds 2024 drones in boven de Waddenzee."),
    ("patrouille.txt", "Patrouille\n\nTwee nieuwe patrouilleschepen varen vanaf 2026 op de Noordzee."),
    ("havens.txt", "Havens\n\nDe havens van Rotterdam en Amsterdam delen sinds 2025 hun camerabeelden."),
]
TURNS_PER_CONVERSATION = 5  # sweep mode: a user's session, then "Nieuw gesprek"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(home: Path) -> None:
    from assistant.auth import hash_password

    lines = []
    for name, role in ACCOUNTS.items():
        h = hash_password(PASSWORD.format(name=name), rounds=4)
        lines += ["[[users]]", f'name = "{name}"', f'password_hash = "{h}"', f'role = "{role}"', ""]
    (home / "briefing.toml").write_text("\n".join(lines), encoding="utf-8")


def _questions(answerable_only: bool) -> list[str]:
    from eval.gold import load_gold

    return [i.question for i in load_gold(ROOT / "eval" / "qa") if i.answerable or not answerable_only]


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all cores, every process)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


def _own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@contextlib.contextmanager
def serving(home: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """`briefing serve` on a free loopback port, up and answering logins; stopped on exit."""
    from gradio_client import Client

    port = _free_port()
    log = (home / "serve.log").open("w")
    cli = str(Path(sys.executable).with_name("briefing"))
    app = subprocess.Popen([cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                Client(url, auth=("intern", PASSWORD.format(name="intern")), verbose=False)
                break
            except Exception:
                if app.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"the app did not start: {(home / 'serve.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(1)
        yield url, app
    finally:
        app.terminate()
        try:
            app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds
    failures: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def ask_once(client: Any, name: str, q: str, chat: list, asked: list[str], tally: Tally) -> list:
    """One question through the app's ask endpoint, checked; returns the new chat."""
    t = time.perf_counter()
    try:
        chat, sources, *_ = client.predict(q, chat, "alle", "", "", "", api_name="/on_ask")
    except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
        with tally.lock:
            tally.failures.append(f"{name}: {type(e).__name__}: {e}"[:300])
        return chat
    took = time.perf_counter() - t
    asked.append(q)
    # The session's own turns, kept server-side: their number and earlier questions must be exactly this
    # client's.
    turns = re.search(r'data-beurten="(\d+)"', sources or "")
    earlier = [html.escape(x) for x in asked[:-1]]
    own = turns is not None and int(turns.group(1)) == len(asked)
    own = own and all(f": {e}</summary>" in sources for e in earlier[-3:])
    with tally.lock:
        tally.latencies.append(took)
        if not own:
            tally.mixed.append(f"{name}: turn {len(asked)}, panel says {turns.group(1) if turns else None}")
        if ACCOUNTS[name] == "openbaar" and INTERNAL_DOC in (sources or ""):
            tally.leaks.append(f"{name}: {q!r}")
    return chat


def prepare(home: Path, corpus: Path, cache: Path | None) -> tuple[dict[str, str], float]:
    """Ingest the corpus into ``home`` (before the app starts: it must hold the store) and write the logins."""
    from corpus.settings import Settings
    from index.ingest import ingest_paths
    from index.search import close_indexes

    home.mkdir(parents=True, exist_ok=True)
    _write_config(home)
    os.environ["BRIEFING_HOME"] = str(home)
    t0 = time.perf_counter()
    settings = Settings(home=home, **({"embedding_cache": cache} if cache else {}))
    ingest_paths([corpus], settings, progress=False)
    close_indexes()
    return {**os.environ, "BRIEFING_HOME": str(home)}, time.perf_counter() - t0


# --- issue 11: users during an ingest ------------------------------------------------------------------------


def run_during_ingest(args: argparse.Namespace) -> int:
    res = Result("loadtest")
    users = int(args.users)
    home = (args.home or ROOT / "build" / "loadtest-home").resolve()
    env, setup_s = prepare(home, args.corpus, args.cache)
    if args.cache:
        env["BRIEFING_EMBEDDING_CACHE"] = str(args.cache.resolve())
    extra_dir = home.parent / "loadtest-extra"
    extra_dir.mkdir(exist_ok=True)
    for name, text in EXTRA:
        (extra_dir / name).write_text(text, encoding="utf-8")
    cli = str(Path(sys.executable).with_name("briefing"))
    questions = _questions(answerable_only=True)
    tally = Tally()
    with serving(home, env) as (url, _app):
        from gradio_client import Client

        stop = time.monotonic() + args.seconds

        def user(n: int) -> None:
            name = list(ACCOUNTS)[n % len(ACCOUNTS)]
            rnd = random.Random(n)
            client = Client(url, auth=(name, PASSWORD.format(name=name)), verbose=False)
            asked: list[str] = []
            chat: list = []
            while time.monotonic() < stop:
                chat = ask_once(client, name, rnd.choice(questions), chat, asked, tally)

        threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(min(5.0, args.seconds / 4))
        ingest = subprocess.run(
            [cli, "ingest", str(extra_dir), "--json"], env=env, capture_output=True, text=True
        )
        for t in threads:
            t.join(timeout=args.seconds + 600)
        elapsed = time.perf_counter() - started

    ingest_ok = ingest.returncode == 0 and not json.loads(ingest.stdout or "{}").get("skipped")
    lat = summary_ms(tally.latencies)
    rps = len(tally.latencies) / elapsed if elapsed else 0.0
    res.table(
        f"{users} users for {args.seconds:.0f} s, an ingest through the app meanwhile",
        [
            "requests",
            "failed",
            "mixed sessions",
            "leaks",
            "ingest ok",
            "answers/s",
            "p50 ms",
            "p95 ms",
            "max ms",
        ],
        [
            [
                lat["n"],
                len(tally.failures),
                len(tally.mixed),
                len(tally.leaks),
                ingest_ok,
                round(rps, 2),
                lat["p50"],
                lat["p95"],
                round(max(tally.latencies, default=0) * 1000),
            ]
        ],
    )
    ok = not tally.failures and not tally.mixed and not tally.leaks and ingest_ok
    res.target(
        "load_isolation",
        "under load: no failed request, mixed session or leak; the ingest goes through the app (issue 11)",
        "0 / 0 / 0, ingest ok",
        f"{len(tally.failures)} / {len(tally.mixed)} / {len(tally.leaks)}, ingest {'ok' if ingest_ok else 'failed'}",
        ok,
        "" if ok else "See the examples in the notes.",
    )
    res.notes.append(f"setup (ingest of {args.corpus}) {setup_s:.1f} s")
    res.notes += [*tally.failures[:5], *tally.mixed[:5], *tally.leaks[:5]]
    if not ingest_ok:
        res.notes.append(f"ingest: {ingest.stderr[-500:]}")
    res.write(args.json_out)
    return 0 if ok else 1


# --- issue 12: a sweep over concurrent users ---------------------------------------------------------------


class Step:
    """One step of the sweep: its users share a shuffled deck of questions and start together."""

    def __init__(self, deck: list[str], users: int) -> None:
        order = random.Random(users).sample(deck, len(deck))
        self._draw = iter(order * 10)  # no question repeats until every one was asked
        self._lock = threading.Lock()
        self.tally = Tally()
        self.ready = threading.Barrier(users + 1)
        self.stop_at = float("inf")

    def question(self) -> str:
        with self._lock:
            return next(self._draw)


def sweep_user(n: int, url: str, step: Step) -> None:
    from gradio_client import Client

    name = list(ACCOUNTS)[n % len(ACCOUNTS)]
    client = Client(url, auth=(name, PASSWORD.format(name=name)), verbose=False)
    step.ready.wait()  # logins are not part of the step
    asked: list[str] = []
    chat: list = []
    while time.monotonic() < step.stop_at:
        if len(asked) == TURNS_PER_CONVERSATION:
            client.predict(api_name="/on_new")
            asked, chat = [], []
        chat = ask_once(client, name, step.question(), chat, asked, step.tally)


def run_sweep(args: argparse.Namespace) -> int:
    res = Result("load")
    steps = [int(u) for u in str(args.users).split(",")]
    home = (args.home or ROOT / "build" / "load-home").resolve()
    env, setup_s = prepare(home, args.corpus, args.cache)
    # The app's own, empty cache: document vectors are in the store already, so it holds question vectors
    # only, and emptying it between steps makes every question new again.
    query_cache = home / "cache" / "load-queries.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{query_cache}{suffix}").unlink(missing_ok=True)
    env["BRIEFING_EMBEDDING_CACHE"] = str(query_cache)
    deck = _questions(answerable_only=False)
    rows: list[list[Any]] = []
    all_tallies: list[Tally] = []
    measured: list[dict[str, float]] = []
    with serving(home, env) as (url, app):
        from gradio_client import Client

        warm = Client(url, auth=("intern", PASSWORD.format(name="intern")), verbose=False)
        ask_once(
            warm, "intern", "Waarom is er geen Planbureau voor de Veiligheid opgericht?", [], [], Tally()
        )
        for users in steps:
            with contextlib.closing(sqlite3.connect(query_cache, timeout=30)) as db:
                db.execute("DELETE FROM embeddings")
                db.commit()
            step = Step(deck, users)
            threads = [
                threading.Thread(target=sweep_user, args=(n, url, step), daemon=True) for n in range(users)
            ]
            for t in threads:
                t.start()
            step.ready.wait()
            step.stop_at = time.monotonic() + args.seconds
            app_cpu0, busy0, own0, t0 = (
                _process_cpu_s(app.pid),
                _machine_busy_s(),
                _own_cpu_s(),
                time.monotonic(),
            )
            for t in threads:
                t.join(timeout=args.seconds + 600)
            wall = time.monotonic() - t0
            app_cpu = _process_cpu_s(app.pid) - app_cpu0
            busy = _machine_busy_s() - busy0
            own = _own_cpu_s() - own0
            tally = step.tally
            lat = summary_ms(tally.latencies)
            n = lat["n"]
            m = {
                "users": users,
                "wall": wall,
                "app_cpu_s": app_cpu,
                "rps": n / wall,
                "p50": lat["p50"],
                "p95": lat["p95"],
                "app_cores": app_cpu / wall,
                "app_cpu_ms": app_cpu / max(n, 1) * 1000,
                "machine_cores": busy / wall,
                "client_cores": own / wall,
            }
            measured.append(m)
            all_tallies.append(tally)
            rows.append(
                [
                    users,
                    n,
                    len(tally.failures),
                    round(m["rps"], 2),
                    lat["p50"],
                    lat["p95"],
                    round(max(tally.latencies, default=0) * 1000),
                    round(m["app_cpu_ms"]),
                    round(m["app_cores"], 2),
                    round(m["client_cores"], 2),
                    round(m["machine_cores"], 2),
                ]
            )
            print(f"{users} users: {n} answers, {m['rps']:.2f}/s, p95 {lat['p95']:.0f} ms", file=sys.stderr)

    cores = os.cpu_count() or 1
    res.table(
        f"`ask` through the app, {args.seconds:.0f} s per step, {args.corpus.name}/, every question new",
        [
            "users",
            "answers",
            "failed",
            "answers/s",
            "p50 ms",
            "p95 ms",
            "max ms",
            "app CPU ms/answer",
            "app cores busy",
            "users' cores busy",
            "machine cores busy",
        ],
        rows,
    )
    failures = [f for t in all_tallies for f in t.failures]
    mixed = [x for t in all_tallies for x in t.mixed]
    leaks = [x for t in all_tallies for x in t.leaks]
    ok = not failures and not mixed and not leaks
    res.target(
        "load_isolation",
        "under load: no failed request, mixed session or leak",
        "0 / 0 / 0",
        f"{len(failures)} / {len(mixed)} / {len(leaks)}",
        ok,
        "" if ok else "See the examples in the notes.",
    )
    answers = sum(m["rps"] * m["wall"] for m in measured)
    if answers:
        # Read by run_all.py's scale-out estimate.
        demand = sum(m["app_cpu_s"] for m in measured) / answers * 1000
        res.table(
            "Figures for the scale-out estimate",
            ["figure", "value", "unit"],
            [
                ["app_cpu_ms_per_answer", round(demand, 1), "ms of the app's CPU an answer, all steps"],
                ["max_answers_per_s", round(max(m["rps"] for m in measured), 2), "answers/s, best step"],
            ],
        )
    res.notes += limits(measured, cores)
    res.notes.append(
        f"Setup: ingest of {args.corpus} into {home} {setup_s:.1f} s; the app's CONCURRENCY (answers served at "
        "once) is 4 and one embedding runs at a time per model (a lock), the rest queue."
    )
    res.notes += [*failures[:5], *mixed[:5], *leaks[:5]]
    res.write(args.json_out)
    return 0 if ok else 1


def limits(measured: list[dict[str, float]], cores: int) -> list[str]:
    """What limits throughput, read from the figures: the app's CPU per answer against the cores there are,
    and whether the cores went to the app or to other work on this shared machine."""
    answers = sum(m["rps"] * m["wall"] for m in measured)
    if not answers:
        return ["No answers: nothing to say about limits."]
    demand = sum(m["app_cpu_s"] for m in measured) / answers * 1000  # ms of app CPU an answer
    ceiling = cores * 1000 / demand
    one, top = measured[0], max(measured, key=lambda m: m["users"])
    notes = [
        f"An answer costs the app {demand:.0f} ms of CPU (all steps), so {cores} cores carry at most "
        f"~{ceiling:.1f} answers/s. Measured: {one['rps']:.2f}/s with {one['users']:.0f} user(s), "
        f"{top['rps']:.2f}/s with {top['users']:.0f}; p95 {one['p95']:.0f} ms against {top['p95']:.0f} ms."
    ]
    if top["app_cores"] >= 0.8 * cores:
        notes.append(
            f"Limit: CPU. With {top['users']:.0f} users the app kept {top['app_cores']:.2f} of {cores} cores "
            "busy, and most of an answer's CPU is its two question embeddings (model passes, one at a time; "
            "the `ask` bench times one beside the whole answer), so more users only queue. Next step: a faster query embedding "
            "(the levers bench) raises the ceiling directly; beyond that, one app replica per 2 cores."
        )
    elif top["machine_cores"] >= 0.85 * cores:
        notes.append(
            f"Limit: the machine was busy with other work ({top['machine_cores']:.2f} of {cores} cores busy, "
            f"{top['app_cores']:.2f} of them the app's, {top['client_cores']:.2f} the simulated users'): these "
            "answers/s are a lower bound. Next step: rerun on an idle machine (`make bench` does)."
        )
    else:
        notes.append(
            f"Limit: not CPU ({top['machine_cores']:.2f} of {cores} cores busy at {top['users']:.0f} users) "
            "but serialisation in the app: 4 answers at once (Gradio's queue), one embedding at a time."
        )
    return notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", action="store_true", help="issue 12: 1, 4, 16 users, no ingest")
    ap.add_argument("--users", default=None, help="users (issue 11, default 20) or a list (sweep, 1,4,16)")
    ap.add_argument("--seconds", type=float, default=None, help="run (issue 11, 60) or step (sweep, 40)")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument(
        "--cache", type=Path, default=None, help="embedding cache of the corpus (default: in home)"
    )
    ap.add_argument("--quick", action="store_true", help="the demo nota, 1 and 2 users, 6 s a step")
    ap.add_argument("--json", dest="json_out", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.quick:  # whatever else was asked: the smoke test and `run_all.py --quick` need it short
        args.corpus = ROOT / "corpus" / "documents"
        args.users = "1,2" if args.sweep else "2"
        args.seconds = 6.0
    if args.sweep:
        args.users = args.users or "1,4,16"
        args.seconds = args.seconds or 40.0
        return run_sweep(args)
    args.users = args.users or "20"
    args.seconds = args.seconds or 60.0
    return run_during_ingest(args)


if __name__ == "__main__":
    sys.exit(main())
