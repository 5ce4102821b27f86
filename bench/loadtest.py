"""Load test of the running app (issue 11): simulated users ask while an ingest runs through the app.

    .venv/bin/python bench/loadtest.py [--users 20] [--seconds 60] [--corpus ../shared/corpus] [--json OUT]

Starts ``briefing serve`` on a free loopback port with three accounts (two public, one internal) over the
shared corpus (ingested into ``build/loadtest-home``; the embedding cache makes a rerun cheap). Then
``--users`` threads, each a logged-in Gradio client with its own session, ask gold-set questions for
``--seconds``, while ``briefing ingest`` of a few extra documents runs beside them (the CLI sends it to the
app, which holds the store). Checked per answer: the request did not fail; the conversation returned is
this client's own (its turns are exactly the questions it asked, in order); a public user's sources hold
no internal document. Prints (and with ``--json`` writes) requests, failures, mixed sessions, leaks,
requests per second and the latency p50/p95/max in milliseconds. Not part of ``make test``
(``make loadtest``); a smoke test runs it with 2 users for a few seconds.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ACCOUNTS = {"intern": "intern", "publiek1": "openbaar", "publiek2": "openbaar"}
PASSWORD = "loadtest-wachtwoord-{name}"
INTERNAL_DOC = "nota-4730561"
EXTRA = [
    ("kustwacht.txt", "Kustwacht\n\nDe kustwacht zet sinds 2024 drones in boven de Waddenzee."),
    ("patrouille.txt", "Patrouille\n\nTwee nieuwe patrouilleschepen varen vanaf 2026 op de Noordzee."),
    ("havens.txt", "Havens\n\nDe havens van Rotterdam en Amsterdam delen sinds 2025 hun camerabeelden."),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, max(0, int(round(q / 100 * len(ys) + 0.5)) - 1))] if ys else 0.0


def _write_config(home: Path) -> None:
    from assistant.auth import hash_password

    lines = []
    for name, role in ACCOUNTS.items():
        h = hash_password(PASSWORD.format(name=name), rounds=4)
        lines += ["[[users]]", f'name = "{name}"', f'password_hash = "{h}"', f'role = "{role}"', ""]
    (home / "briefing.toml").write_text("\n".join(lines), encoding="utf-8")


def _questions() -> list[str]:
    from eval.gold import load_gold

    return [i.question for i in load_gold(REPO / "eval" / "qa") if i.answerable]


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--home", type=Path, default=REPO / "build" / "loadtest-home")
    ap.add_argument("--json", dest="json_out", type=Path, default=None)
    args = ap.parse_args(argv)

    from corpus.settings import Settings
    from index.ingest import ingest_paths
    from index.search import close_indexes

    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    _write_config(home)
    env = {**os.environ, "BRIEFING_HOME": str(home)}
    os.environ["BRIEFING_HOME"] = str(home)
    t0 = time.perf_counter()
    ingest_paths([args.corpus], Settings(home=home), progress=False)
    close_indexes()  # the app must hold the store
    setup_s = time.perf_counter() - t0
    extra_dir = home.parent / "loadtest-extra"
    extra_dir.mkdir(exist_ok=True)
    for name, text in EXTRA:
        (extra_dir / name).write_text(text, encoding="utf-8")

    port = _free_port()
    log = (home / "serve.log").open("w")
    cli = str(Path(sys.executable).with_name("briefing"))
    app = subprocess.Popen([cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        from gradio_client import Client

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

        questions = _questions()
        latencies: list[float] = []
        failures: list[str] = []
        mixed: list[str] = []
        leaks: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def user(n: int) -> None:
            name = list(ACCOUNTS)[n % len(ACCOUNTS)]
            rnd = random.Random(n)
            client = Client(url, auth=(name, PASSWORD.format(name=name)), verbose=False)
            asked: list[str] = []
            chat: list = []
            while time.monotonic() < stop:
                q = rnd.choice(questions)
                t = time.perf_counter()
                try:
                    chat, sources, *_ = client.predict(q, chat, "alle", "", "", "", api_name="/on_ask")
                except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
                    with lock:
                        failures.append(f"{name}: {type(e).__name__}: {e}"[:300])
                    continue
                ms = (time.perf_counter() - t) * 1000
                asked.append(q)
                # The session's own turns, kept server-side: their number and earlier questions must be
                # exactly this client's.
                turns = re.search(r'data-beurten="(\d+)"', sources or "")
                earlier = [html.escape(x) for x in asked[:-1]]
                own = turns is not None and int(turns.group(1)) == len(asked)
                own = own and all(f": {e}</summary>" in sources for e in earlier[-3:])
                with lock:
                    latencies.append(ms)
                    if not own:
                        mixed.append(
                            f"{name}: turn {len(asked)}, panel says {turns.group(1) if turns else None}"
                        )
                    if ACCOUNTS[name] == "openbaar" and INTERNAL_DOC in (sources or ""):
                        leaks.append(f"{name}: {q!r}")

        threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(args.users)]
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
    finally:
        app.terminate()
        try:
            app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()

    ingest_ok = ingest.returncode == 0 and not json.loads(ingest.stdout or "{}").get("skipped")
    result = {
        "users": args.users,
        "seconds": args.seconds,
        "requests": len(latencies),
        "failed": len(failures),
        "mixed_sessions": len(mixed),
        "leaks": len(leaks),
        "ingest_through_app_ok": ingest_ok,
        "requests_per_s": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies)) if latencies else None,
        "p95_ms": round(_pct(latencies, 95)) if latencies else None,
        "max_ms": round(max(latencies)) if latencies else None,
        "setup_s": round(setup_s, 1),
        "examples": {
            "failures": failures[:5],
            "mixed": mixed[:5],
            "leaks": leaks[:5],
            "ingest": ingest.stderr[-500:],
        },
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if not failures and not mixed and not leaks and ingest_ok else 1


if __name__ == "__main__":
    sys.exit(main())
