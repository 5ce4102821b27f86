"""Embedding throughput by batch cap, side by side in one process (issue 12, lever "batch size").

    .venv/bin/python bench/bench_batch.py [--corpus ../shared/corpus] [--docs 3] [--caps 16,32,64,256] [--json OUT]

Takes the chunks and sentences that ingest would embed for the first ``--docs`` Handelingen items of the
corpus, and embeds them with the model directly (no cache) under each cap on the number of texts per batch
(``index/embeddings.py`` batches length-sorted texts by a word budget; the cap bounds a batch of many short
sentences). Each cap runs twice in alternating order, so load changes hit every cap alike; the better of
its two runs counts. Prints texts/s per cap for chunks and for sentences, and the cosine between the
vectors of the default cap and each other cap (batching must not change the vectors beyond bf16 noise).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--docs", type=int, default=3)
    ap.add_argument("--caps", default="16,32,64,256")
    ap.add_argument("--json", dest="json_out", type=Path, default=None)
    args = ap.parse_args(argv)

    import numpy as np

    import index.embeddings as emb
    from corpus.loader import load_paths
    from corpus.models import Document
    from corpus.settings import Settings
    from index.chunking import CHUNK, SENTENCE, document_units

    settings = Settings()
    files = sorted((args.corpus / "handelingen").glob("*.xml"))[: args.docs]
    docs = [d for d in load_paths(files) if isinstance(d, Document)]
    nodes = [n for d in docs for n in document_units(d, settings.chunk_tokens, settings.chunk_overlap)]
    texts = {
        "chunks": [n.text for n in nodes if n.metadata["unit"] == CHUNK],
        "sentences": [n.text for n in nodes if n.metadata["unit"] == SENTENCE],
    }
    embedder = emb.Embedder(settings)
    prompt = embedder.document_prompt(None)
    embedder.encode(["opwarmen"], [prompt], "document")  # load the model outside the timings

    caps = [int(c) for c in args.caps.split(",")]
    default_cap = emb._MAX_BATCH
    best: dict[tuple[str, int], float] = {}
    vectors: dict[tuple[str, int], np.ndarray] = {}
    for rnd in range(2):
        for cap in caps if rnd == 0 else list(reversed(caps)):
            emb._MAX_BATCH = cap
            for kind, xs in texts.items():
                t = time.perf_counter()
                v = embedder.encode(xs, [prompt] * len(xs), "document")
                rate = len(xs) / (time.perf_counter() - t)
                best[(kind, cap)] = max(best.get((kind, cap), 0.0), rate)
                vectors[(kind, cap)] = v
    emb._MAX_BATCH = default_cap
    result: dict[str, object] = {
        "docs": [d.id for d in docs],
        "texts": {k: len(v) for k, v in texts.items()},
        "default_cap": default_cap,
        "per_s": {f"{k}@{c}": round(r, 1) for (k, c), r in sorted(best.items())},
    }
    ref = default_cap if default_cap in caps else caps[-1]
    result["min_cosine_vs_default"] = {
        f"{k}@{c}": round(float(np.min(np.sum(vectors[(k, c)] * vectors[(k, ref)], axis=1))), 4)
        for (k, c) in sorted(vectors)
    }
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
