"""The llama-index adapter, used the way llama-index uses a vector store: through ``VectorStoreIndex`` and
its retrievers, over both real stores, with the real embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from index.store.base import VectorStore
from index.store.edge import EdgeStore
from index.store.llama import BriefingEmbedding, BriefingVectorStore, point_id_for, to_filters
from index.store.qdrant import QdrantStore
from tests.test_store_conformance import DIM, DOCS, PASSAGES, real_embedder

pytestmark = pytest.mark.slow

# A subset keeps embedding through llama-index cheap: two planbureau documents (one intern), Careyn,
# mkb-financiering and the 2023 strategy.
USED = {"nota-4730561", "kst-33763-141", "h-tk-20172018-70-5", "h-tk-20172018-61-10", "strategy-2023"}


def make_nodes() -> list[TextNode]:
    nodes = []
    for i, (doc_id, cited, text) in enumerate(PASSAGES):
        if doc_id not in USED:
            continue
        meta = {**DOCS[doc_id], "doc_id": doc_id, "kamerstukken": cited}
        node = TextNode(
            # non-UUID ids on purpose: llama-index allows any string, the store needs UUIDs
            id_=f"{doc_id}#{i}",
            text=text,
            metadata=meta,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc_id)},
            excluded_embed_metadata_keys=list(meta),
            excluded_llm_metadata_keys=list(meta),
        )
        nodes.append(node)
    return nodes


@pytest.fixture(scope="module")
def embed_model(request: pytest.FixtureRequest) -> BriefingEmbedding:
    return BriefingEmbedding(real_embedder(request))


@pytest.fixture(scope="module")
def embedded_nodes(embed_model: BriefingEmbedding) -> list[TextNode]:
    """Embedded once through the adapter's document side, then reused by every store."""
    nodes = make_nodes()
    vectors = embed_model.get_text_embedding_batch([n.get_content(metadata_mode="embed") for n in nodes])
    for n, v in zip(nodes, vectors, strict=True):
        n.embedding = v
    return nodes


@pytest.fixture(params=["edge", "qdrant"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s: VectorStore = (
        EdgeStore(tmp_path / "edge", dim=DIM)
        if request.param == "edge"
        else QdrantStore(path=tmp_path / "qdrant", collection="llama", dim=DIM)
    )
    yield s
    s.close()


@pytest.fixture
def index(
    store: VectorStore, embedded_nodes: list[TextNode], embed_model: BriefingEmbedding
) -> VectorStoreIndex:
    idx = VectorStoreIndex.from_vector_store(BriefingVectorStore(store), embed_model=embed_model)
    idx.insert_nodes([n.model_copy(deep=True) for n in embedded_nodes])
    return idx


def test_embedding_wrapper_keeps_query_and_document_sides_apart(embed_model: BriefingEmbedding) -> None:
    text = "Het kabinet richt geen planbureau voor de veiligheid op."
    q = embed_model.get_query_embedding(text)
    d = embed_model.get_text_embedding(text)
    assert len(q) == len(d) == DIM
    assert q != d  # EmbeddingGemma prompts differ for queries and documents
    assert embed_model.similarity(q, d) > 0.5


def test_insert_through_vector_store_index(index: VectorStoreIndex, store: VectorStore) -> None:
    n = sum(1 for doc_id, _, _ in PASSAGES if doc_id in USED)
    assert store.count() == n
    assert {d.doc_id for d in store.list_documents()} == USED


def test_retriever_returns_real_nodes_best_first(
    index: VectorStoreIndex, embedded_nodes: list[TextNode]
) -> None:
    by_id = {n.node_id: n for n in embedded_nodes}
    results = index.as_retriever(similarity_top_k=3).retrieve(
        "Waarom wil het kabinet geen apart planbureau voor veiligheid?"
    )
    assert len(results) == 3
    assert results[0].node.metadata["doc_id"] in {"nota-4730561", "kst-33763-141"}
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        original = by_id[r.node.node_id]  # the node's own (non-UUID) id comes back
        assert r.node.get_content() == original.get_content()
        assert r.node.metadata == original.metadata
        assert r.node.ref_doc_id == original.ref_doc_id


def test_retriever_metadata_filters_apply_in_the_store(index: VectorStoreIndex) -> None:
    question = "Waarom wil het kabinet geen apart planbureau voor veiligheid?"
    openbaar = MetadataFilters(filters=[MetadataFilter(key="access", value="openbaar")])
    results = index.as_retriever(similarity_top_k=4, filters=openbaar).retrieve(question)
    assert len(results) == 4
    assert all(r.node.metadata["access"] == "openbaar" for r in results)

    kinds = MetadataFilters(
        filters=[
            MetadataFilter(key="kind", value=["Handelingen", "strategie"], operator=FilterOperator.IN),
            MetadataFilter(key="date", value="2023-01-01", operator=FilterOperator.GTE),
        ]
    )
    results = index.as_retriever(similarity_top_k=10, filters=kinds).retrieve(question)
    assert {r.node.metadata["doc_id"] for r in results} == {"strategy-2023"}


def test_sparse_and_hybrid_modes(index: VectorStoreIndex) -> None:
    sparse = index.as_retriever(similarity_top_k=10, vector_store_query_mode="sparse").retrieve("planbureaus")
    assert sparse
    assert all("planbureau" in r.node.get_content().lower() for r in sparse)
    hybrid = index.as_retriever(similarity_top_k=2, vector_store_query_mode="hybrid").retrieve("Careyn")
    assert hybrid[0].node.metadata["doc_id"] == "h-tk-20172018-70-5"


def test_delete_ref_doc_removes_the_document(index: VectorStoreIndex, store: VectorStore) -> None:
    before = store.count()
    index.delete_ref_doc("h-tk-20172018-70-5")
    assert store.count() == before - 2
    results = index.as_retriever(similarity_top_k=10).retrieve("Careyn inspectie")
    assert "h-tk-20172018-70-5" not in {r.node.metadata["doc_id"] for r in results}


def test_direct_query_by_doc_ids(store: VectorStore, embedded_nodes: list[TextNode]) -> None:
    vs = BriefingVectorStore(store)
    vs.add([n.model_copy(deep=True) for n in embedded_nodes])
    q = VectorStoreQuery(
        query_embedding=embedded_nodes[0].embedding, similarity_top_k=10, doc_ids=["strategy-2023"]
    )
    result = vs.query(q)
    assert result.ids and all(i.startswith("strategy-2023#") for i in result.ids)
    assert len(result.similarities or []) == len(result.ids)


def test_unsupported_filters_raise_instead_of_being_dropped() -> None:
    with pytest.raises(NotImplementedError):
        to_filters(
            MetadataFilters(
                filters=[MetadataFilter(key="access", value="intern", operator=FilterOperator.NE)]
            )
        )
    with pytest.raises(NotImplementedError):
        to_filters(
            MetadataFilters(
                filters=[
                    MetadataFilter(key="access", value="openbaar"),
                    MetadataFilter(key="kind", value="nota"),
                ],
                condition=FilterCondition.OR,
            )
        )
    f = to_filters(
        MetadataFilters(
            filters=[MetadataFilter(key="kamerstukken", value="33763-141", operator=FilterOperator.CONTAINS)]
        )
    )
    assert f.match == {"kamerstukken": "33763-141"}


def test_point_ids_are_uuids_and_stable() -> None:
    import uuid

    assert point_id_for("nota#1") == point_id_for("nota#1") != point_id_for("nota#2")
    uuid.UUID(point_id_for("nota#1"))
    u = str(uuid.uuid4())
    assert point_id_for(u) == u
