"""Vector stores behind one interface (``base.VectorStore``), and the BM25 encoder every caller shares.

``open_store(settings)`` picks the engine: Qdrant Edge in-process (default) or qdrant-client (server/cluster
at ``qdrant_url``, or local mode). Sparse vectors are computed by the caller with ``bm25_encoder()`` once
and stored as they are by either engine; each engine applies IDF itself (sparse ``Modifier.IDF``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from corpus.dutch import fold_plurals
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

        return EdgeStore(settings.store_path / "edge", dim=settings.embedding_dim, hnsw_ef=settings.hnsw_ef)
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
            hnsw_ef=settings.hnsw_ef,
        )
    raise ValueError(f"unknown store {settings.store!r}")


# Average length (in analysed tokens) the BM25 length normalisation assumes: the engine default suits
# chunks of ~300 tokens; sentences (~18 words, ~12 tokens after stopwords) need their own.
CHUNK_AVG_LEN = 256.0
SENTENCE_AVG_LEN = 12.0


class Bm25Encoder:
    """BM25 term weights with Dutch stopwords and Snowball stemming (Qdrant Edge's in-process ``Bm25``).

    One Dutch analyser is used for every document, including the English strategy texts: English words are
    then stemmed imperfectly, but consistently on both sides, so exact and near-exact terms still match;
    picking an analyser per document would need the query's language too, and a query in one language
    would then miss documents indexed in the other.
    """

    def __init__(self, language: str = "dutch", avg_len: float = CHUNK_AVG_LEN) -> None:
        import qdrant_edge as qe

        self.language = language
        self._bm25 = qe.Bm25(qe.Bm25Config(language=language, avg_len=avg_len))

    # The plural rule of corpus/dutch.py, which Snowball lacks, applied before the engine's analyser.
    def encode_document(self, text: str) -> SparseVector:
        sv = self._bm25.embed_document(fold_plurals(text))
        return SparseVector(indices=list(sv.indices), values=list(sv.values))

    def encode_query(self, text: str) -> SparseVector:
        sv = self._bm25.embed_query(fold_plurals(text))
        return SparseVector(indices=list(sv.indices), values=list(sv.values))


@lru_cache(maxsize=4)
def bm25_encoder(avg_len: float = CHUNK_AVG_LEN) -> Bm25Encoder:
    return Bm25Encoder(avg_len=avg_len)
