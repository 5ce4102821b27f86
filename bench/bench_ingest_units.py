"""What sentence units cost at ingest, side by side in one process: the model's work per layout of points.

    .venv/bin/python bench/bench_ingest_units.py [PATH...] [--json OUT]

Default PATH: five Handelingen items of ../shared/corpus. For the same documents, with the same loaded model
and no embedding cache, it times embedding (a) the chunks alone (the layout before sentence units), (b)
chunks and sentences, each read by the model (``chunk_vectors = "model"``), and (c) the sentences alone,
chunk vectors derived from them (``chunk_vectors = "sentences"``, the default). Embedding is nearly all of
an ingest's time (``briefing ingest`` prints the rest), so the ratios b/a and c/a are the ingest's. The
runs alternate a→b→c twice and the medians are reported, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [
    REPO.parent / "shared" / "corpus" / "handelingen" / f"h-tk-20172018-70-{n}.xml" for n in (3, 4, 5, 9, 11)
]


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--json", dest="json_out", type=Path, default=None)
    args = ap.parse_args(argv)

    from corpus.loader import load_paths
    from corpus.models import ReadError
    from corpus.settings import Settings
    from index.chunking import CHUNK, document_units
    from index.embeddings import Embedder

    settings = Settings()
    nodes = [n for d in load_paths(args.paths) if not isinstance(d, ReadError) for n in document_units(d)]
    chunks = [n.text for n in nodes if n.metadata["unit"] == CHUNK]
    sentences = [n.text for n in nodes if n.metadata["unit"] != CHUNK]
    with_sentences = {n.metadata["chunk_id"] for n in nodes if n.metadata["unit"] != CHUNK}
    bare = [n.text for n in nodes if n.metadata["unit"] == CHUNK and n.node_id not in with_sentences]
    layouts = {
        "a_chunks": chunks,
        "b_chunks_and_sentences": chunks + sentences,
        "c_sentences": sentences + bare,
    }
    embedder = Embedder(settings)
    embedder.encode(["opwarmen"], [embedder.document_prompt()], "document")  # loads the model
    times: dict[str, list[float]] = {k: [] for k in layouts}
    for _ in range(2):
        for name, texts in layouts.items():
            t0 = time.perf_counter()
            embedder.encode(texts, [embedder.document_prompt()] * len(texts), "document")
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "documents": [p.name for p in args.paths],
        "chunks": len(chunks),
        "sentences": len(sentences),
        "seconds": {k: round(v, 1) for k, v in med.items()},
        "ratio_b_to_a": round(med["b_chunks_and_sentences"] / med["a_chunks"], 2),
        "ratio_c_to_a": round(med["c_sentences"] / med["a_chunks"], 2),
        "target_ratio": 1.5,
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
