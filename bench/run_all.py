"""`make bench`: every benchmark of issue 12 in sequence, then docs/performance.md rewritten from the results.

    .venv/bin/python bench/run_all.py                    # ingest, levers, scale, ask, load (≤ 30 minutes)
    .venv/bin/python bench/run_all.py --only ask,load    # rerun some; the others' last results are kept
    .venv/bin/python bench/run_all.py --large            # `make bench-large`: scale with 1M points
    .venv/bin/python bench/run_all.py --render-only      # rewrite the doc from build/bench/*.json
    .venv/bin/python bench/run_all.py --quick            # every bench with --quick, into build/bench-quick/

Each bench runs as a subprocess with its own timeout, cut to what is left of the 30-minute budget; a
bench that is missing, fails or times out is recorded as such (with the end of its output) and the run
goes on. Results are the benches' JSON (bench/common.py) in build/bench/NAME.json, logs beside them in
build/bench/logs/, and the state of the last runs in build/bench/run_all.json. The doc keeps everything
outside its generated blocks (``<!-- generated:NAME:begin -->`` … ``<!-- generated:NAME:end -->``):
``bench`` (targets, then every bench's tables and notes) and ``scaleout`` (the scale-out figures, inside
the hand-written "Scale-out on paper" section).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_info  # noqa: E402

BUDGET_S = 30 * 60
RESULTS = ROOT / "build" / "bench"
DOC = ROOT / "docs" / "performance.md"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"  # --corpus; `make bench` passes $(SHARED)/corpus
# The corpus's vectors for ask and load: the cache `make test` fills (keyed by model and text, so sharing
# it is safe). After a test run they embed nothing; on a fresh clone the first of them embeds the corpus
# once (~4 minutes on an idle machine).
CORPUS_CACHE = ROOT / "build" / "test-cache" / "embeddings.sqlite"


@dataclass
class Bench:
    name: str
    title: str
    argv: list[str]  # after the interpreter, with {corpus} and {cache} filled in; --json is added
    timeout_s: int
    issue: str = ""  # which benchmark of issue 12


BENCHES = [
    Bench("ingest", "Ingest", ["bench/bench_ingest.py", "--corpus", "{corpus}"], 8 * 60, "1"),
    Bench("levers", "Embedding levers", ["bench/bench_levers.py"], 11 * 60, "2, 4"),
    Bench(
        "scale",
        "Latency and memory at 1k–100k chunks",
        ["bench/bench_scale.py", "--corpus", "{corpus}"],
        15 * 60,
        "3, 4",
    ),
    Bench(
        "ask",
        "`ask` on the shared corpus",
        ["bench/bench_ask.py", "--corpus", "{corpus}", "--cache", "{cache}", "--limit", "200"],
        8 * 60,
        "3",
    ),
    Bench(
        "load",
        "The web app under load",
        ["bench/loadtest.py", "--sweep", "--seconds", "30", "--corpus", "{corpus}", "--cache", "{cache}"],
        6 * 60,
        "5",
    ),
]
LARGE = Bench(
    "scale-large",
    "Scale with 1M points",
    ["bench/bench_scale.py", "--large", "--corpus", "{corpus}"],
    4 * 3600,
    "3",
)
ALL = {b.name: b for b in [*BENCHES, LARGE]}


# --- the issue's targets ----------------------------------------------------------------------------------


@dataclass
class IssueTarget:
    id: str
    label: str
    goal: str
    benches: list[str]  # where its figure comes from, preferred first
    words: list[str] = field(default_factory=list)  # regexes that must all match a bench target's id+label
    not_words: str = r"^$"  # a regex that must not match it


# fmt: off
ISSUE_TARGETS = [
    IssueTarget("ingest_overhead", "Ingest overhead against the raw model on the same texts", "≤ 10%",
                ["ingest"], [r"overhead"]),
    IssueTarget("reingest", "Re-ingest of an unchanged corpus, against the first ingest", "≤ 5%",
                ["ingest"], [r"re-?ingest"]),
    IssueTarget("ingest_vs_raw_model", "Ingest chunks/s against the raw bf16 model's passages/s", "≥ 1.8×",
                ["ingest"], [r"raw"]),
    IssueTarget("default_ingest_speedup", "The default configuration's ingest against today's (torch bf16)",
                "≥ 2× (nDCG@10: the levers row)", ["ingest"]),
    IssueTarget("lever_speedup", "An embedding lever: ingest throughput against today's", "≥ 2× at ≤ 0.01 nDCG@10",
                ["levers"], [r"lever|speed|throughput|2×|2x"]),
    IssueTarget("store_p95_100k", "Store query p95 at 100k chunks", "≤ 10 ms",
                ["scale"], [r"store|query", r"100k|(?<!\d)100[_ ,.]?000(?!\d)"], r"\bask\b|end.to.end"),
    IssueTarget("store_p95_1m", "Store query p95 at 1M points, recall@10 against exact search",
                "≤ 30 ms, recall@10 ≥ 0.95", ["scale-large", "scale"], [r"store|query|recall", r"\b1m\b|1[_ ,.]?000[_ ,.]?000|million"]),
    IssueTarget("ask_p95_100k", "End-to-end extractive `ask` p95 at 100k chunks", "≤ 1 s",
                ["scale"], [r"\bask\b|end.to.end", r"100k|(?<!\d)100[_ ,.]?000(?!\d)"]),
    IssueTarget("make_bench_30min", "`make bench` runs within 30 minutes here", "≤ 30 min", ["run_all"]),
]
# fmt: on


def match_targets(results: dict[str, dict]) -> tuple[dict[str, tuple[str, dict]], list[tuple[str, dict]]]:
    """Issue target id -> (bench, its target); and the benches' other targets."""
    found: dict[str, tuple[str, dict]] = {}
    used: set[tuple[str, int]] = set()
    for it in ISSUE_TARGETS:
        for bench in it.benches:
            targets = (results.get(bench) or {}).get("targets") or []
            exact = [i for i, t in enumerate(targets) if t.get("id") == it.id]
            texts = [f"{t.get('id', '')} {t.get('label', '')}" for t in targets]
            fuzzy = [
                i
                for i, text in enumerate(texts)
                if it.words
                and all(re.search(w, text, re.I) for w in it.words)
                and not re.search(it.not_words, text, re.I)
            ]
            # The product's store first, where a bench reports qdrant-client local mode beside it.
            fuzzy.sort(key=lambda i: bool(re.search(r"qdrant.client|local mode", texts[i], re.I)))
            pick = next((i for i in exact + fuzzy if (bench, i) not in used), None)
            if pick is not None:
                used.add((bench, pick))
                found[it.id] = (bench, targets[pick])
                break
    others = [
        (bench, t)
        for bench, r in results.items()
        for i, t in enumerate(r.get("targets") or [])
        if (bench, i) not in used
    ]
    return found, others


# --- running ------------------------------------------------------------------------------------------------


def run_bench(bench: Bench, results_dir: Path, timeout_s: float, quick: bool, corpus: Path) -> dict[str, Any]:
    """Run one bench as a subprocess (its own process group, so a timeout also ends what it started)."""
    script = ROOT / bench.argv[0]
    out = results_dir / f"{bench.name}.json"
    log_path = results_dir / "logs" / f"{bench.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a failed run must not leave the last run's figures looking current
    state: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "log": str(log_path)}
    if not script.is_file():
        return {**state, "status": "missing", "seconds": 0.0, "error": f"{bench.argv[0]} does not exist"}
    # Paths relative to the checkout (the benches run in it), so the commands in the doc read as typed.
    rel = {
        k: os.path.relpath(v, ROOT) for k, v in {"corpus": corpus, "cache": CORPUS_CACHE, "out": out}.items()
    }
    args = [a.format(corpus=rel["corpus"], cache=rel["cache"]) for a in bench.argv] + ["--json", rel["out"]]
    args += ["--quick"] if quick else []
    argv = [sys.executable, *args]
    state["command"] = "python " + " ".join(args)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    t0 = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        status = None
        while status is None:
            took = time.monotonic() - t0
            if took >= timeout_s:
                stop(proc)
                status = "timeout"
                break
            try:
                proc.wait(timeout=min(60.0, timeout_s - took))  # a progress line a minute
                status = "exited"
            except subprocess.TimeoutExpired:
                print(
                    f"  … {bench.name}: {(time.monotonic() - t0) / 60:.1f} min", file=sys.stderr, flush=True
                )
    state["seconds"] = round(time.monotonic() - t0, 1)
    state["exit_code"] = proc.returncode
    tail = log_path.read_text(errors="replace")[-700:]
    if status == "timeout":
        state.update(status="timeout", error=f"timed out after {timeout_s / 60:.1f} min: …{tail[-300:]}")
    elif out.is_file():
        # A bench that wrote its result keeps its figures even when it exits non-zero (loadtest does when
        # a check fails): the failed check is one of its targets.
        state["status"] = "ok"
    else:
        state.update(status="failed", error=f"exit code {proc.returncode}, no JSON written: …{tail}")
    return state


def stop(proc: subprocess.Popen) -> None:
    """End the bench's whole process group (an app it started too); SIGKILL what is left after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        proc.poll()  # reaps the bench itself, so that only living members keep the group
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# --- rendering ----------------------------------------------------------------------------------------------


def cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):  # two decimals at most; none from 1,000 up (like the ints beside them)
        v = f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.0f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def md_table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def status_of(met: Any) -> str:
    return {True: "met", False: "**not met**"}.get(met, "not measured")


def machine_line(m: dict[str, Any]) -> str:
    if not m:
        return ""
    flags = ", ".join(m.get("flags") or []) or "none"
    load = m.get("load_1min_at_start")
    load_s = f", load {load:.1f} at start" if isinstance(load, int | float) else ""
    return f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('mem_gib')} GiB, {flags}; Python {m.get('python')}{load_s}"


def render_targets(results: dict[str, dict], runs: dict[str, Any]) -> list[str]:
    found, others = match_targets(results)
    rows = []
    for n, it in enumerate(ISSUE_TARGETS, 1):
        if it.id == "make_bench_30min":
            rows.append([n, it.label, it.goal, *budget_row(runs)])
            continue
        if it.id in found:
            bench, t = found[it.id]
            rows.append(
                [n, it.label, it.goal, t.get("value", ""), status_of(t.get("met")), bench, t.get("note", "")]
            )
            continue
        bench = it.benches[0]
        run = runs.get(bench) or {}
        if run.get("status") not in (None, "ok"):
            why = f"`{bench}` {run['status']}: {run.get('error', '')}"
        elif bench == "scale-large":
            why = "Measured by `make bench-large` (1M points, not part of `make bench`); not run yet."
        elif bench in results:
            why = f"`{bench}` ran but reported no figure for this target."
        else:
            why = f"`{bench}` has not run yet."
        rows.append([n, it.label, it.goal, "", "not run", bench, why])
    lines = ["## Targets (issue 12)", ""]
    lines += md_table(["#", "target", "goal", "figure", "status", "bench", "reason and next step"], rows)
    if others:
        lines += ["", "Other targets the benches check:", ""]
        lines += md_table(
            ["bench", "target", "goal", "figure", "status", "note"],
            [
                [
                    b,
                    t.get("label", t.get("id")),
                    t.get("target", ""),
                    t.get("value", ""),
                    status_of(t.get("met")),
                    t.get("note", ""),
                ]
                for b, t in others
            ],
        )
    return lines


def budget_row(runs: dict[str, Any]) -> list[Any]:
    full = runs.get("_full_run")
    if not full:
        return ["", "not run", "run_all", "No full `make bench` run recorded yet."]
    minutes = full["seconds"] / 60
    skipped = full.get("skipped") or []
    failed = full.get("not_ok") or []
    met = minutes <= 30 and not skipped
    note = ""
    if skipped:
        note = f"The budget ran out before {', '.join(skipped)}. "
    if failed:
        note += f"Did not finish: {', '.join(failed)}. "
    if not met:
        note += "Next step: shorten the slowest bench's default run (see the per-bench times)."
    times = ", ".join(f"{k} {v / 60:.1f}" for k, v in (full.get("per_bench") or {}).items())
    figure = f"{minutes:.1f} min ({times} min; {full['date'][:10]})"
    return [figure, "met" if met else "**not met**", "run_all", note.strip()]


def render_bench(bench: Bench, result: dict | None, run: dict[str, Any]) -> list[str]:
    issue = f" (issue 12, benchmark {bench.issue})" if bench.issue else ""
    lines = [f"### {bench.title}: `{bench.name}`{issue}", ""]
    status = run.get("status")
    if status not in (None, "ok"):
        lines += [f"**{status}** ({run.get('date', '')[:16]}): {cell(run.get('error', ''))}", ""]
    if result is None:
        if status in (None, "ok"):
            lines += ["Not run yet.", ""]
        return lines
    took = result.get("elapsed_s")
    lines += [
        f"`{result.get('command', '')}` — {result.get('date', '')[:16].replace('T', ' ')} UTC"
        + (f", {took / 60:.1f} min" if isinstance(took, int | float) else ""),
        "",
        f"Machine: {machine_line(result.get('machine') or {})}",
        "",
    ]
    for t in result.get("tables") or []:
        lines += [f"**{t.get('title', '')}**", "", *md_table(t.get("columns") or [], t.get("rows") or []), ""]
    lines += [f"- {cell(n)}" for n in result.get("notes") or []]
    if result.get("notes"):
        lines.append("")
    return lines


def render(results: dict[str, dict], runs: dict[str, Any]) -> str:
    last = runs.get("_last_run") or {}
    lines = [
        "_Generated by `bench/run_all.py` (`make bench`) from `build/bench/*.json`; edits here are overwritten._",
        "",
    ]
    if last:
        lines += [
            f"Last run: {last.get('date', '')[:16].replace('T', ' ')} UTC, `{last.get('command', '')}`, "
            f"{last.get('seconds', 0) / 60:.1f} min. Machine: {machine_line(last.get('machine') or {})}.",
            "",
        ]
    lines += render_targets(results, runs)
    lines += ["", "## The benchmarks", ""]
    for bench in [*BENCHES, LARGE]:
        if bench is LARGE and bench.name not in results and bench.name not in runs:
            continue
        lines += render_bench(bench, results.get(bench.name), runs.get(bench.name) or {})
    return "\n".join(lines).rstrip() + "\n"


# --- scale-out on paper ---------------------------------------------------------------------------------------

# Assumptions for "all Kamerstukken and Handelingen since 1995". Not counted (no internet here): round
# figures of the order of the officielebekendmakingen collections, to be checked against an SRU count
# before anyone orders hardware. Sizes per document come from the shared corpus where it has the kind.
YEARS = 30  # vergaderjaren 1995/96 to 2024/25
KINDS = [
    # (kind, documents a year, folder of the corpus profile whose chunks/document is used, or a fixed size)
    ("Kamerstukken (TK and EK)", 10_000, "notas", None),
    ("Handelingen items (TK and EK)", 3_500, "handelingen", None),
    ("Aanhangsel der Handelingen (answers to Kamervragen)", 2_500, None, 3.0),
]
PEAK_QUESTIONS_PER_S = 2.0  # e.g. 2,000 users asking 10 questions a day within 8 hours, peak ×3
# A shard whose int8 vectors and HNSW graph (~9 GiB) a 16-32 GiB node keeps in RAM beside its page cache.
POINTS_PER_SHARD = 10_000_000


def figures_of(result: dict | None, title_word: str) -> dict[str, float]:
    """A bench's "figure / value" table as a dict (bench_ingest writes one for this estimate)."""
    for t in (result or {}).get("tables") or []:
        if title_word in t.get("title", "").lower() and (t.get("columns") or [])[:2] == ["figure", "value"]:
            return {r[0]: r[1] for r in t.get("rows") or [] if isinstance(r[1], int | float)}
    return {}


def number(text: Any) -> float | None:
    m = re.search(r"[-+]?\d[\d,]*(?:\.\d+)?", str(text or ""))
    return float(m.group(0).replace(",", "")) if m else None


def millis(text: Any) -> float | None:
    """A latency in ms from a target's value such as '7.9 ms, recall 0.97' or '0.45 s'."""
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(ms|s)\b", str(text or ""))
    if m is None:
        return number(text)
    v = float(m.group(1).replace(",", ""))
    return v * 1000 if m.group(2) == "s" else v


def per_point_of(result: dict | None, column: str, title: str = "") -> float | None:
    """Bytes a point, from a table (its title matching ``title``) with a "points" column and a column
    matching ``column`` in MiB, GiB or bytes: the largest store measured, Qdrant Edge where a table also
    names qdrant-client."""
    best: tuple[float, float] | None = None
    for t in (result or {}).get("tables") or []:
        if not re.search(title, t.get("title", ""), re.I):
            continue
        cols = [str(c).lower() for c in t.get("columns") or []]
        p = next((i for i, c in enumerate(cols) if c == "points"), None)
        v = next((i for i, c in enumerate(cols) if re.search(column, c)), None)
        if p is None or v is None:
            continue
        where = f"{cols[v]} {t.get('title', '')}".lower()
        unit = 2**30 if "gib" in where else 2**20 if "mib" in where or "mb" in where else 1
        for row in t.get("rows") or []:
            if any(re.search(r"qdrant.client|local mode", str(x), re.I) for x in row):
                continue
            n, val = number(row[p]), number(row[v])
            if n and val and (best is None or n > best[0]):
                best = (n, val * unit / n)
    return best[1] if best else None


def size(n: float) -> str:
    return f"{n / 2**40:,.1f} TiB" if n >= 2**40 else f"{n / 2**30:,.0f} GiB"


def render_scaleout(results: dict[str, dict]) -> str:
    ingest = results.get("ingest")
    fig = figures_of(ingest, "scale-out")
    profile = {}
    for t in (ingest or {}).get("tables") or []:
        if t.get("title", "").lower().startswith("corpus profile"):
            profile = {r[0]: r for r in t.get("rows") or []}
    if not fig or "all" not in profile:
        return "_No ingest result yet: run `make bench` (or `bench/run_all.py --only ingest`)._\n"
    found = match_targets(results)[0]

    docs = chunks = 0.0
    kinds: list[list[Any]] = []
    for kind, per_year, folder, fixed in KINDS:
        measured = fixed is None and folder in profile
        per_doc = float(profile[folder][5]) if measured else float(fixed or 0)
        n = per_year * YEARS
        docs += n
        chunks += n * per_doc
        source = f"the corpus's `{folder}/`" if measured else "assumed"
        kinds.append(
            [
                kind,
                f"{per_year:,} a year × {YEARS}",
                f"{n:,}",
                f"{per_doc:g} ({source})",
                f"{n * per_doc:,.0f}",
            ]
        )
    kinds.append(["all", "", f"{docs:,.0f}", "", f"{chunks:,.0f}"])
    ppc = float(profile["all"][6])  # the whole corpus: chunks, their sentences and units
    points = chunks * ppc

    # A point's bytes: its dense vector, BM25 terms (index + weight) and JSON payload, all measured on the
    # corpus, and the HNSW graph (m = 16: 32 links of 4 bytes on layer 0, upper layers ~10% more).
    dense, graph = 768 * 4, 150
    sparse = fig.get("sparse_terms_per_point", 20) * 8
    payload = fig.get("payload_bytes_per_point", 1100)
    per_point = dense + graph + sparse + payload
    measured_disk = per_point_of(results.get("scale"), r"disk")
    measured_rss = per_point_of(results.get("scale"), r"store opened|rss", r"rss")
    shards = max(1, math.ceil(points / POINTS_PER_SHARD))
    shard_ram = POINTS_PER_SHARD * (768 + graph)  # int8 vectors and the graph resident; the rest on disk

    cps = fig["ingest_chunks_per_s"]
    hours = chunks / cps / 3600
    speedup = number((found.get("lever_speedup") or ("", {}))[1].get("value"))
    outside = fig.get("outside_model_s_per_chunk")
    p95_100k = millis((found.get("store_p95_100k") or ("", {}))[1].get("value"))
    p95_1m = millis((found.get("store_p95_1m") or ("", {}))[1].get("value"))
    cpu_ms = figures_of(results.get("load"), "scale-out").get("app_cpu_ms_per_answer")

    rows: list[list[Any]] = [
        ["documents", f"{docs:,.0f}", "the assumptions above"],
        ["chunks", f"{chunks / 1e6:,.1f} million", "chunks a document from the shared corpus"],
        [
            "points (chunks, sentences, units)",
            f"{points / 1e6:,.0f} million",
            f"{ppc:g} points a chunk, whole corpus",
        ],
        [
            "bytes a point on disk",
            f"{per_point:,.0f} (vector {dense:,}, payload {payload:,.0f}, BM25 {sparse:,.0f}, graph ~{graph})",
            "payload and BM25 measured on the ingested documents (`ingest`)",
        ],
        ["store on disk, one replica", size(points * per_point), "points × bytes a point"],
        [
            "RAM for all vectors as float32",
            size(points * (dense + graph)),
            "what one Edge process would need",
        ],
        [
            "RAM with int8 scalar quantisation (originals on disk)",
            size(points * (768 + graph)),
            "×4 smaller vectors",
        ],
        [
            f"Qdrant shards of ≤ {POINTS_PER_SHARD / 1e6:g}M points",
            f"{shards} × 2 replicas = {2 * shards} shard copies",
            f"{size(shard_ram)} of RAM a shard copy (int8 + graph), page cache besides",
        ],
        [
            "embedding it all, one 2-core machine like this",
            f"{hours:,.0f} hours ({hours / 24:,.0f} days)",
            f"{cps:.2f} chunks/s end to end (`ingest`)",
        ],
        [
            "2-core machines to embed it within 24 hours",
            f"{math.ceil(hours / 24):,}",
            "same, split by document",
        ],
    ]
    if measured_disk:
        rows.append(
            ["bytes a point on disk, measured", f"{measured_disk:,.0f}", "`scale`, its largest Edge store"]
        )
    if measured_rss:
        rows.append(
            [
                "bytes a point of RSS, store opened and queried",
                f"{measured_rss:,.0f}",
                "`scale`, its largest Edge store",
            ]
        )
    if speedup and speedup > 1:
        rows.append(
            [
                "the same with the best lever",
                f"{hours / speedup:,.0f} hours; {math.ceil(hours / speedup / 24):,} machines for 24 hours",
                f"{speedup:g}× (`levers`)",
            ]
        )
    if outside:
        rows.append(
            [
                "writing from cached vectors (read, chunk, BM25, store)",
                f"{chunks * outside / 3600:,.0f} hours on one machine",
                f"{outside * 1000:.0f} ms a chunk outside the model (`ingest`)",
            ]
        )
    if p95_100k:
        rows.append(["store query p95 at 100k points", f"{p95_100k:.1f} ms", "`scale`"])
    if p95_1m:
        rows.append(["store query p95 at 1M points", f"{p95_1m:.1f} ms", "`scale-large`"])
    if cpu_ms:
        per_replica = 2000 / cpu_ms
        rows.append(
            [
                "answers/s one 2-core app replica carries",
                f"{per_replica:.1f}",
                f"{cpu_ms:.0f} ms of CPU an answer (`load`)",
            ]
        )
        rows.append(
            [
                f"app replicas for {PEAK_QUESTIONS_PER_S:g} questions/s at peak",
                f"{math.ceil(PEAK_QUESTIONS_PER_S / per_replica)} (+1 spare)",
                "same",
            ]
        )
    lines = md_table(["kind", "documents", "total", "chunks a document", "chunks"], kinds)
    lines += ["", *md_table(["figure", "estimate", "from"], rows)]
    return "\n".join(lines) + "\n"


# --- the doc ------------------------------------------------------------------------------------------------


def replace_block(doc: str, name: str, body: str) -> str:
    begin, end = f"<!-- generated:{name}:begin -->", f"<!-- generated:{name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return doc.rstrip() + "\n\n" + block + "\n"


def write_doc(doc_path: Path, results: dict[str, dict], runs: dict[str, Any]) -> None:
    doc = doc_path.read_text(encoding="utf-8") if doc_path.exists() else "# Performance\n"
    doc = replace_block(doc, "bench", render(results, runs))
    doc = replace_block(doc, "scaleout", render_scaleout(results))
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(doc, encoding="utf-8")


def load_results(results_dir: Path) -> dict[str, dict]:
    out = {}
    for name in ALL:
        p = results_dir / f"{name}.json"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "targets" in data:  # older, free-form results are not this format
            out[name] = data
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=None, help=f"comma-separated, of: {', '.join(ALL)}")
    ap.add_argument("--large", action="store_true", help="run scale with --large (1M points) only")
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument(
        "--quick", action="store_true", help="every bench with --quick, results in build/bench-quick"
    )
    ap.add_argument("--budget-min", type=float, default=BUDGET_S / 60)
    ap.add_argument("--corpus", type=Path, default=SHARED_CORPUS)
    ap.add_argument("--results", type=Path, default=None)
    ap.add_argument("--doc", type=Path, default=None)
    args = ap.parse_args(argv)
    results_dir = args.results or (ROOT / "build" / "bench-quick" if args.quick else RESULTS)
    doc_path = args.doc or (results_dir / "performance.md" if args.quick else DOC)
    results_dir.mkdir(parents=True, exist_ok=True)
    state_path = results_dir / "run_all.json"
    try:
        runs: dict[str, Any] = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        runs = {}

    if args.large:
        todo = [LARGE]
    elif args.only:
        unknown = [n for n in args.only.split(",") if n not in ALL]
        if unknown:
            ap.error(f"unknown bench {', '.join(unknown)}; known: {', '.join(ALL)}")
        todo = [ALL[n] for n in args.only.split(",")]
    else:
        todo = [] if args.render_only else BENCHES
    full_run = todo == BENCHES

    started = time.monotonic()
    budget = math.inf if args.large else args.budget_min * 60  # the 1M run has only its own timeout
    skipped: list[str] = []
    for i, bench in enumerate(todo, 1):
        left = budget - (time.monotonic() - started)
        if left < 60:
            runs[bench.name] = {
                "status": "skipped",
                "error": f"the {args.budget_min:g}-minute budget was spent",
                "seconds": 0.0,
            }
            skipped.append(bench.name)
            print(f"[{i}/{len(todo)}] {bench.name}: skipped, budget spent", file=sys.stderr, flush=True)
            continue
        timeout = min(bench.timeout_s, left)
        print(
            f"[{i}/{len(todo)}] {bench.name}: running (timeout {timeout / 60:.1f} min, "
            f"{(time.monotonic() - started) / 60:.1f} min so far)",
            file=sys.stderr,
            flush=True,
        )
        runs[bench.name] = run_bench(bench, results_dir, timeout, args.quick, args.corpus.resolve())
        r = runs[bench.name]
        print(
            f"[{i}/{len(todo)}] {bench.name}: {r['status']} in {r['seconds'] / 60:.1f} min"
            + (f" ({r['error'][:200]})" if r.get("error") else ""),
            file=sys.stderr,
            flush=True,
        )
    total = time.monotonic() - started
    if todo:
        runs["_last_run"] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "python bench/run_all.py"
            + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
            "seconds": round(total, 1),
            "machine": machine_info(),
        }
    if full_run and not args.quick:
        runs["_full_run"] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(total, 1),
            "per_bench": {b.name: runs[b.name].get("seconds", 0.0) for b in BENCHES},
            "skipped": skipped,
            "not_ok": [b.name for b in BENCHES if runs[b.name].get("status") not in ("ok", "skipped")],
        }
    state_path.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_doc(doc_path, load_results(results_dir), runs)
    print(f"{doc_path} rewritten; {total / 60:.1f} min", file=sys.stderr)
    return 0 if all(runs[b.name].get("status") == "ok" for b in todo) else 1


if __name__ == "__main__":
    sys.exit(main())
