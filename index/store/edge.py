"""Qdrant Edge: the embedded default store, a shard folder opened in-process (no server).

Points written without `optimize()` stay in appendable plain segments, which queries scan exactly; the
default optimizer config does not defer unoptimized points (``prevent_unoptimized`` is left unset), so
everything is searchable right after `add()`. `optimize()` builds HNSW and merges segments; callers run it
after large batches, not per add.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from index.store.base import (
    DATE_INT_FIELD,
    DENSE_VECTOR,
    DOCUMENT_FIELDS,
    KEYWORD_INDEX_FIELDS,
    RRF_K,
    SPARSE_VECTOR,
    TIE_MARGIN,
    ChunkRecord,
    DocumentInfo,
    Filters,
    Hit,
    NoMatch,
    QueriesInBatches,
    QuerySpec,
    StoreBusyError,
    StoreConfigError,
    StoreLock,
    date_bounds,
    date_to_int,
    documents_from_payloads,
    public_payload,
    rank,
)

_BATCH = 256
_SCROLL_PAGE = 1024


def _config(dim: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


def _to_filter(filters: Filters | None) -> qe.Filter | None:
    if filters is None or filters.is_empty():
        return None
    must: list[Any] = []
    for key, value in filters.match.items():
        if isinstance(value, list):
            if not value:
                raise NoMatch
            must.append(qe.FieldCondition(key=key, match=qe.MatchAny(list(value))))
        else:
            must.append(qe.FieldCondition(key=key, match=qe.MatchValue(value)))
    lo, hi = date_bounds(filters)
    if lo is not None or hi is not None:
        must.append(qe.FieldCondition(key=DATE_INT_FIELD, range=qe.RangeFloat(gte=lo, lte=hi)))
    return qe.Filter(must=must)


class EdgeStore(QueriesInBatches):
    """A Qdrant Edge shard at ``path``: created on first use, loaded afterwards.

    One process at a time: the store's lock (``StoreLock``, a flock in the shard folder) is taken before
    the engine is called, and a busy store raises ``StoreBusyError`` without the engine ever touching it.
    """

    def __init__(self, path: Path | str, dim: int = 768, hnsw_ef: int | None = None) -> None:
        self.path = Path(path)
        self.dim = dim
        self.hnsw_ef = hnsw_ef
        # Lock first, engine second: Edge 0.9's own refusal ("WouldBlock" on the WAL) comes only after it
        # has opened the shard's files, and that alone breaks the holder's next flush. A refused opener
        # must not get that far.
        self._lock = StoreLock.taken(self.path, "Qdrant Edge")
        try:
            self._shard = self._open(dim)
        except BaseException:
            self._lock.release()
            raise
        self._deleted = False  # since open: BM25 IDF statistics still count deleted points until reload
        try:
            self._ensure_indexes()
        except BaseException:
            self.close()
            raise

    def _open(self, dim: int) -> qe.EdgeShard:
        config = _config(dim)
        if not ((self.path / "edge_config.json").exists() or (self.path / "segments").exists()):
            return qe.EdgeShard.create(str(self.path), config)
        try:
            return qe.EdgeShard.load(str(self.path), config)
        except Exception as e:  # the binding raises a bare Exception with the engine's message
            if "incompatible" in str(e).lower():
                raise StoreConfigError(
                    f"the store at {self.path} does not match this configuration "
                    f"(dense size {dim}): {e}. Re-index into a new store folder."
                ) from e
            if "WouldBlock" in str(e):
                # Only reachable if the holder does not take the lock (an older version of this program):
                # the engine has then already touched the holder's files.
                raise StoreBusyError(
                    f"the store at {self.path} is in use by a process that does not take the store lock "
                    "(an older version of briefing?); Qdrant Edge allows one process at a time"
                ) from e
            raise

    def _ensure_indexes(self) -> None:
        existing = set(self._shard.info().payload_schema)
        for field in KEYWORD_INDEX_FIELDS:
            if field not in existing:
                self._shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
        if DATE_INT_FIELD not in existing:
            self._shard.update(
                qe.UpdateOperation.create_field_index(
                    DATE_INT_FIELD, qe.IntegerIndexParams(lookup=False, range=True)
                )
            )

    # --- writes ---------------------------------------------------------------------------------------

    def add(self, chunks: Sequence[ChunkRecord]) -> None:
        for start in range(0, len(chunks), _BATCH):
            points = []
            for c in chunks[start : start + _BATCH]:
                if len(c.dense) != self.dim:
                    raise StoreConfigError(
                        f"chunk {c.id}: dense size {len(c.dense)}, store expects {self.dim}"
                    )
                payload = dict(c.payload)
                d = date_to_int(payload.get("date"))
                if d is not None:
                    payload[DATE_INT_FIELD] = d
                vectors = {
                    DENSE_VECTOR: list(c.dense),
                    SPARSE_VECTOR: qe.SparseVector(c.sparse.indices, c.sparse.values),
                }
                points.append(qe.Point(c.id, vectors, payload))
            if points:
                self._shard.update(qe.UpdateOperation.upsert_points(points))

    def delete_document(self, doc_id: str) -> int:
        flt = qe.Filter(must=[qe.FieldCondition(key="doc_id", match=qe.MatchValue(doc_id))])
        n = self._shard.count(qe.CountRequest(exact=True, filter=flt))
        if n:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(flt))
            self._deleted = True
        return n

    # --- reads ----------------------------------------------------------------------------------------

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        requests = [self._request(s) for s in specs]
        planned = [r for r in requests if r is not None]
        answers = iter(self._shard.query_batch(qe.QueryBatchRequest(planned)) if planned else [])
        out: list[list[Hit]] = []
        for spec, request in zip(specs, requests, strict=True):
            points = next(answers) if request is not None else []
            hits = [
                Hit(id=str(p.id), score=float(p.score), payload=public_payload(p.payload)) for p in points
            ]
            out.append(rank(hits, spec.limit))
        return out

    def _request(self, spec: QuerySpec) -> qe.QueryRequest | None:
        """The engine request for ``spec``; None when it can match nothing."""
        try:
            flt = _to_filter(spec.filters)
        except NoMatch:
            return None
        dense, sparse, mode = spec.dense, spec.sparse, spec.mode
        fetch = spec.limit + TIE_MARGIN
        params = qe.SearchParams(exact=True) if spec.exact else qe.SearchParams(hnsw_ef=self.hnsw_ef)
        dense_q = qe.Query.Nearest(list(dense), using=DENSE_VECTOR) if dense is not None else None
        # An empty sparse vector (a query of only stopwords) can match nothing: leave it out.
        sparse_q = (
            qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=SPARSE_VECTOR)
            if sparse is not None and sparse.indices
            else None
        )
        if mode == "dense":
            if dense_q is None:
                raise ValueError("mode 'dense' needs a dense query vector")
            return qe.QueryRequest(limit=fetch, query=dense_q, filter=flt, with_payload=True, params=params)
        if mode == "bm25":
            if sparse_q is None:
                if sparse is None:
                    raise ValueError("mode 'bm25' needs a sparse query vector")
                return None
            return qe.QueryRequest(limit=fetch, query=sparse_q, filter=flt, with_payload=True)
        if mode == "hybrid":
            stages = [q for q in (sparse_q, dense_q) if q is not None]
            if not stages:
                if dense is None and sparse is None:
                    raise ValueError("hybrid mode needs a dense or a sparse query vector")
                return None
            # The filter goes into every prefetch, not only the fused query: a prefetch that ignored it
            # would fill its `prefetch` slots with chunks the user may not see, leaving too few allowed ones.
            prefetches = [
                qe.Prefetch(limit=max(spec.prefetch, fetch), query=q, filter=flt, params=params)
                for q in stages
            ]
            return qe.QueryRequest(
                limit=fetch,
                prefetches=prefetches,
                query=qe.Fusion.Rrf(k=RRF_K),
                filter=flt,
                with_payload=True,
            )
        raise ValueError(f"unknown retrieval mode {mode!r}")

    def count(self, filters: Filters | None = None) -> int:
        try:
            flt = _to_filter(filters)
        except NoMatch:
            return 0
        return self._shard.count(qe.CountRequest(exact=True, filter=flt))

    def _scroll_payloads(self, fields: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset: Any = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(
                    offset=offset,
                    limit=_SCROLL_PAGE,
                    with_payload=qe.PayloadSelector.Include(list(fields)),
                    with_vector=False,
                )
            )
            out.extend(r.payload or {} for r in records)
            if offset is None:
                return out

    def list_documents(self) -> list[DocumentInfo]:
        return documents_from_payloads(self._scroll_payloads(DOCUMENT_FIELDS))

    # --- lifecycle ------------------------------------------------------------------------------------

    def optimize(self) -> bool:
        """Build HNSW and merge segments; blocking (minutes for ~100k points on 2 cores).

        Also refreshes the sparse IDF statistics after deletes: Qdrant Edge 0.9 keeps counting deleted
        points in them until the shard is loaded again (measured: deleting two of three points holding a
        term left the survivor's BM25 score unchanged until reload), so replaced documents would skew BM25
        scores until the next start. Reloading a flushed shard is cheap (see bench/bench_store.py).
        """
        changed = self._shard.optimize()
        if self._deleted:
            changed = True
            self._shard.flush()
            self._shard.close()
            self._shard = qe.EdgeShard.load(str(self.path))
            self._deleted = False
        return changed

    def flush(self) -> None:
        self._shard.flush()

    def close(self) -> None:
        try:
            if self._shard is not None:
                shard, self._shard = self._shard, None  # type: ignore[assignment]
                try:
                    shard.flush()
                finally:
                    shard.close()
        finally:
            # Only after the engine has let go of its files may another process open them.
            self._lock.release()

    @property
    def description(self) -> str:
        return f"qdrant-edge:{self.path}"

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
