"""Embedding speed on real passages: passages/s in bf16 and fp32, and single-query latency.

    .venv/bin/python bench/bench_embed.py [--n 64] [--shared ../shared] [--dtypes bfloat16,float32]

No cache is used: every passage goes through the model. Passages are ~130-word windows from the shared
corpus (nota, Handelingen XML text, English strategies), round-robin over the files so all kinds appear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from corpus.loader import load_paths  # noqa: E402
from corpus.models import Document  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from index.embeddings import Embedder  # noqa: E402

QUERIES = [
    "Waarom is er geen planbureau voor de veiligheid?",
    "Wat concludeerde ABD Topconsult?",
    "Welke moties zijn aangenomen op 5 april 2018?",
    "Wie is de minister van Justitie en Veiligheid?",
    "What are the national security interests?",
    "Wanneer is de Nationale Veiligheidsraad opgericht?",
    "Welke Kamerstukken zijn ingekomen?",
    "Hoe wordt de kennisinfrastructuur versterkt?",
]


def passages(corpus: Path, n: int, words: int = 130) -> list[str]:
    # The readers' text (encoding repaired, markup gone), as ingest embeds it.
    folders = [
        corpus / name for name in ("notas", "handelingen", "strategies-en") if (corpus / name).is_dir()
    ]
    texts = [d.text for d in load_paths(folders) if isinstance(d, Document)]
    windows = [
        [" ".join(ws[i : i + words]) for i in range(0, len(ws) - words // 2, words)]
        for ws in (t.split() for t in texts)
    ]
    out: list[str] = []
    depth = 0
    while len(out) < n and any(depth < len(w) for w in windows):
        out += [w[depth] for w in windows if depth < len(w)]
        depth += 1
    return out[:n]


def bench(dtype: str, texts: list[str], batch: int) -> dict[str, float]:
    emb = Embedder(Settings(embedding_dtype=dtype, embedding_batch_size=batch))
    t0 = time.perf_counter()
    emb.embed_query("opwarmen")  # loads the model
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb.embed_documents(texts)
    docs = time.perf_counter() - t0
    lat = []
    for q in QUERIES:
        t0 = time.perf_counter()
        emb.embed_query(q)
        lat.append(time.perf_counter() - t0)
    return {
        "load_s": load,
        "passages_per_s": len(texts) / docs,
        "query_ms_median": 1000 * statistics.median(lat),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--dtypes", default="bfloat16,float32")
    args = ap.parse_args()
    texts = passages(args.shared / "corpus", args.n)
    words = statistics.mean(len(t.split()) for t in texts)
    print(
        f"{len(texts)} passages, {words:.0f} words each on average, batch {args.batch}, {os.cpu_count()} CPUs"
    )
    for dtype in args.dtypes.split(","):
        r = bench(dtype, texts, args.batch)
        print(
            f"{dtype:>9}: load {r['load_s']:.1f} s, {r['passages_per_s']:.1f} passages/s, "
            f"query {r['query_ms_median']:.0f} ms (median of {len(QUERIES)})",
            flush=True,
        )


if __name__ == "__main__":
    main()
