"""llama-index adapters: our ``VectorStore`` as a ``BasePydanticVectorStore``, our embedder as a
``BaseEmbedding``, so ``VectorStoreIndex`` and its retrievers work on the same store the app uses, with the
same hybrid search and the same payload filters (access control included) applied inside the store.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from index.store.base import ChunkRecord, Filters, RetrievalMode, VectorStore

# Node ids that are not UUIDs (llama-index allows any string) become uuid5 point ids in this namespace;
# the node keeps its own id inside the payload, so it comes back unchanged.
_NODE_NAMESPACE = uuid.UUID("3d0b7f0e-8f5c-5a0e-b2b4-6c1f3a9e7d21")


class _Embedder(Protocol):
    def embed_query(self, text: str) -> list[float]: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


class _SparseEncoder(Protocol):
    def encode_document(self, text: str) -> Any: ...

    def encode_query(self, text: str) -> Any: ...


class BriefingEmbedding(BaseEmbedding):
    """Any object with ``embed_query(str)`` and ``embed_documents(list[str])`` (``index.embeddings.Embedder``)
    as a llama-index embedding model. Query and document sides stay distinct: EmbeddingGemma uses different
    prompts for them."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: _Embedder, model_name: str = "briefing", **kwargs: Any) -> None:
        super().__init__(model_name=model_name, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "BriefingEmbedding"

    def _get_query_embedding(self, query: str) -> Embedding:
        return list(self._embedder.embed_query(query))

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return list(self._embedder.embed_documents([text])[0])

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return [list(v) for v in self._embedder.embed_documents(list(texts))]


def point_id_for(node_id: str) -> str:
    try:
        return str(uuid.UUID(node_id))
    except ValueError:
        return str(uuid.uuid5(_NODE_NAMESPACE, node_id))


_RANGE_OPS = {FilterOperator.GTE: "date_from", FilterOperator.LTE: "date_to"}


def to_filters(metadata_filters: MetadataFilters | None, doc_ids: Sequence[str] | None = None) -> Filters:
    """llama-index filters as our ``Filters``: AND of EQ / IN / ANY / CONTAINS on keyword fields, and GTE /
    LTE on "date". Anything else raises: silently dropping a filter could leak documents."""
    f = Filters()
    if doc_ids is not None:
        f.match["doc_id"] = list(doc_ids)
    if metadata_filters is None:
        return f
    if metadata_filters.condition not in (None, FilterCondition.AND) and len(metadata_filters.filters) > 1:
        raise NotImplementedError(
            f"filter condition {metadata_filters.condition} is not supported (only AND)"
        )
    for flt in metadata_filters.filters:
        if not isinstance(flt, MetadataFilter):
            raise NotImplementedError("nested MetadataFilters are not supported")
        op, key, value = flt.operator, flt.key, flt.value
        if op in (FilterOperator.EQ, FilterOperator.CONTAINS) and isinstance(value, str):
            new: str | list[str] = value
        elif op in (FilterOperator.IN, FilterOperator.ANY) and isinstance(value, list):
            new = [str(v) for v in value]
        elif op in _RANGE_OPS and key == "date" and isinstance(value, str):
            setattr(f, _RANGE_OPS[op], value)
            continue
        else:
            raise NotImplementedError(f"filter {key} {op.value} {value!r} is not supported")
        if key in f.match:
            raise NotImplementedError(f"two filters on {key!r} are not supported")
        f.match[key] = new
    return f


_MODES: dict[VectorStoreQueryMode, RetrievalMode] = {
    VectorStoreQueryMode.SPARSE: "bm25",
    VectorStoreQueryMode.TEXT_SEARCH: "bm25",
    VectorStoreQueryMode.HYBRID: "hybrid",
}


class BriefingVectorStore(BasePydanticVectorStore):
    """A ``VectorStore`` (Qdrant Edge or qdrant-client) behind llama-index's vector store interface.

    ``add`` takes nodes that carry their embedding (``VectorStoreIndex`` embeds them first) and computes the
    BM25 vector from the node text. ``query`` runs hybrid search when the query has both an embedding and
    a query string (the default for ``VectorStoreIndex`` retrievers), dense-only with just an embedding,
    and BM25-only in ``sparse``/``text_search`` mode.
    """

    stores_text: bool = True
    is_embedding_query: bool = True
    flat_metadata: bool = False
    prefetch: int = 50

    _store: Any = PrivateAttr()
    _bm25: Any = PrivateAttr()

    def __init__(self, store: VectorStore, bm25: _SparseEncoder | None = None, prefetch: int = 50) -> None:
        super().__init__(prefetch=prefetch)
        if bm25 is None:
            from index.store import bm25_encoder

            bm25 = bm25_encoder()
        self._store = store
        self._bm25 = bm25

    @classmethod
    def class_name(cls) -> str:
        return "BriefingVectorStore"

    @property
    def client(self) -> VectorStore:
        return self._store

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        records = []
        for node in nodes:
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            # The node JSON (without text, which is stored once as "text") lets query() rebuild the node.
            payload = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
            # node_to_metadata_dict sets doc_id from the node's source relationship ("None" without one);
            # our chunks name their document in metadata, which wins.
            payload["doc_id"] = node.metadata.get("doc_id") or node.ref_doc_id or payload["doc_id"]
            payload["text"] = text
            records.append(
                ChunkRecord(
                    id=point_id_for(node.node_id),
                    dense=node.get_embedding(),
                    sparse=self._bm25.encode_document(text),
                    payload=payload,
                )
            )
        self._store.add(records)
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._store.delete_document(ref_doc_id)

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.node_ids:
            raise NotImplementedError("querying by node_ids is not supported")
        dense = query.query_embedding
        sparse = self._bm25.encode_query(query.query_str) if query.query_str else None
        mode = _MODES.get(query.mode)
        if mode is None:
            if query.mode != VectorStoreQueryMode.DEFAULT:
                raise NotImplementedError(f"query mode {query.mode.value!r} is not supported")
            mode = "hybrid" if dense is not None and sparse is not None else "dense"
        top_k = (query.hybrid_top_k if mode == "hybrid" else None) or query.similarity_top_k
        hits = self._store.query(
            dense=dense,
            sparse=sparse,
            limit=top_k,
            filters=to_filters(query.filters, query.doc_ids),
            mode=mode,
            prefetch=max(self.prefetch, query.sparse_top_k or 0),
        )
        nodes = [metadata_dict_to_node(h.payload, text=h.payload.get("text", "")) for h in hits]
        return VectorStoreQueryResult(
            nodes=nodes, similarities=[h.score for h in hits], ids=[n.node_id for n in nodes]
        )
