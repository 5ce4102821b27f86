"""Latency and memory at the scale of a ministry (issue 12, benchmarks 3 and 4): 1k, 10k and 100k chunks.

    .venv/bin/python bench/bench_scale.py --json build/bench/scale.json                 # make bench, ~12 min
    .venv/bin/python bench/bench_scale.py --large --json build/bench/scale-large.json   # make bench-large, hours
    .venv/bin/python bench/bench_scale.py --quick --json build/bench/scale-quick.json   # smoke test, ~1.5 min

Data. The answer design stores every chunk with its sentence points (small-to-big) and its document's
parliamentary unit points; the points per chunk are measured by chunking the shared corpus with the
product's own ``document_units``. A synthetic document copies a real one's metadata, its number of chunks
and its sentences per chunk; each synthetic chunk is a window of consecutive real sentences of that
document, and every payload is the product's (``node_payload``: doc_id, access, kind, date, text, chunk_id,
spans, ...). Vectors come from the real model: the corpus's sentences and unit texts are embedded once by
the product's embedder (the vectors ingest would store; cached in ``build/bench/scale-cache``). A sentence
or unit point gets its real vector plus small noise, a chunk the normalised mean of its sentences' vectors
plus small noise. BM25 vectors come from the product's encoders; points are written by ``EdgeStore`` and
``QdrantStore``.

Each step runs in its own process, so that each memory figure is that step's alone: embedding the questions
(query embedding latency with the model alone), building a store (writing; ``optimize()`` as ingest runs it
after a large run of writes), probing it without the model (the store query of ``Searcher.search``, hybrid
dense + BM25 with the access filter; exact against HNSW search and recall@10), and serving (the product's
``Assistant`` on a home holding the store: extractive ``ask`` end to end, its query embedding, store calls
and answer composition timed inside it). qdrant-client local mode gets the same data and the same store
query, with fewer queries (it is pure Python). Matryoshka 256 dims and Qdrant Edge's scalar (int8) and
binary quantization are built from the same chunks and compared with the 768-dim exact results.

make bench: 1k, 10k and 100k chunks, 200 gold questions. HNSW is built at 1k chunks (seconds) and that is
where recall, the variants and qdrant-client local mode are measured; 10k and 100k chunks are measured as
written: the product searches exactly up to 100k points anyway, and HNSW over the ~860k points of 100k
chunks takes far longer than make bench may. ``--large`` adds HNSW at 10k chunks (with the variants and
local mode there), local mode at 100k chunks, and then extends the 100k-chunk store to 1M points, builds
HNSW over it and measures it (store query, recall, ask).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Result, current_rss_mib, summary_ms  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BENCH_DIR = ROOT / "build" / "bench"
CACHE = BENCH_DIR / "scale-cache" / "embeddings.sqlite"
# `make test` embeds the shared corpus's sentences into this cache; reading it (never writing) saves the
# first run of this bench a few minutes of embedding.
SEED_CACHES = (ROOT / "build" / "test-cache" / "embeddings.sqlite",)
CORPUS = ROOT.parent / "shared" / "corpus"
ACCESS = ["openbaar"]  # the public role: its filter is in every store query
# Noise added to a real vector before it is stored: a copy keeps cosine ~0.95 to its original, so the ~100
# copies of a sentence at 100k chunks spread out instead of being exact ties.
NOISE = 0.012
SEED = 12
K = 10  # recall@10
ONE_MILLION = 1_000_000


def peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ``common.peak_rss_mib``: ru_maxrss survives fork and exec on
    Linux, so a step started by this (large) process would report at least the parent's RSS."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- material: the shared corpus as the product chunks it, with real vectors ------------------------------


@dataclass
class Material:
    """What synthetic documents are made of. Sentence and unit vectors are rows of ``vectors``."""

    docs: list[dict[str, Any]]  # per real document: chunk templates, sentence sequence, units
    texts: list[str]  # every embedded text: the pool sentences, then the unit texts
    counts: dict[str, int]  # the real corpus: documents, chunks, sentences, units
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 768), np.float32))

    @property
    def points_per_chunk(self) -> float:
        c = self.counts
        return (c["chunks"] + c["sentences"] + c["units"]) / c["chunks"]


def load_material(corpus: Path, max_sentences: int) -> Material:
    """Chunk the corpus with ``document_units`` and pick up to ``max_sentences`` sentences to embed: whole
    chunks, round robin over the documents, so every document contributes consecutive sentences."""
    from corpus.loader import load_paths
    from corpus.models import ReadError
    from corpus.settings import Settings
    from index.chunking import CHUNK, SENTENCE, document_units, node_payload

    settings = Settings()
    counts: Counter[str] = Counter()
    raw: list[tuple[list, list[list], list]] = []  # per doc: chunk nodes, their sentence nodes, unit nodes
    for doc in load_paths([corpus], settings):
        if isinstance(doc, ReadError):
            continue
        nodes = document_units(doc, settings.chunk_tokens, settings.chunk_overlap)
        chunks, sentences, units = [], [], []
        for n in nodes:
            unit = n.metadata["unit"]
            if unit == CHUNK:
                chunks.append(n)
                sentences.append([])
            elif unit == SENTENCE:
                sentences[-1].append(n)
            else:
                units.append(n)
        counts.update(documents=1, chunks=len(chunks), sentences=sum(map(len, sentences)), units=len(units))
        raw.append((chunks, sentences, units))
    if not raw:
        raise SystemExit(f"no documents read from {corpus}")

    # Round robin over documents, one chunk's sentences at a time, until the budget is spent.
    taken = [0] * len(raw)
    budget = max_sentences
    progress = True
    while budget > 0 and progress:
        progress = False
        for i, (chunks, sentences, _) in enumerate(raw):
            if taken[i] < len(chunks) and budget > 0:
                budget -= len(sentences[taken[i]])
                taken[i] += 1
                progress = True

    texts: list[str] = []
    titles: list[str] = []
    docs: list[dict[str, Any]] = []
    for i, (chunks, sentences, units) in enumerate(raw):
        seq = [s for group in sentences[: taken[i]] for s in group]
        if not seq:
            continue
        first = len(texts)
        texts.extend(s.text for s in seq)
        titles.extend(s.metadata["embed_title"] for s in seq)
        docs.append(
            {
                "chunks": [node_payload(c) for c in chunks],
                "sizes": [len(g) for g in sentences],  # sentence points per chunk, as ingest writes them
                "sentences": [(first + j, {**s.metadata}) for j, s in enumerate(seq)],
                "units": [(n, {**node_payload(n)}) for n in units],
            }
        )
    # Unit texts are embedded too (as ingest does); their rows follow the sentences.
    for d in docs:
        resolved = []
        chunk_pos = {c["chunk_id"]: j for j, c in enumerate(d["chunks"])}
        for node, payload in d["units"]:
            resolved.append((len(texts), payload, chunk_pos.get(payload.get("chunk_id"), 0)))
            texts.append(node.text)
            titles.append(payload.get("embed_title"))
        d["units"] = resolved
    material = Material(docs=docs, texts=texts, counts=dict(counts))
    material.vectors = embed_texts(texts, titles)
    return material


def embed_texts(texts: list[str], titles: list[str | None]) -> np.ndarray:
    """The product's document vectors for ``texts``, from the bench's own cache; misses are looked up in
    ``SEED_CACHES`` (read only), then embedded with the model."""
    import sqlite3

    from corpus.settings import Settings
    from index.embeddings import EmbeddingCache, get_embedder

    emb = get_embedder(Settings(embedding_cache=CACHE))
    prompts = [emb.embedder.document_prompt(t) for t in titles]
    keys = [EmbeddingCache.key(p, t) for p, t in zip(prompts, texts, strict=True)]
    cached = emb.cache.get_many(emb.model_id, keys)
    missing = [k for k in dict.fromkeys(keys) if k not in cached]
    for seed in SEED_CACHES:
        if not missing or not seed.exists():
            continue
        found: dict[bytes, np.ndarray] = {}
        try:
            with contextlib.closing(sqlite3.connect(f"file:{seed}?mode=ro", uri=True)) as db:
                for start in range(0, len(missing), 500):
                    part = missing[start : start + 500]
                    rows = db.execute(
                        "SELECT key, vec FROM embeddings WHERE model = ? AND key IN "
                        f"({','.join('?' * len(part))})",
                        [emb.model_id, *part],
                    )
                    found.update({bytes(k): np.frombuffer(v, dtype=np.float32) for k, v in rows})
        except sqlite3.Error as e:  # only a shortcut: without it the model embeds the texts
            log(f"{seed} not read: {e}")
        if found:
            emb.cache.put_many(emb.model_id, found)
            log(f"{len(found)} vectors from {seed}")
        missing = [k for k in missing if k not in found]
    if missing:
        log(f"embedding {len(missing)} texts with the model (once; cached in {CACHE.parent})")
    t0 = time.perf_counter()
    vecs = np.asarray(emb.embed_documents(texts, titles), dtype=np.float32)
    if missing:
        log(f"embedded in {time.perf_counter() - t0:.0f} s")
    return vecs


def save_material(material: Material, path: Path) -> None:
    np.save(path.with_suffix(".npy"), material.vectors)
    data = {"docs": material.docs, "texts": material.texts, "counts": material.counts}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def read_material(path: Path) -> Material:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Material(
        docs=data["docs"],
        texts=data["texts"],
        counts=data["counts"],
        vectors=np.load(path.with_suffix(".npy")),
    )


# --- synthetic documents ------------------------------------------------------------------------------------


def _noisy(rng: np.random.Generator, vecs: np.ndarray) -> np.ndarray:
    out = vecs + rng.standard_normal(vecs.shape, dtype=np.float32) * NOISE
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@dataclass(slots=True)
class Record:
    """What ``VectorStore.add`` reads of a ``ChunkRecord`` (id, dense, sparse, payload): building a million
    pydantic records would cost more than writing them."""

    id: str
    dense: list[float]
    sparse: Any  # index.store.base.SparseVector
    payload: dict[str, Any]


def _uid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def synthetic_records(material: Material, n_chunks: int, *, skip_chunks: int = 0, dim: int = 768):
    """Batches of records: the first ``n_chunks`` chunks of the synthetic archive with their
    sentence and unit points, leaving out the documents that lie wholly within the first ``skip_chunks``
    (written before). Deterministic: each document draws from its own seeded generator, so every store gets
    the same points and a store can be extended later. ``dim`` < 768 truncates and renormalises (Matryoshka).
    """
    from index.store import SENTENCE_AVG_LEN, bm25_encoder
    from index.store.base import SparseVector

    chunk_bm25, sentence_bm25 = bm25_encoder(), bm25_encoder(SENTENCE_AVG_LEN)
    texts, vectors = material.texts, material.vectors
    sparse: dict[tuple[int, str], SparseVector] = {}  # a pool text's BM25 is the same in every copy

    def bm25_of(row: int, kind: str) -> SparseVector:
        key = (row, kind)
        if key not in sparse:
            enc = sentence_bm25 if kind == "sentence" else chunk_bm25
            sparse[key] = enc.encode_document(texts[row])
        return sparse[key]

    # Real documents are drawn in proportion to their chunks: the synthetic archive has the corpus's mix of
    # kinds, access levels and document sizes.
    weights = np.array([len(d["chunks"]) for d in material.docs], dtype=np.float64)
    weights /= weights.sum()
    batch: list[Any] = []
    written = 0
    k = 0
    while written < n_chunks:
        rng = np.random.default_rng([SEED, k])
        tpl = material.docs[int(rng.choice(len(material.docs), p=weights))]
        first = tpl["chunks"][0]
        doc = {
            "doc_id": f"{first['doc_id']}~{k}",
            "doc_hash": f"synthetic-{k}",
            "path": f"{first['path']}#{k}",
        }
        seq = tpl["sentences"]
        m = len(tpl["chunks"])
        chunk_ids = [_uid(rng) for _ in range(m)]
        # Draw everything for the whole document before cutting it to size: the same document is then
        # the same whether or not it is the last one of a scale.
        chunk_rows: list[list[int]] = []  # pool rows of each chunk's sentences
        # One per sentence point: (chunk position, pool row, index in the template's sentence sequence).
        point_rows: list[tuple[int, int, int]] = []
        for j, size in enumerate(tpl["sizes"]):
            width = min(len(seq), max(1, size))
            start = int(rng.integers(0, len(seq) - width + 1))
            chunk_rows.append([seq[i][0] for i in range(start, start + width)])
            point_rows.extend((j, seq[i][0], i) for i in range(start, start + min(size, width)))
        means = np.stack([vectors[rows].mean(axis=0) for rows in chunk_rows])
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        dense = _noisy(rng, np.concatenate([means, vectors[[r for _, r, _ in point_rows]]]))
        unit_dense = _noisy(rng, vectors[[row for row, _, _ in tpl["units"]]]) if tpl["units"] else None
        ids = [_uid(rng) for _ in range(len(point_rows) + len(tpl["units"]))]
        if dim < dense.shape[1]:
            dense = dense[:, :dim] / np.linalg.norm(dense[:, :dim], axis=1, keepdims=True)
            if unit_dense is not None:
                unit_dense = unit_dense[:, :dim] / np.linalg.norm(unit_dense[:, :dim], axis=1, keepdims=True)

        keep = min(m, n_chunks - written)
        skip = written + m <= skip_chunks
        written += keep
        k += 1
        if skip:
            continue
        chunk_texts = []
        offsets: dict[tuple[int, int], tuple[int, int]] = {}  # (chunk position, pool row) -> span
        for j, rows in enumerate(chunk_rows[:keep]):
            pos = 0
            for row in rows:
                offsets[(j, row)] = (pos, pos + len(texts[row]))
                pos += len(texts[row]) + 1
            chunk_texts.append(" ".join(texts[row] for row in rows))
        for j in range(keep):
            payload = {
                **tpl["chunks"][j],
                **doc,
                "chunk_id": chunk_ids[j],
                "chunk_hash": chunk_ids[j],
                "n_chunks": m,
                "text": chunk_texts[j],
            }
            batch.append(
                Record(
                    id=chunk_ids[j],
                    dense=dense[j].tolist(),
                    sparse=chunk_bm25.encode_document(chunk_texts[j]),
                    payload=payload,
                )
            )
        for p, (j, row, i) in enumerate(point_rows):
            if j >= keep:
                break
            start, end = offsets[(j, row)]
            payload = {
                **seq[i][1],
                **doc,
                "chunk_id": chunk_ids[j],
                "chunk_index": j,
                "start": start,
                "end": end,
                "text": texts[row],
            }
            batch.append(
                Record(
                    id=ids[p], dense=dense[m + p].tolist(), sparse=bm25_of(row, "sentence"), payload=payload
                )
            )
        for u, (row, tpl_payload, pos) in enumerate(tpl["units"]):
            if pos >= keep or unit_dense is None:
                continue
            payload = {**tpl_payload, **doc, "chunk_id": chunk_ids[pos]}
            # A motion's number is its own; copies must not all answer to one id (votes are joined by it).
            for key in ("unit_id", "was"):
                if payload.get(key):
                    payload[key] = f"{payload[key]}~{k}"
            batch.append(
                Record(
                    id=ids[len(point_rows) + u],
                    dense=unit_dense[u].tolist(),
                    sparse=bm25_of(row, "unit"),
                    payload=payload,
                )
            )
        if len(batch) >= 2048:
            yield batch
            batch = []
    if batch:
        yield batch


def chunks_for_points(material: Material, points: int) -> int:
    return round(points / material.points_per_chunk)


# --- stores -------------------------------------------------------------------------------------------------

VARIANTS = {
    # name: (dims, quantization). Quantized vectors are held in RAM and the originals left on disk (read only
    # to rescore the best candidates), which is what quantization is for.
    "768 float32 (default)": (768, None),
    "256 dims (Matryoshka)": (256, None),
    "768 + int8 scalar quantization": (768, "int8"),
    "768 + binary quantization": (768, "binary"),
}


def open_store(kind: str, path: Path | None, dim: int, quantization: str | None = None) -> Any:
    if kind == "qdrant-local":
        from index.store.qdrant import QdrantStore

        return QdrantStore(path=None, dim=dim)  # in memory: same query code as on disk, far faster writes
    from index.store.edge import EdgeStore

    if quantization is None:
        return EdgeStore(path, dim=dim)
    import qdrant_edge as qe

    from index.store.base import DENSE_VECTOR, SPARSE_VECTOR

    quant: Any = {
        "int8": qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99, memory=qe.Memory.Pinned),
        "binary": qe.BinaryQuantizationConfig(memory=qe.Memory.Pinned),
    }[quantization]

    class QuantizedEdgeStore(EdgeStore):
        """The product's EdgeStore with a quantized dense vector: only the shard's config differs."""

        def _open(self, dim: int) -> Any:
            config = qe.EdgeConfig(
                vectors={
                    DENSE_VECTOR: qe.EdgeVectorParams(
                        size=dim,
                        distance=qe.Distance.Cosine,
                        quantization_config=quant,
                        memory=qe.Memory.Cold,
                    )
                },
                sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            )
            if (self.path / "edge_config.json").exists() or (self.path / "segments").exists():
                return qe.EdgeShard.load(str(self.path), config)
            return qe.EdgeShard.create(str(self.path), config)

    return QuantizedEdgeStore(path, dim=dim)


def disk_mib(path: Path | None) -> float | None:
    if path is None or not path.exists():
        return None
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def write_store(store: Any, material: Material, spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    n = 0
    for batch in synthetic_records(
        material, spec["chunks"], skip_chunks=spec.get("skip", 0), dim=spec["dim"]
    ):
        store.add(batch)
        n += len(batch)
        if n % 100_000 < len(batch):
            log(f"  {n:,} points written")
    store.flush()
    out: dict[str, Any] = {"written": n, "write_s": round(time.perf_counter() - t0, 1), "optimize_s": None}
    shard = getattr(store, "_shard", None)  # Qdrant Edge
    indexed = shard.info().indexed_vectors_count if shard is not None else 0  # the sparse index only
    if spec.get("optimize"):
        t0 = time.perf_counter()
        store.optimize()
        out["optimize_s"] = round(time.perf_counter() - t0, 1)
    # Dense vectors optimize() put into HNSW; Edge leaves segments under its indexing threshold plain.
    out["hnsw_vectors"] = shard.info().indexed_vectors_count - indexed if shard is not None else 0
    out["points"] = store.count()
    return out


# --- the steps, each in its own process ------------------------------------------------------------------


def step_queries(spec: dict[str, Any]) -> dict[str, Any]:
    """The questions' embeddings with the real model (no cache): their latency, and the vectors for probes."""
    from corpus.settings import Settings
    from index.embeddings import Embedder

    emb = Embedder(Settings())
    t0 = time.perf_counter()
    emb.embed_query("Welke stukken zijn er over dit onderwerp?")  # loads the model
    load_s = time.perf_counter() - t0
    vecs, lat = [], []
    for q in spec["questions"]:
        t0 = time.perf_counter()
        vecs.append(emb.embed_query(q))
        lat.append(time.perf_counter() - t0)
    np.save(spec["vectors"], np.asarray(vecs, dtype=np.float32))
    return {"load_s": round(load_s, 1), "embed": summary_ms(lat), "peak_rss_mib": peak_rss_mib()}


def step_build(spec: dict[str, Any]) -> dict[str, Any]:
    material = read_material(Path(spec["material"]))
    path = Path(spec["path"])
    store = open_store("edge", path, spec["dim"], spec.get("quantization"))
    out = write_store(store, material, spec)
    store.close()
    out.update(peak_rss_mib=peak_rss_mib(), disk_mib=disk_mib(path))
    return out


QUERY_KINDS = ("hybrid chunk", "dense chunk", "dense sentence")
AUX_QUERIES = 50


def probe(store: Any, spec: dict[str, Any], modes: list[bool]) -> dict[str, Any]:
    """The store query of ``Searcher.search`` (hybrid, access filter) and the two dense searches of ``ask``,
    exact and/or HNSW: latency per query, and the top-10 ids for recall."""
    from corpus.settings import Settings
    from index.search import CHUNK, SENTENCE, build_filters
    from index.store import bm25_encoder
    from index.store.base import QuerySpec

    settings = Settings()
    vecs = np.load(spec["vectors"])
    if spec["dim"] < vecs.shape[1]:  # the model's Matryoshka truncation: first dims, renormalised
        vecs = vecs[:, : spec["dim"]] / np.linalg.norm(vecs[:, : spec["dim"]], axis=1, keepdims=True)
    questions = spec["questions"][: spec["n"]]
    bm25 = bm25_encoder()
    out: dict[str, Any] = {}
    for exact in modes:
        for kind in QUERY_KINDS:
            flt = build_filters(None, ACCESS)
            assert flt is not None
            flt.match["unit"] = SENTENCE if kind.endswith("sentence") else CHUNK
            # Without HNSW the dense-only searches give latency alone (no recall): fewer queries will do.
            n = (
                len(questions)
                if kind == "hybrid chunk" or len(modes) > 1
                else min(len(questions), AUX_QUERIES)
            )
            lat, ids, texts = [], [], []
            for q, v in zip(questions[:n], vecs, strict=False):
                hybrid = kind.startswith("hybrid")
                qs = QuerySpec(
                    dense=v.tolist(),
                    sparse=bm25.encode_query(q) if hybrid else None,
                    limit=K,
                    filters=flt,
                    mode="hybrid" if hybrid else "dense",
                    prefetch=max(settings.prefetch_k, K),
                    exact=exact,
                )
                t0 = time.perf_counter()
                hits = store.query_batch([qs])[0]
                lat.append(time.perf_counter() - t0)
                ids.append([h.id for h in hits])
                texts.append([h.payload.get("text", "")[:120] for h in hits])
            out[f"{kind}|{'exact' if exact else 'hnsw'}"] = {
                "latency": summary_ms(lat),
                "ids": ids,
                "texts": texts,
            }
    return out


EF_SWEEP = (128, 512)


def ef_sweep(store: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Dense HNSW searches with a larger search ef, a lever the product does not set (Edge's default is the
    index's ef_construct). Raw engine calls with the product's filter, since QuerySpec has no ef."""
    import qdrant_edge as qe

    from index.search import CHUNK, SENTENCE, build_filters
    from index.store.base import DENSE_VECTOR
    from index.store.edge import _to_filter

    vecs = np.load(spec["vectors"])[: spec["n"]]
    out: dict[str, Any] = {}
    for kind in QUERY_KINDS[1:]:
        flt = build_filters(None, ACCESS)
        assert flt is not None
        flt.match["unit"] = SENTENCE if kind.endswith("sentence") else CHUNK
        for ef in EF_SWEEP:
            lat, ids = [], []
            for v in vecs:
                request = qe.QueryRequest(
                    limit=K,
                    query=qe.Query.Nearest(v.tolist(), using=DENSE_VECTOR),
                    filter=_to_filter(flt),
                    params=qe.SearchParams(hnsw_ef=ef),
                )
                t0 = time.perf_counter()
                points = store._shard.query(request)
                lat.append(time.perf_counter() - t0)
                ids.append([str(p.id) for p in points])
            out[f"{kind}|ef{ef}"] = {"latency": summary_ms(lat), "ids": ids}
    return out


def step_probe(spec: dict[str, Any]) -> dict[str, Any]:
    from corpus.settings import Settings
    from index.search import Searcher  # noqa: F401 (the baseline below then holds the product's modules too)

    before = current_rss_mib()
    built: dict[str, Any] = {}
    t0 = time.perf_counter()
    if spec["store"] == "qdrant-local":
        store = open_store("qdrant-local", None, spec["dim"])
        built = write_store(store, read_material(Path(spec["material"])), spec)
    else:
        store = open_store("edge", Path(spec["path"]), spec["dim"], spec.get("quantization"))
        built["open_s"] = round(time.perf_counter() - t0, 2)
    points = store.count()
    product_exact = points <= Settings().exact_search_points
    hnsw = spec["store"] != "qdrant-local" and spec.get("hnsw")
    # The product's own path always; with HNSW built, the other one too (recall).
    result = probe(store, spec, [True, False] if hnsw else [product_exact or spec["store"] == "qdrant-local"])
    if hnsw and spec["dim"] == 768 and not spec.get("quantization"):
        result.update(ef_sweep(store, spec))
    out = {
        **built,
        "points": points,
        "product_exact": product_exact,
        # What the store holds in this process: RSS after opening and querying it, less the interpreter's.
        "store_rss_mib": round(current_rss_mib() - before, 1),
        "peak_rss_mib": peak_rss_mib(),
        "queries": result,
    }
    store.close()
    return out


def step_serve(spec: dict[str, Any]) -> dict[str, Any]:
    """The product's ``Assistant`` on a home holding the synthetic store, asked each question once (new to the
    process, so it is embedded). The stages are timed inside the real ``ask``: the instance's embedder,
    ``retrieve`` and ``_run`` are wrapped, so one pass gives the end-to-end figure and its parts."""
    from assistant.answer import Assistant
    from corpus.settings import Settings

    home = Path(spec["home"])
    # A cache of its own: every question (and the warm-up, which loads the model) is new to this step.
    settings = Settings(home=home, embedding_cache=Path(spec["out"]).with_suffix(".sqlite"))
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    assistant.ask("Welke stukken zijn er over dit onderwerp?", access=ACCESS)  # model load, store open
    load_s = time.perf_counter() - t0
    rss_loaded = current_rss_mib()

    spent: Counter[str] = Counter()

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t

        return wrapper

    def timed_stages(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        yield from run_stages(*a, **kw)
        spent["compose"] += time.perf_counter() - t

    embedder = assistant.searcher.index.embedder
    embedder.embed_query = timed("embed", embedder.embed_query)
    assistant.retrieve = timed("retrieve", assistant.retrieve)
    run_stages = assistant._run
    assistant._run = timed_stages

    stages: dict[str, list[float]] = {"embed": [], "retrieval": [], "compose": [], "ask": []}
    outcomes: Counter[str] = Counter()
    for q in spec["questions"][: spec["n"]]:
        spent.clear()
        t0 = time.perf_counter()
        answer = assistant.ask(q, access=ACCESS)
        stages["ask"].append(time.perf_counter() - t0)
        stages["embed"].append(spent["embed"])
        # Retrieval without the question's embedding: the store calls, BM25 of the question, the hits.
        stages["retrieval"].append(spent["retrieve"] - spent["embed"])
        stages["compose"].append(spent["compose"])
        outcomes[answer.outcome] += 1
    return {
        "load_s": round(load_s, 1),
        "points": assistant.searcher.index.store.count(),
        "exact": assistant.searcher.index.exact,
        **{k: summary_ms(v) for k, v in stages.items()},
        "outcomes": dict(outcomes),
        "rss_loaded_mib": rss_loaded,
        "peak_rss_mib": peak_rss_mib(),
    }


_STEP_NO = itertools.count(1)
STEPS = {"queries": step_queries, "build": step_build, "probe": step_probe, "serve": step_serve}


def run_step(work: Path, step: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one step in a fresh interpreter; its figures (peak RSS included) are that process's own."""
    spec_path = work / f"step-{next(_STEP_NO):02d}-{step}.json"
    out_path = spec_path.with_suffix(".out.json")
    spec_path.write_text(json.dumps({**spec, "out": str(out_path)}, ensure_ascii=False), encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--step", str(spec_path)], check=True)
    out = json.loads(out_path.read_text(encoding="utf-8"))
    out["step_s"] = round(time.perf_counter() - t0, 1)
    return out


# --- the run ------------------------------------------------------------------------------------------------


def recall(run: list[list[str]], truth: list[list[str]]) -> float:
    """Mean share of the true top-10 found. On texts, a noised copy of the same sentence counts as found."""
    scores = [len(set(a) & set(t)) / len(set(t)) for a, t in zip(run, truth, strict=False) if t]
    return round(float(np.mean(scores)), 3) if scores else 0.0


def recall_pair(run: dict[str, Any], truth: dict[str, Any]) -> str:
    return f"{recall(run['ids'], truth['ids']):g} / {recall(run['texts'], truth['texts']):g}"


def p50_95(s: dict[str, float]) -> str:
    return f"{s['p50']:g} / {s['p95']:g}"


def matryoshka_on_real_vectors(material: Material, n_sentences: int, queries: np.ndarray) -> str:
    """Recall@10 of 256 against 768 dims on the real sentence vectors themselves (no copies, no noise): the
    truncation's own loss, apart from the synthetic data's near-ties."""
    docs, qs = material.vectors[:n_sentences], queries

    def top(d: np.ndarray, q: np.ndarray) -> list[list[int]]:
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        return np.argsort(-(q @ d.T), axis=1)[:, :K].tolist()

    full = top(docs, qs)
    found = {dim: recall(top(docs[:, :dim], qs[:, :dim]), full) for dim in (512, 256, 128)}
    return (
        f"Matryoshka on the real vectors alone ({n_sentences:,} sentences of the shared corpus, {len(qs)} gold "
        "questions, exact search): recall@10 against 768 dims "
        + ", ".join(f"{dim} dims {r:g}" for dim, r in found.items())
        + "."
    )


def stats(s: dict[str, float]) -> list[Any]:
    return [s["n"], s["p50"], s["p95"], s["p99"]]


def load_questions(n: int) -> list[str]:
    from eval.gold import load_gold

    items = [i.question for i in load_gold(ROOT / "eval" / "qa")]
    random.Random(SEED).shuffle(items)  # the first n then mix every file: facts, motions, unanswerable
    return items[:n]


@dataclass
class Plan:
    scales: list[int]  # chunks
    questions: int
    max_sentences: int  # real sentences embedded for the synthetic data
    hnsw_max_points: int  # optimize() (as ingest does after a large run) only up to this many points
    local_queries: dict[int, int]  # chunks -> queries for qdrant-client local mode
    variant_chunks: int
    large: bool = False
    large_points: int = ONE_MILLION


def make_plan(args: argparse.Namespace) -> Plan:
    if args.quick:
        # 600 chunks are just over ingest's OPTIMIZE_AFTER points: HNSW, recall and quantization all run.
        plan = Plan([600], 10, 400, 100_000, {600: 5}, 600)
    elif args.large:
        # 10k chunks get HNSW too; 100k chunks are measured as written, then extended to 1M points and
        # optimized. qdrant-client local mode is measured at every scale, with few queries where it is slow.
        plan = Plan(
            [1000, 10_000, 100_000], 200, 8000, 200_000, {1000: 50, 10_000: 10, 100_000: 3}, 10_000, True
        )
    else:
        # Within make bench's budget: HNSW is built where it takes seconds (1k chunks); at 10k and 100k chunks
        # the stores are measured as written (the product searches exactly up to 100k points anyway).
        plan = Plan([1000, 10_000, 100_000], 200, 8000, 20_000, {1000: 50}, 1000)
    if args.scales:
        plan.scales = [int(x) for x in args.scales.split(",")]  # variants only if theirs is among them
    if args.questions:
        plan.questions = args.questions
    plan.large_points = args.large_points
    return plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the result here")
    ap.add_argument("--quick", action="store_true", help="a small configuration for a smoke test")
    ap.add_argument(
        "--large", action="store_true", help="also 1M points with HNSW, more variants (takes long)"
    )
    ap.add_argument("--scales", help="chunks per scale, comma-separated (default 1000,10000,100000)")
    ap.add_argument("--questions", type=int, help="questions per measurement (default 200)")
    ap.add_argument("--large-points", type=int, default=ONE_MILLION, help="--large: points of the last store")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--work", type=Path, help="where the stores go (default: a new folder in build/bench)")
    ap.add_argument("--keep", action="store_true", help="keep the stores in --work")
    ap.add_argument("--step", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.step:
        spec = json.loads(args.step.read_text(encoding="utf-8"))
        out = STEPS[args.step.stem.split("-", 2)[2]](spec)
        Path(spec["out"]).write_text(json.dumps(out), encoding="utf-8")
        return

    plan = make_plan(args)
    result = Result("scale")
    # A folder of its own: a smoke test may run while make bench does.
    parent = args.work or BENCH_DIR
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scale-work-", dir=parent))
    try:
        run(result, plan, args.corpus, work, args.quick)
    finally:
        if args.keep:
            log(f"stores kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result.write(args.json)


@dataclass
class Rows:
    """The result's tables, filled scale by scale."""

    stores: list[list[Any]] = field(default_factory=list)
    latency: list[list[Any]] = field(default_factory=list)
    compare: list[list[Any]] = field(default_factory=list)
    recall: list[list[Any]] = field(default_factory=list)
    ef: list[list[Any]] = field(default_factory=list)
    memory: list[list[Any]] = field(default_factory=list)
    variants: list[list[Any]] = field(default_factory=list)
    variant_mode: str = "exact"
    notes: list[str] = field(default_factory=list)
    local_runs: list[str] = field(default_factory=list)  # "50 at 1,000 chunks"

    def edge(self, label: Any, built: dict, probed: dict, served: dict, model_peak: float) -> None:
        """The rows of one Edge store: its data, latency, recall and memory."""
        product = "exact" if probed["product_exact"] else "hnsw"
        hybrid = probed["queries"][f"hybrid chunk|{product}"]["latency"]
        hnsw = built["optimize_s"] is not None
        if probed["product_exact"]:
            how = "exact"
        else:
            how = "HNSW" if built["hnsw_vectors"] else "not exact, but no HNSW built: a scan"
        self.stores.append(
            [
                label,
                built["points"],
                built["write_s"],
                built["optimize_s"] if hnsw else "not run",
                built["hnsw_vectors"],
                built["disk_mib"],
                "exact" if probed["product_exact"] else "HNSW",
            ]
        )
        self.latency += [
            [label, "query embedding (inside ask)", *stats(served["embed"])],
            [label, f"store query (hybrid + access filter; {how})", *stats(hybrid)],
            [label, "retrieval: ask's store calls (without the embedding)", *stats(served["retrieval"])],
            [label, "answer composition (select, decide, compose, support)", *stats(served["compose"])],
            [label, "end-to-end extractive ask", *stats(served["ask"])],
        ]
        self.compare.append(["Qdrant Edge", label, built["points"], built["write_s"], *stats(hybrid), "–"])
        for kind in QUERY_KINDS:
            ex = probed["queries"].get(f"{kind}|exact")
            hn = probed["queries"].get(f"{kind}|hnsw")
            if not built["hnsw_vectors"]:  # without HNSW either path is a scan: exact search's cost
                ex, hn = ex or hn, None
            self.recall.append(
                [
                    label,
                    kind,
                    recall_pair(hn, ex) if hn and ex else "no HNSW",
                    p50_95(ex["latency"]) if ex else "–",
                    p50_95(hn["latency"]) if hn else "–",
                ]
            )
            for ef in EF_SWEEP:
                swept = probed["queries"].get(f"{kind}|ef{ef}")
                if swept:
                    self.ef.append(
                        [label, kind, ef, recall(swept["ids"], ex["ids"]), p50_95(swept["latency"])]
                    )
        self.memory.append(
            [
                label,
                built["points"],
                probed["store_rss_mib"],
                built["peak_rss_mib"],
                model_peak,
                served["rss_loaded_mib"],
                served["peak_rss_mib"],
            ]
        )


def run(result: Result, plan: Plan, corpus: Path, work: Path, quick: bool) -> None:
    from index.ingest import OPTIMIZE_AFTER

    log(f"material from {corpus}")
    material = load_material(corpus, plan.max_sentences)
    material_path = work / "material.json"
    save_material(material, material_path)
    ratio = material.points_per_chunk
    c = material.counts
    n_sentences = sum(len(d["sentences"]) for d in material.docs)
    copies = round(max(plan.scales) * c["sentences"] / c["chunks"] / n_sentences)
    result.table(
        "Points per chunk in the answer design (the shared corpus, chunked by the product's document_units)",
        ["documents", "chunks", "sentence points", "unit points", "points per chunk"],
        [[c["documents"], c["chunks"], c["sentences"], c["units"], round(ratio, 2)]],
    )
    result.notes.append(
        f"Synthetic data from {n_sentences:,} real sentences and {len(material.texts) - n_sentences} unit texts "
        f"of the shared corpus, embedded by the real model once (cached in {CACHE.parent.relative_to(ROOT)}). "
        f"Each point's vector is a real one (a chunk's: the mean of its sentences') plus noise (σ = {NOISE} a "
        f"dimension, cosine ~0.95 to the original). At {max(plan.scales):,} chunks each real sentence is stored "
        f"about {copies:,}× (noised), so recall is given on point ids (strict: another copy of the same "
        "sentence is a miss) and on texts (a copy counts); both understate what a real archive, with fewer "
        "near-ties, would give."
    )

    questions = load_questions(plan.questions)
    base = {"material": str(material_path), "questions": questions, "vectors": str(work / "queries.npy")}
    log(f"query embedding: {len(questions)} questions")
    embedded = run_step(work, "queries", base)
    model_peak = embedded["peak_rss_mib"]
    rows = Rows()
    rows.latency.append(["–", "query embedding (the model alone, bf16)", *stats(embedded["embed"])])
    result.notes.append(matryoshka_on_real_vectors(material, n_sentences, np.load(base["vectors"])))

    at: dict[int, dict[str, Any]] = {}
    for chunks in plan.scales:
        home = work / f"home-{chunks}"
        path = home / "store" / "edge"
        # As ingest does after a large run of writes, within the plan's budget for building HNSW.
        optimize = OPTIMIZE_AFTER <= chunks * ratio <= plan.hnsw_max_points
        log(f"{chunks:,} chunks: build (optimize: {optimize})")
        spec = {**base, "store": "edge", "path": str(path), "chunks": chunks, "dim": 768, "n": plan.questions}
        built = run_step(work, "build", {**spec, "optimize": optimize})
        log(
            f"{chunks:,} chunks: {built['points']:,} points, write {built['write_s']} s, "
            f"optimize {built['optimize_s']} s"
        )
        probed = run_step(work, "probe", {**spec, "hnsw": optimize})
        log(f"{chunks:,} chunks: serve")
        served = run_step(work, "serve", {**base, "home": str(home), "n": plan.questions})
        at[chunks] = {"built": built, "probed": probed, "served": served}
        rows.edge(chunks, built, probed, served, model_peak)
        if chunks in plan.local_queries:
            measure_local(
                rows, work, {**spec, "store": "qdrant-local", "n": plan.local_queries[chunks]}, probed
            )
        if chunks == plan.variant_chunks:
            measure_variants(rows, work, {**spec, "optimize": optimize, "hnsw": optimize}, built, probed)
        if not (plan.large and chunks == max(plan.scales)):  # --large extends the largest store to 1M points
            shutil.rmtree(home, ignore_errors=True)

    large: dict[str, Any] | None = None
    if plan.large:
        biggest = max(plan.scales)
        chunks = chunks_for_points(material, plan.large_points)
        home = work / f"home-{biggest}"
        spec = {
            **base,
            "store": "edge",
            "path": str(home / "store" / "edge"),
            "chunks": chunks,
            "dim": 768,
            "n": plan.questions,
        }
        log(
            f"{plan.large_points:,} points: the {biggest:,}-chunk store extended to {chunks:,} chunks, then optimize"
        )
        built = run_step(work, "build", {**spec, "skip": biggest, "optimize": True})
        built["write_s"] = f"{built['write_s']} (the chunks after {biggest:,})"
        probed = run_step(work, "probe", {**spec, "hnsw": True})
        served = run_step(work, "serve", {**base, "home": str(home), "n": plan.questions})
        large = {"chunks": chunks, "built": built, "probed": probed, "served": served}
        rows.edge(f"{chunks} ({built['points']:,} points)", built, probed, served, model_peak)

    write_tables(result, rows, plan)
    targets(result, at, large, quick)


def measure_local(rows: Rows, work: Path, spec: dict[str, Any], edge: dict[str, Any]) -> None:
    """qdrant-client local mode on the same data (in memory) with the same store query; its top-10 is
    compared with Edge's as a check that both engines answer alike."""
    log(f"{spec['chunks']:,} chunks: qdrant-client local mode ({spec['n']} queries)")
    local = run_step(work, "probe", spec)
    lh = local["queries"]["hybrid chunk|exact"]
    rows.local_runs.append(f"{len(lh['ids'])} at {spec['chunks']:,} chunks")
    edge_hybrid = edge["queries"][f"hybrid chunk|{'exact' if edge['product_exact'] else 'hnsw'}"]
    agree = recall(lh["ids"], edge_hybrid["ids"][: len(lh["ids"])])
    rows.compare.append(
        [
            "qdrant-client local (in memory)",
            spec["chunks"],
            local["points"],
            local["write_s"],
            *stats(lh["latency"]),
            agree,
        ]
    )
    rows.memory.append(
        [
            f"{spec['chunks']} (qdrant-client local)",
            local["points"],
            local["store_rss_mib"],
            "–",
            "–",
            "–",
            "–",
        ]
    )


def measure_variants(rows: Rows, work: Path, spec: dict[str, Any], built: dict, probed: dict) -> None:
    """The same chunks at 256 dims and with Edge's quantizations, against the 768-dim exact results."""
    mode = "hnsw" if spec["optimize"] else "exact"
    rows.variant_mode = mode.replace("hnsw", "HNSW")
    ref = probed["queries"]
    for name, (dim, quant) in VARIANTS.items():
        if dim == 768 and quant is None:
            v_built, v_probed = built, probed
        else:
            log(f"{spec['chunks']:,} chunks: {name}")
            vpath = work / f"variant-{dim}-{quant}"
            v_spec = {**spec, "path": str(vpath), "dim": dim, "quantization": quant}
            v_built = run_step(work, "build", v_spec)
            v_probed = run_step(work, "probe", v_spec)
            shutil.rmtree(vpath, ignore_errors=True)
        q = v_probed["queries"]
        rows.variants.append(
            [
                name,
                v_built["disk_mib"],
                v_built["optimize_s"],
                v_built["hnsw_vectors"],
                v_probed["store_rss_mib"],
                p50_95(q[f"hybrid chunk|{mode}"]["latency"]),
                *[recall_pair(q[f"{kind}|{mode}"], ref[f"{kind}|exact"]) for kind in QUERY_KINDS],
                recall_pair(q["dense chunk|exact"], ref["dense chunk|exact"]),
            ]
        )
        if quant:
            same = recall(q["dense chunk|exact"]["ids"], ref["dense chunk|exact"]["ids"]) == 1.0
            how = "ignores the quantization (the default's top-10)" if same else "uses the quantized vectors"
            rows.notes.append(f"{name}: exact search {how}.")


def write_tables(result: Result, rows: Rows, plan: Plan) -> None:
    result.table(
        "Synthetic stores (Qdrant Edge, 768 dims)",
        [
            "chunks",
            "points",
            "write s",
            "optimize s",
            "dense vectors in HNSW",
            "disk MiB",
            "the product's dense search",
        ],
        rows.stores,
    )
    result.table(
        f"Latency in ms (Qdrant Edge; role openbaar; {plan.questions} gold questions, each new to the process)",
        ["chunks", "what", "n", "p50", "p95", "p99"],
        rows.latency,
    )
    result.table(
        "Qdrant Edge against qdrant-client local mode: the same data, the store query in ms",
        ["store", "chunks", "points", "write s", "n", "p50", "p95", "p99", "top-10 shared with Edge"],
        rows.compare,
    )
    result.table(
        "Recall@10 of HNSW against exact search, Qdrant Edge (points / texts), with p50 / p95 ms of each",
        ["chunks", "query (access filter)", "recall@10", "exact ms", "HNSW ms"],
        rows.recall,
    )
    if rows.ef:
        result.table(
            "HNSW search ef, a lever the product does not set (Edge's default: the index's ef_construct): "
            "recall@10 (points) against exact, p50 / p95 ms",
            ["chunks", "query (access filter)", "hnsw_ef", "recall@10", "ms"],
            rows.ef,
        )
    result.table(
        "Memory (RSS) in MiB, each step its own process",
        [
            "chunks",
            "points",
            "store opened and queried: RSS above the interpreter (no model)",
            "build: peak RSS (write + optimize)",
            "the model alone: peak RSS",
            "serve: RSS with the Assistant loaded",
            "serve: peak RSS (model load included)",
        ],
        rows.memory,
    )
    if rows.variants:
        mode = rows.variant_mode
        result.table(
            f"Matryoshka and quantization at {plan.variant_chunks:,} chunks: recall@10 against 768-dim exact "
            "search (points / texts)",
            [
                "variant",
                "disk MiB",
                "optimize s",
                "dense vectors in HNSW",
                "store RSS MiB (above the interpreter)",
                f"hybrid query p50 / p95 ms ({mode})",
                *[f"recall@10 {k} ({mode})" for k in QUERY_KINDS],
                "recall@10 dense chunk (exact)",
            ],
            rows.variants,
        )
    if rows.local_runs:
        result.notes.append(
            "qdrant-client local mode is pure Python and always exact (it ignores search params, so it has no "
            "HNSW figures); it runs in memory here (the same query code as on disk, far faster writes) and with "
            f"fewer queries: {', '.join(rows.local_runs)}."
        )
    if rows.variants:
        result.notes.append(
            "Quantized variants keep the quantized vectors in RAM (Memory.Pinned) and the originals on disk "
            "(Memory.Cold), which is what quantization is for; the product's store does not quantize."
        )
    result.notes.extend(rows.notes)


PART_NAMES = {"embed": "query embedding", "retrieval": "store calls", "compose": "composition"}


def targets(result: Result, at: dict[int, dict[str, Any]], large: dict[str, Any] | None, quick: bool) -> None:
    """The issue's targets: store query and ask at 100k chunks (make bench), store query at 1M points (large)."""
    fig = at.get(100_000)
    with_hnsw = ""
    if large is not None:
        q = large["probed"]["queries"]["hybrid chunk|hnsw"]["latency"]
        with_hnsw = (
            f" With HNSW at {large['built']['points']:,} points ({large['chunks']:,} chunks, this run): "
            f"store query p95 {q['p95']:g} ms, "
            f"ask p95 {large['served']['ask']['p95']:g} ms."
        )
    if fig is None:
        why = "not run (--quick)" if quick else "not run (100k chunks not among --scales)"
        result.target("store_p95_100k", "store query p95 at 100k chunks", "≤ 10 ms", "–", None, why)
        result.target("ask_p95_100k", "end-to-end extractive ask p95 at 100k chunks", "≤ 1 s", "–", None, why)
    else:
        built, probed, served = fig["built"], fig["probed"], fig["served"]
        mode = "exact" if probed["product_exact"] else "hnsw"
        p95 = probed["queries"][f"hybrid chunk|{mode}"]["latency"]["p95"]
        as_written = not built["hnsw_vectors"]
        why = (
            f"The store is measured as written: optimize() (HNSW) over {built['points']:,} points takes far longer "
            "than make bench may, so every query scans all the points its filter selects."
            if as_written
            else ""
        )
        note = ""
        if p95 > 10:
            note = (
                f"{why} Next step: HNSW (make bench-large), or a smaller scan: Matryoshka 256, quantization."
            )
        result.target(
            "store_p95_100k",
            "store query p95 at 100k chunks",
            "≤ 10 ms",
            f"{p95:g} ms",
            p95 <= 10,
            (note + with_hnsw).strip(),
        )
        ask95 = served["ask"]["p95"]
        note = ""
        if ask95 > 1000:
            parts = {k: served[k]["p95"] for k in ("embed", "retrieval", "compose")}
            worst = max(parts, key=lambda k: parts[k])
            note = (
                f"p95 of its parts: query embedding {parts['embed']:g} ms, store calls {parts['retrieval']:g} ms, "
                f"composition {parts['compose']:g} ms. {why} Next step: the {PART_NAMES[worst]} first"
                + (" (HNSW: make bench-large)." if worst == "retrieval" and as_written else ".")
            )
        result.target(
            "ask_p95_100k",
            "end-to-end extractive ask p95 at 100k chunks",
            "≤ 1 s",
            f"{ask95:g} ms",
            ask95 <= 1000,
            (note + with_hnsw).strip(),
        )
    if large is None:
        result.target(
            "store_p95_1m",
            "store query p95 at 1M points (HNSW), recall@10 against exact",
            "≤ 30 ms, recall ≥ 0.95",
            "–",
            None,
            "not run; make bench-large",
        )
        return
    q = large["probed"]["queries"]
    p95 = q["hybrid chunk|hnsw"]["latency"]["p95"]
    r = recall(q["hybrid chunk|hnsw"]["ids"], q["hybrid chunk|exact"]["ids"])
    r_text = recall(q["hybrid chunk|hnsw"]["texts"], q["hybrid chunk|exact"]["texts"])
    met: bool | None = p95 <= 30 and r >= 0.95
    note = ""
    if large["built"]["points"] < 0.95 * ONE_MILLION:
        met, note = None, f"measured at {large['built']['points']:,} points only (--large-points)"
    elif not met:
        note = (
            "Next step: "
            + ("a larger hnsw_ef for recall (see the ef table)" if r < 0.95 else "quantization for latency")
            + "; EdgeStore sets neither today."
        )
    result.target(
        "store_p95_1m",
        "store query p95 at 1M points (HNSW), recall@10 against exact",
        "≤ 30 ms, recall ≥ 0.95",
        f"{p95:g} ms, recall {r:g} (texts {r_text:g})",
        met,
        note,
    )


if __name__ == "__main__":
    main()
