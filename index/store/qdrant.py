"""qdrant-client: a Qdrant server or cluster (``url`` + API key), or qdrant-client's local mode (``path``,
or in memory when neither is given).

Local mode speaks the same API as the server, which is how the server code path is tested here; it is
slow (pure Python: ~50 ms per query at 20k points) and ignores payload indexes, so it is for tests and
small experiments, not for production use.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

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


def _to_filter(filters: Filters | None) -> models.Filter | None:
    if filters is None or filters.is_empty():
        return None
    must: list[models.Condition] = []
    for key, value in filters.match.items():
        if isinstance(value, list):
            if not value:
                raise NoMatch
            must.append(models.FieldCondition(key=key, match=models.MatchAny(any=list(value))))
        else:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    lo, hi = date_bounds(filters)
    if lo is not None or hi is not None:
        must.append(models.FieldCondition(key=DATE_INT_FIELD, range=models.Range(gte=lo, lte=hi)))
    return models.Filter(must=must)


class QdrantStore(QueriesInBatches):
    def __init__(
        self,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: Path | str | None = None,
        collection: str = "briefing",
        dim: int = 768,
        hnsw_ef: int | None = None,
    ) -> None:
        self.collection = collection
        self.dim = dim
        self.hnsw_ef = hnsw_ef
        self._closed = False
        self._lock: StoreLock | None = None
        if url is not None:
            self._where = url
            self.client = QdrantClient(url=url, api_key=api_key)
        elif path is not None:
            self._where = f"local:{path}"
            # The same lock as Qdrant Edge's, before the client: local mode's own portalocker refusal comes
            # after it has opened the folder, and the CLI's "wait or go through the app" needs the holder.
            self._lock = StoreLock.taken(path, "qdrant-client local mode")
            try:
                self.client = QdrantClient(path=str(path))
            except BaseException:
                self._lock.release()
                raise
        else:
            self._where = "local::memory:"
            self.client = QdrantClient(":memory:")
        # Local mode searches by brute force and warns on every query that search params have no effect.
        self._hnsw_params = (
            models.SearchParams(hnsw_ef=hnsw_ef) if url is not None and hnsw_ef is not None else None
        )
        try:
            self._ensure_collection()
        except BaseException:
            self.close()
            raise

    def _ensure_collection(self) -> None:
        if self.client.collection_exists(self.collection):
            params = self.client.get_collection(self.collection).config.params
            vectors = params.vectors if isinstance(params.vectors, dict) else {}
            sparse = params.sparse_vectors or {}
            if DENSE_VECTOR not in vectors or SPARSE_VECTOR not in sparse:
                raise StoreConfigError(
                    f"collection {self.collection!r} at {self._where} lacks the named vectors "
                    f"{DENSE_VECTOR!r} and {SPARSE_VECTOR!r}; it was not made by this application"
                )
            if vectors[DENSE_VECTOR].size != self.dim:
                raise StoreConfigError(
                    f"collection {self.collection!r} at {self._where} has dense size {vectors[DENSE_VECTOR].size}, "
                    f"but the embedding model gives {self.dim}; use another collection or re-index"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config={
                DENSE_VECTOR: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        with warnings.catch_warnings():
            # Local mode warns that payload indexes have no effect there; we create them anyway so the
            # server code path is the one exercised.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for field in KEYWORD_INDEX_FIELDS:
                self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(
                self.collection,
                DATE_INT_FIELD,
                models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=False, range=True),
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
                vector: dict[str, Any] = {
                    DENSE_VECTOR: list(c.dense),
                    SPARSE_VECTOR: models.SparseVector(indices=c.sparse.indices, values=c.sparse.values),
                }
                points.append(models.PointStruct(id=c.id, vector=vector, payload=payload))
            if points:
                self.client.upsert(self.collection, points=points, wait=True)

    def delete_document(self, doc_id: str) -> int:
        flt = models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))])
        n = self.client.count(self.collection, count_filter=flt, exact=True).count
        if n:
            self.client.delete(self.collection, points_selector=models.FilterSelector(filter=flt), wait=True)
        return n

    # --- reads ----------------------------------------------------------------------------------------

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        requests = [self._request(s) for s in specs]
        planned = [r for r in requests if r is not None]
        answers = iter(self.client.query_batch_points(self.collection, requests=planned) if planned else [])
        out: list[list[Hit]] = []
        for spec, request in zip(specs, requests, strict=True):
            points = next(answers).points if request is not None else []
            hits = [
                Hit(id=str(p.id), score=float(p.score), payload=public_payload(p.payload)) for p in points
            ]
            out.append(rank(hits, spec.limit))
        return out

    def _request(self, spec: QuerySpec) -> models.QueryRequest | None:
        """The engine request for ``spec``; None when it can match nothing."""
        try:
            flt = _to_filter(spec.filters)
        except NoMatch:
            return None
        dense, sparse, mode = spec.dense, spec.sparse, spec.mode
        dense_q = list(dense) if dense is not None else None
        sparse_q = (
            models.SparseVector(indices=sparse.indices, values=sparse.values)
            if sparse is not None and sparse.indices
            else None
        )
        common: dict[str, Any] = {"limit": spec.limit + TIE_MARGIN, "filter": flt, "with_payload": True}
        params = models.SearchParams(exact=True) if spec.exact else self._hnsw_params
        if mode == "dense":
            if dense_q is None:
                raise ValueError("mode 'dense' needs a dense query vector")
            return models.QueryRequest(query=dense_q, using=DENSE_VECTOR, params=params, **common)
        if mode == "bm25":
            if sparse_q is None:
                if sparse is None:
                    raise ValueError("mode 'bm25' needs a sparse query vector")
                return None
            return models.QueryRequest(query=sparse_q, using=SPARSE_VECTOR, **common)
        if mode == "hybrid":
            stages: list[tuple[Any, str]] = [
                (q, u) for q, u in ((sparse_q, SPARSE_VECTOR), (dense_q, DENSE_VECTOR)) if q is not None
            ]
            if not stages:
                if dense is None and sparse is None:
                    raise ValueError("hybrid mode needs a dense or a sparse query vector")
                return None
            # Filter in every prefetch as well as on the fused result (see EdgeStore.query).
            prefetches = [
                models.Prefetch(
                    query=q, using=u, limit=max(spec.prefetch, spec.limit + TIE_MARGIN), filter=flt
                )
                for q, u in stages
            ]
            return models.QueryRequest(
                prefetch=prefetches, query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)), **common
            )
        raise ValueError(f"unknown retrieval mode {mode!r}")

    def count(self, filters: Filters | None = None) -> int:
        try:
            flt = _to_filter(filters)
        except NoMatch:
            return 0
        return self.client.count(self.collection, count_filter=flt, exact=True).count

    def list_documents(self) -> list[DocumentInfo]:
        payloads: list[dict[str, Any]] = []
        offset: Any = None
        while True:
            records, offset = self.client.scroll(
                self.collection,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=list(DOCUMENT_FIELDS),
                with_vectors=False,
            )
            payloads.extend(r.payload or {} for r in records)
            if offset is None:
                return documents_from_payloads(payloads)

    # --- lifecycle ------------------------------------------------------------------------------------

    def optimize(self) -> bool:
        """Nothing to do: the server optimizes in the background; local mode has no index to build."""
        return False

    def flush(self) -> None:
        # Writes use wait=True, so the server has applied them; local mode persists every write itself.
        return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self.client.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    @property
    def description(self) -> str:
        return f"qdrant:{self._where}/{self.collection}"

    def __enter__(self) -> QdrantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
