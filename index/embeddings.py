"""Dense embeddings with EmbeddingGemma (or any sentence-transformers folder), plus a SQLite vector cache.

Embedding dominates ingest time on CPU (~8 passages/s in bf16 on 2 cores), so every vector is cached by
(model id, sha256 of the exact prompt + text) and the model is loaded lazily, once per process: a re-ingest
of unchanged text never loads the model at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from corpus.settings import Settings
from index.models_install import (
    OPENVINO_XML,
    ModelNotAvailableError,
    export_openvino,
    openvino_dir,
    read_marker,
    resolve_model_path,
    sha256_file,
    tokenize_for_graph,
)

# Must be set before huggingface_hub is imported: its constants read the environment once. setdefault, so
# a deployment with a reachable hub can still opt in with HF_HUB_OFFLINE=0.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Measured on the Dutch check of tests/test_embeddings.py (8 queries, 8 passages, 4 from one document):
# both variants rank 8/8, but "title: {title} | text: " shrinks the margin of the right passage over the
# best wrong one (mean 0.198 -> 0.165, min 0.081 -> 0.040): a title shared by all chunks of a document
# pulls them together. So titles are accepted but unused unless `use_titles` is switched on.
USE_TITLES = False

_TITLE_SLOT = "title: none"
_load_lock = threading.Lock()
# One loaded model per (resolved path, dtype, backend) per process; Embedder objects are cheap views on it.
_models: dict[tuple[str, str, str], Any] = {}
_encode_locks: dict[tuple[str, str, str], threading.Lock] = {}
_fingerprints: dict[tuple[str, int, int], str] = {}


def cpu_has_bf16() -> bool:
    """Native bf16 matmuls (AVX512-BF16 or AMX); without them bf16 is emulated and slower than fp32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_dtype(setting: str) -> str:
    if setting == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    return setting


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _weights_fingerprint(folder: Path) -> str:
    """sha256 of the main weights: from the install marker when verified, else hashed once per process."""
    marker = read_marker(folder)
    if marker and "model.safetensors" in marker.get("files", {}):
        return marker["files"]["model.safetensors"]["sha256"]
    candidates = [
        folder / "model.safetensors",
        folder / "pytorch_model.bin",
        *sorted(folder.glob("*.safetensors")),
    ]
    weights = next((p for p in candidates if p.is_file()), None)
    if weights is None:  # no weights at top level: identify by the file list instead
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        return hashlib.sha256("\n".join(names).encode()).hexdigest()
    st = weights.stat()
    key = (str(weights), st.st_size, st.st_mtime_ns)
    if key not in _fingerprints:
        _fingerprints[key] = sha256_file(weights)
    return _fingerprints[key]


def _folder_dim(folder: Path) -> int | None:
    """Output dimension read from a sentence-transformers folder, so `dim` needs no model load."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list):
        return None
    for m in reversed(modules):
        cfg = _read_json(folder / m.get("path", "") / "config.json") or {}
        kind = m.get("type", "")
        if kind.endswith("Dense") and "out_features" in cfg:
            return int(cfg["out_features"])
        if kind.endswith("Pooling") and "word_embedding_dimension" in cfg:
            modes = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
            return int(cfg["word_embedding_dimension"]) * max(1, len(modes))
    return None


class Embedder:
    """Loads the configured model on first use; ``embed_*`` return float32-exact, L2-normalised vectors."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dtype = resolve_dtype(settings.embedding_dtype)
        self.backend = settings.embedding_backend
        self.batch_size = settings.embedding_batch_size
        self.use_titles = USE_TITLES

    # --- identity, without loading -------------------------------------------------------------------

    @cached_property
    def path(self) -> str:
        """Local folder (or, where a hub is reachable, a hub id) of the model."""
        return resolve_model_path(self.settings)

    @cached_property
    def _folder(self) -> Path | None:
        """The local model folder; None for a hub id (only where a hub is reachable)."""
        p = Path(self.path)
        if p.is_dir():
            return p
        if p.is_absolute():  # resolve_model_path gives hub ids as "org/name", never absolute
            raise ModelNotAvailableError(
                f"no model at {p} (embedding_model={self.settings.embedding_model!r}); "
                "run `briefing models install`"
            )
        return None

    @cached_property
    def native_dim(self) -> int:
        dim = _folder_dim(self._folder) if self._folder else None
        return dim or int(self.model.get_embedding_dimension())

    @cached_property
    def dim(self) -> int:
        want = self.settings.embedding_dim
        if want > self.native_dim:
            raise ValueError(f"embedding_dim={want} exceeds the model's {self.native_dim} dimensions")
        return want

    @property
    def truncate_dim(self) -> int | None:
        # Matryoshka: EmbeddingGemma was trained so that leading 512/256/128 dims stay meaningful.
        return self.dim if self.dim < self.native_dim else None

    @cached_property
    def model_id(self) -> str:
        """Stable id for caches and stores: name@first 12 hex of the weights' sha256 (+ /d<dim> if truncated).

        The dtype and the backend are deliberately not part of it: bf16 and fp32 vectors, from torch or from
        the OpenVINO export, live in one space (same rankings; bench/bench_levers.py measures how close).
        """
        if self._folder is None:
            name, fp = self.path, "hub"
        else:
            name, fp = self._folder.name, _weights_fingerprint(self._folder)[:12]
        suffix = f"/d{self.dim}" if self.truncate_dim else ""
        return f"{name}@{fp}{suffix}"

    @cached_property
    def prompts(self) -> dict[str, str]:
        if self._folder is not None:
            cfg = _read_json(self._folder / "config_sentence_transformers.json")
            if cfg is not None:
                return dict(cfg.get("prompts") or {})
        return dict(self.model.prompts)

    def query_prompt(self, task: str | None = None) -> str:
        """The model's query prompt, or EmbeddingGemma's form for another task ("question answering")."""
        base = self.prompts.get("query", "")
        if task is None:
            return base
        return re.sub(r"^task: [^|]*\|", f"task: {task} |", base) if base.startswith("task: ") else base

    def document_prompt(self, title: str | None = None) -> str:
        base = next((self.prompts[k] for k in ("document", "passage", "corpus") if k in self.prompts), "")
        if self.use_titles and title and _TITLE_SLOT in base:
            clean = " ".join(title.split()).replace("|", "/")
            return base.replace(_TITLE_SLOT, f"title: {clean}", 1)
        return base

    # --- the model --------------------------------------------------------------------------------------

    @property
    def _key(self) -> tuple[str, str, str]:
        return (self.path, self.dtype, self.backend)

    @property
    def loaded(self) -> bool:
        return self._key in _models

    @property
    def model(self) -> Any:
        key = self._key
        if key not in _models:
            with _load_lock:
                if key not in _models:
                    _models[key] = self._load()
                    _encode_locks[key] = threading.Lock()
        return _models[key]

    def _load(self) -> Any:
        if self._folder is not None and not (self._folder / "modules.json").is_file():
            raise ModelNotAvailableError(
                f"no sentence-transformers model at {self._folder} (embedding_model="
                f"{self.settings.embedding_model!r}); run `briefing models install`"
            )
        if self.backend == "openvino":
            if self._folder is None:
                raise ModelNotAvailableError(
                    f"embedding_backend 'openvino' needs a local model folder, not the hub id {self.path!r}"
                )
            weights = _weights_fingerprint(self._folder)
            # `briefing models install` exports once; a model installed before the switch is exported here.
            ir = export_openvino(
                self._folder,
                openvino_dir(self.settings.models, self._folder, weights),
                weights,
                log=lambda m: print(m, file=sys.stderr),
            )
            return OpenVINOEncoder(self._folder, ir, self.dtype)
        import torch
        from sentence_transformers import SentenceTransformer

        with contextlib.suppress(Exception):  # a progress bar per load only clutters CLI output
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        dtype = torch.bfloat16 if self.dtype == "bfloat16" else torch.float32
        return SentenceTransformer(self.path, device="cpu", model_kwargs={"dtype": dtype})

    def encode(self, texts: Sequence[str], prompts: Sequence[str], task: str) -> np.ndarray:
        """Embed ``texts`` with one prompt each (grouped, so each prompt is one ``encode_*`` call)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        model = self.model
        fn = model.encode_query if task == "query" else model.encode_document
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(p, []).append(i)
        with _encode_locks[self._key]:  # two threads encoding at once only thrash 2 cores
            for prompt, idx in groups.items():
                for batch in _token_batches([texts[i] for i in idx], self.batch_size):
                    vecs = fn(
                        [texts[idx[i]] for i in batch],
                        prompt=prompt,
                        batch_size=len(batch),
                        normalize_embeddings=True,
                        truncate_dim=self.truncate_dim,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                    out[[idx[i] for i in batch]] = np.asarray(vecs, dtype=np.float32)
        # bf16 normalises in bf16 (norms off by ~1e-3): renormalise in float32 so dot == cosine.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        prompts = [self.document_prompt(t) for t in _titles(texts, titles)]
        return self.encode(list(texts), prompts, "document").tolist()

    def embed_query(self, text: str, task: str | None = None) -> list[float]:
        return self.encode([text], [self.query_prompt(task)], "query")[0].tolist()


class OpenVINOEncoder:
    """The model's OpenVINO export (``index.models_install.export_openvino``) behind the calls ``Embedder``
    makes of a SentenceTransformer: same tokenizer, prompts, truncation and normalised output.

    bf16 runs where the CPU has it (``resolve_dtype``), as torch does. Not thread-safe: ``Embedder.encode``
    holds its lock around every call.
    """

    def __init__(self, model_folder: Path, ir_folder: Path, dtype: str):
        import openvino as ov
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
        st_cfg = _read_json(model_folder / "sentence_bert_config.json") or {}
        self.max_seq_length = int(st_cfg.get("max_seq_length") or self.tokenizer.model_max_length)
        self.prompts: dict[str, str] = dict(
            (_read_json(model_folder / "config_sentence_transformers.json") or {}).get("prompts") or {}
        )
        hint = "bf16" if dtype == "bfloat16" else "f32"
        self._compiled = ov.Core().compile_model(
            str(ir_folder / OPENVINO_XML), "CPU", {"INFERENCE_PRECISION_HINT": hint}
        )
        self._request = self._compiled.create_infer_request()
        self._output = self._compiled.output(0)

    def get_embedding_dimension(self) -> int:
        return int(self._output.get_partial_shape()[1].get_length())

    def _encode(self, texts: Sequence[str], prompt: str, truncate_dim: int | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, truncate_dim or self.get_embedding_dimension()), dtype=np.float32)
        inputs = tokenize_for_graph(self.tokenizer, [prompt + t for t in texts], self.max_seq_length)
        vecs = np.array(self._request.infer(inputs)[self._output], dtype=np.float32)
        if truncate_dim:
            vecs = vecs[:, :truncate_dim]
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def encode_document(
        self, texts: Sequence[str], prompt: str | None = None, truncate_dim: int | None = None, **_: Any
    ) -> np.ndarray:
        """``SentenceTransformer.encode_document``'s contract for what Embedder asks (batching is the caller's)."""
        return self._encode(
            texts, self.prompts.get("document", "") if prompt is None else prompt, truncate_dim
        )

    def encode_query(
        self, texts: Sequence[str], prompt: str | None = None, truncate_dim: int | None = None, **_: Any
    ) -> np.ndarray:
        return self._encode(texts, self.prompts.get("query", "") if prompt is None else prompt, truncate_dim)


# Words per batch: ``batch_size`` passages of a full chunk (~230 words). Short texts (sentences) go in
# larger batches of the same cost, sorted by length so that a batch pads to its own longest text.
_WORDS_PER_PASSAGE = 230
# At most this many texts per batch. Measured side by side (bench/bench_batch.py, 5 Handelingen items, 1,086
# sentences and 135 chunks, 2026-12-02): sentences 61.5/s at 64 against 55.4/s at 256, chunks 8.8 against
# 8.7/s; vectors equal up to bf16 noise (cosine ≥ 0.9997).
_MAX_BATCH = 64


def _token_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indexes of ``texts`` in length-sorted batches of about ``batch_size`` full passages' worth of words."""
    budget = batch_size * _WORDS_PER_PASSAGE
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = max(1, len(texts[i].split()))  # sorted ascending: the newest is the longest
        if cur and ((len(cur) + 1) * longest > budget or len(cur) >= _MAX_BATCH):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


def _titles(texts: Sequence[str], titles: Sequence[str | None] | None) -> Iterable[str | None]:
    if titles is None:
        return [None] * len(texts)
    if len(titles) != len(texts):
        raise ValueError(f"{len(titles)} titles for {len(texts)} texts")
    return titles


# --- cache --------------------------------------------------------------------------------------------------


class EmbeddingCache:
    """float32 vectors in SQLite (WAL), keyed by (model id, sha256 of prompt + text). Safe for one writer
    plus readers across processes; within a process one connection is shared under a lock."""

    _BATCH = 500  # stays far below SQLite's bound-parameter limit

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL,"
            " vec BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
        )

    @staticmethod
    def key(prompt: str, text: str) -> bytes:
        return hashlib.sha256((prompt + text).encode("utf-8")).digest()

    def get_many(self, model_id: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), self._BATCH):
                part = unique[start : start + self._BATCH]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, dim, vec FROM embeddings WHERE model = ? AND key IN ({marks})",
                    [model_id, *part],
                )
                for k, dim, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == dim:  # a torn row is a miss, never a wrong vector
                        found[bytes(k)] = vec
        return found

    def put_many(self, model_id: str, items: dict[bytes, np.ndarray]) -> None:
        rows = [
            (model_id, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for k, v in items.items()
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            if model_id is None:
                return self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
            return self._db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model_id]).fetchone()[
                0
            ]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEmbedder:
    """The Embedder's interface, answering from the cache first. ``misses`` counts texts the model embedded."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache):
        self.embedder = embedder
        self.cache = cache
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def _embed(self, texts: Sequence[str], prompts: Sequence[str], task: str) -> list[list[float]]:
        model_id = self.model_id
        keys = [EmbeddingCache.key(p, t) for p, t in zip(prompts, texts, strict=True)]
        found = self.cache.get_many(model_id, keys)
        todo: dict[bytes, int] = {}  # first index of each missing key; duplicates are embedded once
        for i, k in enumerate(keys):
            if k not in found and k not in todo:
                todo[k] = i
        if todo:
            idx = list(todo.values())
            vecs = self.embedder.encode([texts[i] for i in idx], [prompts[i] for i in idx], task)
            fresh = dict(zip(todo, vecs, strict=True))
            self.cache.put_many(model_id, fresh)
            found.update(fresh)
        with self._lock:
            self.misses += len(todo)
            self.hits += len(keys) - len(todo)
        return [found[k].tolist() for k in keys]

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        prompts = [self.embedder.document_prompt(t) for t in _titles(texts, titles)]
        return self._embed(list(texts), prompts, "document")

    def embed_query(self, text: str, task: str | None = None) -> list[float]:
        return self._embed([text], [self.embedder.query_prompt(task)], "query")[0]


def cache_path(settings: Settings) -> Path:
    return settings.embedding_cache or settings.cache_path / "embeddings.sqlite"


_embedders: dict[tuple[Any, ...], CachedEmbedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(settings: Settings) -> CachedEmbedder:
    """One CachedEmbedder per configuration per process; the model under it is shared per (path, dtype,
    backend)."""
    path = resolve_model_path(settings)
    key = (
        path,
        resolve_dtype(settings.embedding_dtype),
        settings.embedding_backend,
        settings.embedding_dim,
        settings.embedding_batch_size,
        str(cache_path(settings).resolve()),
    )
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = CachedEmbedder(Embedder(settings), EmbeddingCache(cache_path(settings)))
        return _embedders[key]
