"""Ingest and search benchmark: cold ingest, warm (unchanged) re-ingest, and query latency.

    .venv/bin/python bench/bench_ingest.py ../shared/corpus [--home DIR] [--cache FILE] [--json OUT]

Without --home a throw-away folder is used. Pass --cache to reuse an embedding cache (then "cold" measures
chunking + store writes only, not the model). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "waarom geen planbureau voor de veiligheid",
    "gevolgen van de brexit voor de Nederlandse economie",
    "ondercuratelestelling Careyn",
    "woningcorporatie Humanitas",
    "national security strategy threats",
    "mantelzorg en hulpmiddelen",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache file to use (default: in home)")
    ap.add_argument("--json", dest="json_out", type=Path, default=None)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    from corpus.settings import Settings
    from index.ingest import ingest_paths
    from index.search import Searcher, close_indexes

    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-ingest-")
        home = Path(tmp.name)
    settings = Settings(home=home, **({"embedding_cache": args.cache} if args.cache else {}))

    t0 = time.perf_counter()
    cold = ingest_paths(args.paths, settings, progress=not args.no_progress)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = ingest_paths(args.paths, settings, progress=False)
    warm_s = time.perf_counter() - t0

    searcher = Searcher(settings)
    searcher.search("opwarmen", k=1)  # loads the model; not part of the latency
    # Query embedding on its own, by the model behind the cache (so nothing is cached or answered from it) ...
    cached = searcher.index.embedder
    model = getattr(cached, "embedder", cached)
    embed_ms = []
    for q in QUERIES:
        t0 = time.perf_counter()
        model.embed_query(q)
        embed_ms.append((time.perf_counter() - t0) * 1000)
    # ... then the store alone: query vectors are cached after this warm-up pass.
    for q in QUERIES:
        searcher.search(q, k=8)
    latencies: dict[str, list[float]] = {}
    for mode in ("hybrid", "dense", "bm25"):
        for q in QUERIES:
            t0 = time.perf_counter()
            searcher.search(q, k=8, mode=mode)
            latencies.setdefault(mode, []).append((time.perf_counter() - t0) * 1000)

    result = {
        "documents": cold.documents,
        "chunks": cold.chunks,
        "embedded": cold.embedded,
        "skipped": cold.skipped,
        "cold_seconds": round(cold_s, 2),
        "cold_chunks_per_s": round(cold.chunks / cold_s, 2) if cold_s else None,
        "embedded_per_s": round(cold.embedded / cold_s, 2) if cold_s and cold.embedded else None,
        "warm_seconds": round(warm_s, 2),
        "warm_embedded": warm.embedded,
        "embed_query_ms_median": round(statistics.median(embed_ms), 1),
        "search_ms_median_cached_query_vector": {
            m: round(statistics.median(v), 1) for m, v in latencies.items()
        },
        "home": str(home),
    }
    close_indexes()
    if tmp is not None:
        tmp.cleanup()
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
