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
    chunks: int = 0


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

    def count(self, filters: Filters | None = None) -> int: ...

    def list_documents(self) -> list[DocumentInfo]: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    @property
    def description(self) -> str:
        """Kind and location, e.g. ``qdrant-edge:/home/u/.local/share/briefing-assistant/store``."""
        ...
