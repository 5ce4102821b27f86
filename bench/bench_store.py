"""Store benchmark: upsert time and hybrid query latency (with an access filter) for every store.

    .venv/bin/python bench/bench_store.py                 # 20k points, 768 dims, both stores
    .venv/bin/python bench/bench_store.py --n 2000 --stores edge --json build/bench/store.json

Data: random unit vectors and BM25 vectors of random 120-word texts over a 5,000-word vocabulary with a
Zipf-like distribution (encoded by the real Dutch BM25 encoder), payloads like real chunks (doc_id, access,
kind, date). Each store is measured from an empty folder: upsert, query p50/p95, reopen; for Qdrant Edge
also after `optimize()` (HNSW built).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.store import bm25_encoder  # noqa: E402
from index.store.base import ChunkRecord, Filters, SparseVector, VectorStore  # noqa: E402
from index.store.edge import EdgeStore  # noqa: E402
from index.store.qdrant import QdrantStore  # noqa: E402

KINDS = ["Kamerstuk", "Handelingen", "nota", "strategie"]


def make_data(n: int, dim: int, n_queries: int, seed: int = 7) -> tuple[list[ChunkRecord], list[tuple]]:
    rng = np.random.default_rng(seed)
    rnd = random.Random(seed)
    enc = bm25_encoder()
    vocab = [
        "".join(rnd.choice("abcdeghiklmnoprstuvwz") for _ in range(rnd.randint(4, 11))) for _ in range(5000)
    ]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    dense = rng.standard_normal((n, dim), dtype=np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    t0 = time.perf_counter()
    records = []
    for i in range(n):
        text = " ".join(rnd.choices(vocab, weights, k=120))
        doc = i // 20  # 20 chunks per document
        payload: dict[str, Any] = {
            "doc_id": f"doc-{doc}",
            "title": f"Document {doc}",
            "access": "intern" if doc % 4 == 0 else "openbaar",
            "kind": KINDS[doc % len(KINDS)],
            "date": f"{2010 + doc % 14}-{1 + doc % 12:02d}-{1 + doc % 28:02d}",
            "doc_hash": f"h{doc}",
            "text": text,
        }
        records.append(
            ChunkRecord(
                id=str(uuid.UUID(int=rnd.getrandbits(128))),
                dense=dense[i].tolist(),
                sparse=enc.encode_document(text),
                payload=payload,
            )
        )
    print(f"data: {n} points, {dim} dims, BM25 encoding {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    queries = []
    for _ in range(n_queries):
        q = rng.standard_normal(dim, dtype=np.float32)
        q /= np.linalg.norm(q)
        words = " ".join(rnd.choices(vocab[:2000], k=4))
        queries.append((q.tolist(), enc.encode_query(words)))
    return records, queries


def time_queries(store: VectorStore, queries: list[tuple[list[float], SparseVector]]) -> dict[str, float]:
    flt = Filters(match={"access": "openbaar"})
    lat = []
    for dense, sparse in queries:
        t0 = time.perf_counter()
        hits = store.query(dense=dense, sparse=sparse, limit=8, filters=flt, mode="hybrid", prefetch=50)
        lat.append((time.perf_counter() - t0) * 1000)
        assert hits and all(h.payload["access"] == "openbaar" for h in hits)
    lat.sort()
    return {
        "query_p50_ms": round(statistics.median(lat), 2),
        "query_p95_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 2),
    }


def bench(
    name: str, open_store: Callable[[], VectorStore], records, queries, optimize: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"store": name, "points": len(records)}
    store = open_store()
    t0 = time.perf_counter()
    store.add(records)
    store.flush()
    out["upsert_s"] = round(time.perf_counter() - t0, 2)
    out.update(time_queries(store, queries))
    if optimize and hasattr(store, "optimize"):
        t0 = time.perf_counter()
        store.optimize()
        out["optimize_s"] = round(time.perf_counter() - t0, 2)
        out.update({f"{k}_optimized": v for k, v in time_queries(store, queries).items()})
    store.close()
    t0 = time.perf_counter()
    store = open_store()
    out["reopen_s"] = round(time.perf_counter() - t0, 2)
    assert store.count() == len(records)
    store.close()
    print(json.dumps(out), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument(
        "--queries", type=int, default=200, help="per store (qdrant-client local mode: a quarter)"
    )
    ap.add_argument("--stores", default="edge,qdrant")
    ap.add_argument("--no-optimize", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    records, queries = make_data(args.n, args.dim, args.queries)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for name in args.stores.split(","):
            if name == "edge":
                results.append(
                    bench(
                        "qdrant-edge",
                        lambda: EdgeStore(Path(tmp) / "edge", dim=args.dim),
                        records,
                        queries,
                        not args.no_optimize,
                    )
                )
            elif name == "qdrant":
                # local mode is pure Python and ~50x slower per query: fewer queries keep the run short
                results.append(
                    bench(
                        "qdrant-client local",
                        lambda: QdrantStore(path=Path(tmp) / "qdrant", dim=args.dim),
                        records,
                        queries[: max(10, len(queries) // 4)],
                        False,
                    )
                )
            else:
                raise SystemExit(f"unknown store {name!r}")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
