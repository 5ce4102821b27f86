"""The store interface every vector store implements, and the records that cross it.

Kept deliberately small (add, delete by document, hybrid query with filters, count, list documents) so
that the embedded engine (Qdrant Edge) and qdrant-client (server, cluster or local mode) can be checked
against each other by one conformance suite (``tests/test_store_conformance.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

RetrievalMode = Literal["hybrid", "dense", "bm25"]


class SparseVector(BaseModel):
    indices: list[int]
    values: list[float]


class ChunkRecord(BaseModel):
    """One chunk ready to store: a stable point id, both vectors, and the payload shown with a hit."""

    id: str  # a UUID string, derived deterministically from (doc_id, chunk position, chunk hash)
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]  # must hold doc_id, text, chunk_hash, access, kind, ... (see index/chunking.py)


class Filters(BaseModel):
    """Payload filters. Every field set must hold (AND); list values mean any-of (OR)."""

    match: dict[str, str | list[str]] = Field(default_factory=dict)  # e.g. {"access": "openbaar"}
    date_from: str | None = None  # ISO date, inclusive, compared on payload "date"
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not self.match and not self.date_from and not self.date_to


class QuerySpec(BaseModel):
    """One query of a batch: the same arguments as ``VectorStore.query``."""

    dense: list[float] | None = None
    sparse: SparseVector | None = None
    limit: int = 10
    filters: Filters | None = None
    mode: RetrievalMode = "hybrid"
    prefetch: int = 50
    # Exact (brute-force) dense search instead of the HNSW index: reproducible results, affordable up to
    # some 100k points (``Settings.exact_search_points``).
    exact: bool = False


class Hit(BaseModel):
    id: str
    score: float
    payload: dict[str, Any]


class DocumentInfo(BaseModel):
    doc_id: str
    title: str = ""
    kind: str = ""
    access: str = ""
    date: str | None = None
    doc_hash: str = ""
    chunks: int = 0  # chunk points (what a user calls the document's passages)
    points: int = 0  # every point of the document: chunks and their sentences


@runtime_checkable
class VectorStore(Protocol):
    def add(self, chunks: Sequence[ChunkRecord]) -> None: ...

    def delete_document(self, doc_id: str) -> int:
        """Remove every point of a document; returns how many were removed."""
        ...

    def query(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        limit: int = 10,
        filters: Filters | None = None,
        mode: RetrievalMode = "hybrid",
        prefetch: int = 50,
    ) -> list[Hit]: ...

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        """Several queries in one engine call; one list of hits per spec, in order, each exactly what
        ``query(**spec)`` returns."""
        ...

    def count(self, filters: Filters | None = None) -> int: ...

    def list_documents(self) -> list[DocumentInfo]: ...

    def flush(self) -> None: ...

    def optimize(self) -> bool:
        """Housekeeping after a large batch of writes or deletes (Qdrant Edge: build HNSW, refresh BM25
        statistics); a no-op where the engine does it itself. Returns whether anything was done."""
        ...

    def close(self) -> None: ...

    @property
    def description(self) -> str:
        """Kind and location, e.g. ``qdrant-edge:/home/u/.local/share/briefing-assistant/store``."""
        ...


# --- Shared by every implementation (added with the stores) ---------------------------------------------

DENSE_VECTOR = "dense"  # named dense vector, cosine, size settings.embedding_dim
SPARSE_VECTOR = "bm25"  # named sparse vector, BM25 term weights; IDF applied by the engine (Modifier.IDF)
RRF_K = 60  # the usual reciprocal-rank-fusion constant; the same in every store so they rank alike

# Engines order equal scores arbitrarily (by internal offsets that change on reopen and differ between
# engines). Stores fetch a few extra hits and break ties by point id, so results are reproducible.
TIE_MARGIN = 4

# Payload fields with a keyword index in every store; `Filters.match` is meant for these.
KEYWORD_INDEX_FIELDS: tuple[str, ...] = (
    "doc_id",
    "access",
    "kind",
    "dossier",
    "kamerstukken",
    "language",
    "speaker",
    "unit",  # "chunk", "sentence" (index/chunking.py) or a unit kind: "motie", "stemming", ... (index/units.py)
    "chunk_id",  # a sentence's chunk; a chunk's own id
    # Parliamentary units (index/units.py): the motion's own Kamerstuk id, its status, who submitted it.
    "unit_id",
    "status",
    "indieners",
    "fracties",
)
# Integer yyyymmdd derived from payload "date" inside each store's add(), so that date ranges are a numeric
# range filter in every engine (string dates cannot be range-filtered; datetime indexes reject "2018").
DATE_INT_FIELD = "date_int"
# Payload fields aggregated by list_documents().
DOCUMENT_FIELDS: tuple[str, ...] = ("doc_id", "title", "kind", "access", "date", "doc_hash", "unit")


class QueriesInBatches:
    """``VectorStore.query`` for stores whose engine call is ``query_batch``: one query is a batch of one."""

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        raise NotImplementedError

    def query(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        limit: int = 10,
        filters: Filters | None = None,
        mode: RetrievalMode = "hybrid",
        prefetch: int = 50,
    ) -> list[Hit]:
        spec = QuerySpec(
            dense=None if dense is None else list(dense),
            sparse=sparse,
            limit=limit,
            filters=filters,
            mode=mode,
            prefetch=prefetch,
        )
        return self.query_batch([spec])[0]


class StoreConfigError(ValueError):
    """An existing store does not match the configuration (e.g. another embedding size)."""


class StoreBusyError(RuntimeError):
    """An embedded store is open in another process (or twice in this one); it allows one writer."""


def date_to_int(value: object, *, upper: bool = False) -> int | None:
    """ISO ``yyyy[-mm[-dd]]`` (anything after the date is ignored) as ``yyyymmdd``.

    A partial date is padded so that a range stays inclusive: as a lower bound "2018" means 20180000, as an
    upper bound (``upper=True``) 20189999. Returns None for anything that is not such a date.
    """
    if not isinstance(value, str):
        return None
    parts = value.strip()[:10].split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4:
        return None
    digits = parts[0]
    for p in parts[1:3]:
        if not (p.isdigit() and len(p) == 2):
            break
        digits += p
    pad = "9" if upper else "0"
    return int(digits.ljust(8, pad))


class NoMatch(Exception):
    """A filter that can match nothing (an empty any-of list): skip the engine call."""


def public_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as the caller added it: internal fields the store derived are removed."""
    out = dict(payload or {})
    out.pop(DATE_INT_FIELD, None)
    return out


def date_bounds(filters: Filters) -> tuple[int | None, int | None]:
    """The inclusive ``date_int`` range of a filter; ValueError for a bound that is not an ISO date."""
    lo = date_to_int(filters.date_from) if filters.date_from else None
    hi = date_to_int(filters.date_to, upper=True) if filters.date_to else None
    if filters.date_from and lo is None:
        raise ValueError(f"date_from is not an ISO date: {filters.date_from!r}")
    if filters.date_to and hi is None:
        raise ValueError(f"date_to is not an ISO date: {filters.date_to!r}")
    return lo, hi


def rank(hits: list[Hit], limit: int) -> list[Hit]:
    """Best first, equal scores by point id; then cut to ``limit``."""
    return sorted(hits, key=lambda h: (-h.score, h.id))[:limit]


def documents_from_payloads(payloads: Sequence[dict[str, Any]]) -> list[DocumentInfo]:
    """One DocumentInfo per doc_id, chunks counted; the first chunk seen supplies the metadata."""
    docs: dict[str, DocumentInfo] = {}
    for p in payloads:
        doc_id = p.get("doc_id")
        if not doc_id:
            continue
        info = docs.get(doc_id)
        if info is None:
            info = docs[doc_id] = DocumentInfo(
                doc_id=doc_id,
                title=p.get("title") or "",
                kind=p.get("kind") or "",
                access=p.get("access") or "",
                date=p.get("date"),
                doc_hash=p.get("doc_hash") or "",
            )
        info.points += 1
        if p.get("unit", "chunk") == "chunk":
            info.chunks += 1
    return sorted(docs.values(), key=lambda d: d.doc_id)
