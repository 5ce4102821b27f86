"""Vector stores behind one interface (``base.VectorStore``), and the BM25 encoder every caller shares.

``open_store(settings)`` picks the engine: Qdrant Edge in-process (default) or qdrant-client (server/cluster
at ``qdrant_url``, or local mode). Sparse vectors are computed by the caller with ``bm25_encoder()`` once
and stored as they are by either engine; each engine applies IDF itself (sparse ``Modifier.IDF``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from index.store.base import (
    ChunkRecord,
    DocumentInfo,
    Filters,
    Hit,
    SparseVector,
    StoreBusyError,
    StoreConfigError,
    VectorStore,
)

if TYPE_CHECKING:
    from corpus.settings import Settings

__all__ = [
    "Bm25Encoder",
    "ChunkRecord",
    "DocumentInfo",
    "Filters",
    "Hit",
    "SparseVector",
    "StoreBusyError",
    "StoreConfigError",
    "VectorStore",
    "bm25_encoder",
    "open_store",
]


def open_store(settings: Settings) -> VectorStore:
    """The store configured in ``settings``: created if missing, loaded otherwise."""
    if settings.store == "edge":
        from index.store.edge import EdgeStore

        return EdgeStore(settings.store_path / "edge", dim=settings.embedding_dim)
    if settings.store == "qdrant":
        from index.store.qdrant import QdrantStore

        path = settings.qdrant_path
        if settings.qdrant_url is None and path is None:
            path = settings.store_path / "qdrant-local"
        return QdrantStore(
            url=settings.qdrant_url,
            api_key=settings.qdrant_api_key,
            path=path if settings.qdrant_url is None else None,
            collection=settings.collection,
            dim=settings.embedding_dim,
        )
    raise ValueError(f"unknown store {settings.store!r}")


# Dutch Snowball only strips a plural -s after a consonant, so "planbureaus" (plural of the French loan
# "bureau") and "ministeries" keep their -s and would never meet "planbureau" / "ministerie". Both words
# are central to this corpus. We strip that -s before tokenizing, in documents and queries alike; only the
# -eaus and -ies endings are touched, words of at least six letters, where Dutch has next to no singular
# nouns ("advies" becomes "advie" on both sides, which still matches itself).
_VOWEL_PLURAL = re.compile(r"\b(\w{3,}(?:eau|ie))s\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    return _VOWEL_PLURAL.sub(r"\1", text)


class Bm25Encoder:
    """BM25 term weights with Dutch stopwords and Snowball stemming (Qdrant Edge's in-process ``Bm25``).

    One Dutch analyser is used for every document, including the English strategy texts: English words are
    then stemmed imperfectly, but consistently on both sides, so exact and near-exact terms still match;
    picking an analyser per document would need the query's language too, and a query in one language
    would then miss documents indexed in the other.
    """

    def __init__(self, language: str = "dutch") -> None:
        import qdrant_edge as qe

        self.language = language
        self._bm25 = qe.Bm25(qe.Bm25Config(language=language))

    def encode_document(self, text: str) -> SparseVector:
        sv = self._bm25.embed_document(_normalise(text))
        return SparseVector(indices=list(sv.indices), values=list(sv.values))

    def encode_query(self, text: str) -> SparseVector:
        sv = self._bm25.embed_query(_normalise(text))
        return SparseVector(indices=list(sv.indices), values=list(sv.values))


@lru_cache(maxsize=1)
def bm25_encoder() -> Bm25Encoder:
    return Bm25Encoder()
