"""One conformance suite for every ``VectorStore``: Qdrant Edge and qdrant-client (local mode, the same API
as a server) run the very same tests, in the spirit of haystack's document-store tests and qdrant-client's
local/remote congruence tests.

Data: 18 short passages (a few taken from ../shared/corpus, the rest written for the purpose) in Dutch and
English, embedded once per session with the real EmbeddingGemma model. Expected results follow from how the
passages were written (which passage is about what, which words it contains), never from a store's output.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from corpus.settings import Settings
from index.store import bm25_encoder, open_store
from index.store.base import ChunkRecord, Filters, Hit, StoreBusyError, StoreConfigError, VectorStore
from index.store.edge import EdgeStore
from index.store.qdrant import QdrantStore

pytestmark = pytest.mark.slow

MODEL_DIR = Path.home() / ".cache" / "briefing-assistant" / "models" / "embeddinggemma-300m"
DIM = 768
NS = uuid.UUID("0f6c2c1e-4a52-4c1b-9f0e-3b7d2d51a9c4")

# Per-document metadata: this is what list_documents() must give back.
DOCS: dict[str, dict[str, Any]] = {
    "nota-4730561": {
        "title": "Kamerbrief Planbureau voor de veiligheid",
        "kind": "nota",
        "access": "intern",
        "date": "2023-12-22",
        "dossier": None,
        "language": "nl",
    },
    "nota-2021-planbureau": {
        "title": "Notitie ABD Topconsult planbureau",
        "kind": "nota",
        "access": "intern",
        "date": "2021-09-14",
        "dossier": None,
        "language": "nl",
    },
    "kst-33763-141": {
        "title": "Kabinetsreactie WRR-rapport Veiligheid in een wereld van verbindingen",
        "kind": "Kamerstuk",
        "access": "openbaar",
        "date": "2018-03-28",
        "dossier": "33763",
        "language": "nl",
    },
    "kst-35570-17": {
        "title": "Motie van de leden Segers en Heerma",
        "kind": "Kamerstuk",
        "access": "openbaar",
        "date": "2020-11-12",
        "dossier": "35570",
        "language": "nl",
    },
    "h-tk-20172018-70-5": {
        "title": "Handelingen II 2017/18, nr. 70, item 5: zorg bij Careyn",
        "kind": "Handelingen",
        "access": "openbaar",
        "date": "2018-04-05",
        "dossier": None,
        "language": "nl",
    },
    "h-tk-20172018-61-10": {
        "title": "Handelingen II 2017/18, nr. 61, item 10: mkb-financiering",
        "kind": "Handelingen",
        "access": "openbaar",
        "date": "2018-03-15",
        "dossier": "31311",
        "language": "nl",
    },
    "strategy-2023": {
        "title": "The Security Strategy for the Kingdom of the Netherlands",
        "kind": "strategie",
        "access": "openbaar",
        "date": "2023-04-03",
        "dossier": None,
        "language": "en",
    },
    "strategy-2019": {
        "title": "National Security Strategy 2019",
        "kind": "strategie",
        "access": "openbaar",
        "date": "2019-06-07",
        "dossier": None,
        "language": "en",
    },
    "kst-woningbouw": {
        "title": "Brief over woningbouw",
        "kind": "Kamerstuk",
        "access": "openbaar",
        "date": "2022-05-10",
        "dossier": "32847",
        "language": "nl",
    },
}

# (doc_id, kamerstukken cited in the chunk, text)
PASSAGES: list[tuple[str, list[str], str]] = [
    (
        "nota-4730561",
        [],
        "Tijdens de Algemene Politieke Beschouwingen van 21 en 22 september 2022 is na een vraag van het "
        "Kamerlid Heerma (CDA) toegezegd dat het kabinet voor de zomer van 2023 een brief aan de Kamer zal "
        'zenden over "het heroverwegen van een planbureau voor de veiligheid, mede in het licht van de '
        'ervaringen met de Nationale Veiligheidsraad (NVR) die nu wordt opgezet".',
    ),
    (
        "nota-4730561",
        [],
        "De conclusie binnen JenV/NCTV is dat oprichting van een Planbureau onvoldoende meerwaarde biedt: de "
        "bestaande kennisinfrastructuur, waaronder het Analistennetwerk Nationale Veiligheid en de "
        "samenwerking met bestaande kenniscentra, is ruim voldoende.",
    ),
    (
        "nota-4730561",
        ["33763-141"],
        "In de kabinetsreactie van 28 maart 2018 op het rapport van de WRR is de Kamer geïnformeerd dat het "
        "kabinet het instellen van een Planbureau niet wenselijk achtte (Kamerstukken II 2017–2018, 33763, "
        "nr. 141). Belangrijkste overweging was de al bestaande kennisbasis bij het ministerie van JenV.",
    ),
    (
        "nota-2021-planbureau",
        ["35570-17"],
        "ABD Topconsult concludeert dat een planbureau voor de veiligheid niet de oplossing is: het zou schade "
        "doen aan het netwerk van veiligheidsanalyses dat de afgelopen jaren is opgebouwd.",
    ),
    (
        "nota-2021-planbureau",
        [],
        "Het zou bovendien jaren duren voordat een nieuw planbureau voor de veiligheid een gezag opbouwt dat "
        "vergelijkbaar is met dat van de bestaande planbureau-organisaties zoals het CPB.",
    ),
    (
        "kst-33763-141",
        ["33763-141"],
        "Het kabinet acht het instellen van een planbureau voor de veiligheid niet wenselijk. De bestaande "
        "kennisbasis bij de departementen en een gezamenlijke onderzoeksportefeuille volstaan ruimschoots.",
    ),
    (
        "kst-33763-141",
        ["33763-141"],
        "Het kabinet onderschrijft de analyse van de WRR dat de internationale veiligheidssituatie "
        "verslechtert en dat binnenlandse en buitenlandse veiligheid steeds meer met elkaar verweven raken.",
    ),
    (
        "kst-35570-17",
        ["35570-17"],
        "De Kamer, gehoord de beraadslaging, verzoekt de regering de voors en tegens van een planbureau voor "
        "de veiligheid in kaart te brengen, en gaat over tot de orde van de dag.",
    ),
    (
        "h-tk-20172018-70-5",
        [],
        "De inspectie constateerde naar aanleiding van locatiebezoeken in 2015 dat het niet goed zit bij "
        "Careyn. De kwaliteit en de veiligheid van zorg waren in het geding. We zijn nu bijna drie jaar verder, "
        "en nog steeds is de situatie niet op orde.",
    ),
    (
        "h-tk-20172018-70-5",
        [],
        "Op het moment dat de inspectie elke keer opnieuw een deadline verschuift en opnieuw voor het laatst "
        "waarschuwt, staat zij met de bijl aan de wortel van haar eigen geloofwaardigheid te hakken.",
    ),
    (
        "h-tk-20172018-61-10",
        ["31311-199"],
        "Verzoekt de regering in het voor de zomer beloofde mkb-actieplan in te gaan op hoe de werking van de "
        "mkb-financieringsmarkt verbeterd kan worden. Deze motie krijgt nr. 199 (31311).",
    ),
    (
        "h-tk-20172018-61-10",
        [],
        "We spraken ook over financieringsfondsen die tot stand zijn gekomen dankzij de overheid, zoals het "
        "Dutch Venture Initiative. Het is goed na te denken of die fondsen nog wel bij de overheid thuishoren.",
    ),
    (
        "strategy-2023",
        [],
        "Security is like oxygen or water. It is a basic necessity of life. We cannot live without it and you "
        "only really start thinking about it when it becomes a problem.",
    ),
    (
        "strategy-2023",
        [],
        "Cyber attacks are proliferating at an alarming pace, and in today's digital world the reliability of "
        "information is increasingly at stake.",
    ),
    (
        "strategy-2019",
        [],
        "The National Security Strategy identifies the main threats to national security, such as state "
        "actors, terrorism and the disruption of vital infrastructure, and sets out the capabilities needed.",
    ),
    (
        "strategy-2019",
        [],
        "Climate change and pandemics can cause great societal unrest; resilience of society is therefore a "
        "core element of the strategy.",
    ),
    (
        "kst-woningbouw",
        [],
        "Het kabinet wil de bouw van betaalbare huurwoningen versnellen. Gemeenten en corporaties maken "
        "prestatieafspraken over het aantal nieuwe woningen per jaar.",
    ),
    (
        "kst-woningbouw",
        [],
        "De minister van Volkshuisvesting stuurt de Kamer jaarlijks een voortgangsrapportage over de "
        "woningbouwopgave, uitgesplitst per provincie.",
    ),
]

# Queries and the document each is about (by construction of the passages above).
QUERIES: dict[str, str] = {
    "Waarom richt het kabinet geen apart planbureau voor veiligheid op?": "planbureau",
    "Wat zei de inspectie over de kwaliteit van ouderenzorg bij Careyn?": "h-tk-20172018-70-5",
    "Hoe kan de financiering van kleine ondernemers verbeteren?": "h-tk-20172018-61-10",
    "Are attacks on computer systems increasing quickly?": "strategy-2023",
    "Hoeveel betaalbare woningen worden er gebouwd?": "kst-woningbouw",
    "Which threats to national security does the 2019 strategy name?": "strategy-2019",
}
PLANBUREAU_DOCS = {"nota-4730561", "nota-2021-planbureau", "kst-33763-141", "kst-35570-17"}


# --- the real model, loaded once ---------------------------------------------------------------------------


class _SentenceTransformerEmbedder:
    """Fallback while ``index.embeddings`` is not importable: the same model, bf16, with its prompts."""

    def __init__(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            str(MODEL_DIR), device="cpu", model_kwargs={"torch_dtype": torch.bfloat16}
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode_document(texts, normalize_embeddings=True, batch_size=8).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode_query([text], normalize_embeddings=True)[0].tolist()


@lru_cache(maxsize=1)
def fallback_embedder() -> _SentenceTransformerEmbedder:
    return _SentenceTransformerEmbedder()


def real_embedder(request: pytest.FixtureRequest) -> Any:
    """conftest's session ``embedder`` when ``index.embeddings`` exists, else the fallback (once per process)."""
    try:
        import index.embeddings  # noqa: F401
    except ImportError:
        return fallback_embedder()
    return request.getfixturevalue("embedder")


@dataclass
class Data:
    records: list[ChunkRecord]
    queries: dict[str, tuple[list[float], Any]]  # query text -> (dense, sparse)

    def text_of(self, hit: Hit) -> str:
        return hit.payload["text"]

    def q(self, text: str) -> dict[str, Any]:
        dense, sparse = self.queries[text]
        return {"dense": dense, "sparse": sparse}


ABD_QUERY = "Wat concludeerde ABD Topconsult over een planbureau voor de veiligheid?"
EXTRA_QUERIES = [
    ABD_QUERY,
    "planbureau voor de veiligheid",
    "planbureaus",
    "ministeries",
    "kamerstuk 33763",
    "Careyn",
    "de het een",  # only stopwords: an empty sparse vector
]


@pytest.fixture(scope="session")
def data(request: pytest.FixtureRequest) -> Data:
    emb = real_embedder(request)
    enc = bm25_encoder()
    texts = [t for _, _, t in PASSAGES]
    vectors = emb.embed_documents(texts)
    records = []
    for i, ((doc_id, cited, text), vec) in enumerate(zip(PASSAGES, vectors, strict=True)):
        meta = DOCS[doc_id]
        own = [doc_id.removeprefix("kst-")] if doc_id.startswith("kst-") else []
        payload = {
            **meta,
            "doc_id": doc_id,
            "text": text,
            "doc_hash": f"hash-{doc_id}",
            "chunk_index": i,
            "kamerstukken": list(dict.fromkeys(own + cited)),
        }
        records.append(
            ChunkRecord(
                id=str(uuid.uuid5(NS, f"{doc_id}:{i}")),
                dense=vec,
                sparse=enc.encode_document(text),
                payload=payload,
            )
        )
    queries = {q: (emb.embed_query(q), enc.encode_query(q)) for q in [*QUERIES, *EXTRA_QUERIES]}
    return Data(records=records, queries=queries)


# --- stores ----------------------------------------------------------------------------------------------

KINDS = ["edge", "qdrant"]


def _open(kind: str, path: Path, dim: int = DIM) -> VectorStore:
    ef = Settings().hnsw_ef  # the product's search width, so the HNSW path runs as in the product
    if kind == "edge":
        return EdgeStore(path, dim=dim, hnsw_ef=ef)
    return QdrantStore(path=path, collection="conformance", dim=dim, hnsw_ef=ef)


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., VectorStore]]:
    """Opens (or reopens) a store of the parametrized kind in this test's folder; closes it afterwards."""
    opened: list[VectorStore] = []

    def make(path: Path | None = None, dim: int = DIM) -> VectorStore:
        s = _open(request.param, path or tmp_path / request.param, dim)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()  # idempotent: tests may have closed it already


@pytest.fixture
def store(make_store: Callable[..., VectorStore], data: Data) -> VectorStore:
    s = make_store()
    s.add(data.records)
    return s


def docs_of(hits: list[Hit]) -> list[str]:
    return [h.payload["doc_id"] for h in hits]


def expected_count(pred: Callable[[dict[str, Any]], bool], data: Data) -> int:
    return sum(1 for r in data.records if pred(r.payload))


# --- add, count, idempotence, delete ------------------------------------------------------------------------


def test_satisfies_protocol(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)
    assert store.description.startswith(("qdrant-edge:", "qdrant:"))


def test_add_and_count(store: VectorStore, data: Data) -> None:
    assert store.count() == len(PASSAGES)
    assert store.count(Filters()) == len(PASSAGES)
    assert store.count(Filters(match={"doc_id": "nota-4730561"})) == 3


def test_re_adding_same_ids_keeps_one_point_each_and_updates_payload(store: VectorStore, data: Data) -> None:
    store.add(data.records)
    store.add(data.records[:5])
    assert store.count() == len(PASSAGES)
    changed = data.records[0].model_copy(deep=True)
    changed.payload["title"] = "Nieuwe titel"
    store.add([changed])
    assert store.count() == len(PASSAGES)
    hits = store.query(dense=changed.dense, sparse=None, mode="dense", limit=1)
    assert hits[0].id == changed.id
    assert hits[0].payload["title"] == "Nieuwe titel"


def test_delete_document(store: VectorStore, data: Data) -> None:
    n_nota = expected_count(lambda p: p["doc_id"] == "nota-4730561", data)
    assert store.delete_document("nota-4730561") == n_nota == 3
    assert store.count() == len(PASSAGES) - n_nota
    assert store.count(Filters(match={"doc_id": "nota-4730561"})) == 0
    # other documents untouched, and the deleted one no longer retrievable
    assert store.count(Filters(match={"doc_id": "kst-33763-141"})) == 2
    hits = store.query(**data.q("planbureau voor de veiligheid"), limit=20)
    assert hits and "nota-4730561" not in docs_of(hits)
    assert store.delete_document("nota-4730561") == 0
    assert store.delete_document("does-not-exist") == 0


# --- filters -------------------------------------------------------------------------------------------------

FILTER_CASES: list[tuple[Filters, Callable[[dict[str, Any]], bool]]] = [
    (Filters(match={"access": "openbaar"}), lambda p: p["access"] == "openbaar"),
    (Filters(match={"access": "intern"}), lambda p: p["access"] == "intern"),
    (Filters(match={"kind": "Handelingen"}), lambda p: p["kind"] == "Handelingen"),
    (Filters(match={"kind": ["nota", "strategie"]}), lambda p: p["kind"] in ("nota", "strategie")),
    (Filters(match={"language": "en"}), lambda p: p["language"] == "en"),
    (Filters(match={"dossier": "33763"}), lambda p: p["dossier"] == "33763"),
    # list-valued payload field, any-of
    (Filters(match={"kamerstukken": "33763-141"}), lambda p: "33763-141" in p["kamerstukken"]),
    (
        Filters(match={"kamerstukken": ["35570-17", "31311-199"]}),
        lambda p: bool({"35570-17", "31311-199"} & set(p["kamerstukken"])),
    ),
    # dates, inclusive on both ends
    (
        Filters(date_from="2018-03-28", date_to="2018-04-05"),
        lambda p: "2018-03-28" <= p["date"] <= "2018-04-05",
    ),
    (Filters(date_from="2021-09-14"), lambda p: p["date"] >= "2021-09-14"),
    (Filters(date_to="2018-03-15"), lambda p: p["date"] <= "2018-03-15"),
    (Filters(date_from="2019", date_to="2021"), lambda p: "2019" <= p["date"][:4] <= "2021"),
    # combined
    (
        Filters(match={"access": "openbaar", "kind": ["Kamerstuk", "Handelingen"]}, date_from="2018-04-01"),
        lambda p: (
            p["access"] == "openbaar"
            and p["kind"] in ("Kamerstuk", "Handelingen")
            and p["date"] >= "2018-04-01"
        ),
    ),
    (Filters(match={"access": "intern", "language": "en"}), lambda p: False),
    (Filters(match={"kind": []}), lambda p: False),  # any-of nothing matches nothing
]


@pytest.mark.parametrize(("filters", "pred"), FILTER_CASES, ids=[repr(f) for f, _ in FILTER_CASES])
def test_filters_in_count_and_every_query_mode(
    store: VectorStore, data: Data, filters: Filters, pred: Callable[[dict[str, Any]], bool]
) -> None:
    expected_ids = {r.id for r in data.records if pred(r.payload)}
    assert store.count(filters) == len(expected_ids)
    q = data.q("Waarom richt het kabinet geen apart planbureau voor veiligheid op?")
    for mode in ("dense", "hybrid"):
        hits = store.query(**q, limit=len(PASSAGES), filters=filters, mode=mode)
        # dense search sees every point, so with limit >= N it returns exactly the filtered set
        assert {h.id for h in hits} == expected_ids, mode
    for h in store.query(**q, limit=len(PASSAGES), filters=filters, mode="bm25"):
        assert h.id in expected_ids


def test_bad_date_is_an_error(store: VectorStore) -> None:
    with pytest.raises(ValueError):
        store.count(Filters(date_from="vorige week"))


def test_access_filter_holds_in_prefetches_too(store: VectorStore, data: Data) -> None:
    """The best matches are intern; filtered to openbaar we still get `limit` openbaar hits, and never an
    intern one: the filter must be applied inside each prefetch, not only to the fused top."""
    q = data.q(ABD_QUERY)
    k = 3
    # Precondition that makes the test meaningful: the unfiltered prefetches (top k of each retriever)
    # hold fewer than k openbaar chunks, so filtering only the fused result could not fill k slots.
    candidates = {h.id: h for mode in ("dense", "bm25") for h in store.query(**q, limit=k, mode=mode)}
    assert sum(h.payload["access"] == "openbaar" for h in candidates.values()) < k
    assert store.query(**q, limit=k, prefetch=k)[0].payload["access"] == "intern"
    openbaar = Filters(match={"access": "openbaar"})
    for mode in ("hybrid", "dense", "bm25"):
        hits = store.query(**q, limit=k, prefetch=k, filters=openbaar, mode=mode)
        assert len(hits) == k, mode
        assert all(h.payload["access"] == "openbaar" for h in hits), mode


# --- ranking ---------------------------------------------------------------------------------------------------


def _is_expected(doc_id: str, expected: str) -> bool:
    return doc_id in PLANBUREAU_DOCS if expected == "planbureau" else doc_id == expected


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_semantic_ranking(store: VectorStore, data: Data, mode: str) -> None:
    for query, expected in QUERIES.items():
        hits = store.query(**data.q(query), limit=5, mode=mode)
        assert hits, query
        assert _is_expected(hits[0].payload["doc_id"], expected), (query, docs_of(hits))
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(s, float) for s in scores)


def test_bm25_ranking_uses_dutch_stemming(store: VectorStore, data: Data) -> None:
    def containing(pattern: str) -> set[str]:
        return {r.id for r in data.records if re.search(pattern, r.payload["text"], re.IGNORECASE)}

    # "planbureaus" occurs in no passage; "planbureau" (and "planbureau-organisaties") does.
    assert not containing(r"planbureaus")
    hits = store.query(**data.q("planbureaus"), limit=len(PASSAGES), mode="bm25")
    assert {h.id for h in hits} == containing(r"\bplanbureau\b")
    # plural query, singular in the text: "ministeries" finds "ministerie van JenV"
    hits = store.query(**data.q("ministeries"), limit=len(PASSAGES), mode="bm25")
    assert {h.id for h in hits} == containing(r"\bministerie\b") != set()
    # singular query, plural in the text: "kamerstuk" finds "Kamerstukken II"; the number adds weight
    hits = store.query(**data.q("kamerstuk 33763"), limit=len(PASSAGES), mode="bm25")
    assert hits[0].id in containing(r"Kamerstukken.*33763")
    assert {h.id for h in hits} <= containing(r"kamerstuk|33763")
    # scores: best first, and a passage with more query terms ranks above one with fewer
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_bm25_query_of_only_stopwords_returns_nothing(store: VectorStore, data: Data) -> None:
    q = data.q("de het een")
    assert q["sparse"].indices == []
    assert store.query(**q, mode="bm25") == []
    # hybrid falls back to the dense side alone rather than failing
    assert len(store.query(**q, mode="hybrid", limit=3)) == 3


def test_hybrid_finds_a_lexical_match(store: VectorStore, data: Data) -> None:
    careyn = {r.id for r in data.records if "Careyn" in r.payload["text"]}
    assert {h.id for h in store.query(**data.q("Careyn"), limit=len(PASSAGES), mode="bm25")} == careyn
    assert store.query(**data.q("Careyn"), limit=3, mode="hybrid")[0].id in careyn


def test_hybrid_is_reciprocal_rank_fusion_of_both_rankings(store: VectorStore, data: Data) -> None:
    q = data.q("planbureau voor de veiligheid")
    n = len(PASSAGES)
    dense = store.query(**q, limit=n, mode="dense")
    bm25 = store.query(**q, limit=n, mode="bm25")
    hybrid = store.query(**q, limit=n, mode="hybrid", prefetch=n)
    rank_d = {h.id: i for i, h in enumerate(dense)}
    rank_s = {h.id: i for i, h in enumerate(bm25)}
    rank_h = {h.id: i for i, h in enumerate(hybrid)}
    assert len(rank_s) >= 4 and len(rank_d) == n
    assert set(rank_h) == set(rank_d) | set(rank_s)
    for a in rank_s:
        for b in rank_d:
            # better in both rankings (or missing from bm25 altogether) means worse after fusion
            if a != b and rank_d[a] < rank_d[b] and (b not in rank_s or rank_s[a] < rank_s[b]):
                assert rank_h[a] < rank_h[b], (a, b)
            # found by bm25 as well, at the same or better dense rank, beats a dense-only point
            if b not in rank_s and rank_d[a] <= rank_d[b]:
                assert rank_h[a] < rank_h[b], (a, b)


def test_query_needs_the_vectors_of_its_mode(store: VectorStore, data: Data) -> None:
    dense, sparse = data.queries["Careyn"]
    with pytest.raises(ValueError):
        store.query(dense=None, sparse=sparse, mode="dense")
    with pytest.raises(ValueError):
        store.query(dense=dense, sparse=None, mode="bm25")
    # hybrid with one side missing degrades to the other side
    assert store.query(dense=dense, sparse=None, mode="hybrid", limit=2)
    assert store.query(dense=None, sparse=sparse, mode="hybrid", limit=2)


# --- documents ---------------------------------------------------------------------------------------------


def test_list_documents_aggregates_chunks(store: VectorStore, data: Data) -> None:
    docs = store.list_documents()
    counts = Counter(doc_id for doc_id, _, _ in PASSAGES)
    assert [d.doc_id for d in docs] == sorted(counts)
    for d in docs:
        meta = DOCS[d.doc_id]
        assert d.chunks == counts[d.doc_id]
        assert (d.title, d.kind, d.access, d.date) == (
            meta["title"],
            meta["kind"],
            meta["access"],
            meta["date"],
        )
        assert d.doc_hash == f"hash-{d.doc_id}"
    store.delete_document("strategy-2019")
    assert "strategy-2019" not in {d.doc_id for d in store.list_documents()}


def test_hit_payload_is_what_was_stored(store: VectorStore, data: Data) -> None:
    by_id = {r.id: r.payload for r in data.records}
    for h in store.query(**data.q("Careyn"), limit=5):
        assert h.payload == by_id[h.id]


# --- durability ----------------------------------------------------------------------------------------------


def test_persistence_across_reopen(
    make_store: Callable[..., VectorStore], data: Data, tmp_path: Path
) -> None:
    path = tmp_path / "persist"
    s = make_store(path)
    s.add(data.records)
    s.delete_document("kst-woningbouw")
    s.optimize()  # Edge: brings BM25 statistics up to date after the delete (see the next test)
    s.flush()
    before = {
        (q, mode): [(h.id, round(h.score, 5)) for h in s.query(**data.q(q), limit=5, mode=mode)]
        for q in QUERIES
        for mode in ("hybrid", "dense", "bm25")
    }
    n = s.count()
    docs = s.list_documents()
    s.close()

    s2 = make_store(path)
    assert s2.count() == n == len(PASSAGES) - 2
    assert s2.list_documents() == docs
    after = {
        (q, mode): [(h.id, round(h.score, 5)) for h in s2.query(**data.q(q), limit=5, mode=mode)]
        for q in QUERIES
        for mode in ("hybrid", "dense", "bm25")
    }
    assert after == before


def test_bm25_statistics_follow_deletes_after_optimize(
    make_store: Callable[..., VectorStore], data: Data, tmp_path: Path
) -> None:
    """After deleting documents (and optimize(), which ingest runs after a batch), BM25 scores are those of
    a store that never held the deleted points: IDF must not keep counting them."""
    gone = {"nota-2021-planbureau", "kst-35570-17"}
    s = make_store(tmp_path / "deleted")
    s.add(data.records)
    for doc_id in gone:
        s.delete_document(doc_id)
    s.optimize()
    fresh = make_store(tmp_path / "fresh")
    fresh.add([r for r in data.records if r.payload["doc_id"] not in gone])
    q = data.q("planbureau voor de veiligheid")
    got = [(h.id, h.score) for h in s.query(**q, limit=10, mode="bm25")]
    want = [(h.id, h.score) for h in fresh.query(**q, limit=10, mode="bm25")]
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [sc for _, sc in got] == pytest.approx([sc for _, sc in want], rel=1e-4)


def test_reopening_with_another_dense_size_is_refused(
    make_store: Callable[..., VectorStore], data: Data, tmp_path: Path
) -> None:
    path = tmp_path / "dims"
    s = make_store(path)
    s.add(data.records[:2])
    s.close()
    with pytest.raises(StoreConfigError):
        make_store(path, dim=384)


def test_edge_store_is_single_process(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "busy", dim=8)
    try:
        with pytest.raises(StoreBusyError, match="in use"):
            EdgeStore(tmp_path / "busy", dim=8)
    finally:
        s.close()
    EdgeStore(tmp_path / "busy", dim=8).close()  # free again once closed


def test_edge_optimize_keeps_results(tmp_path: Path, data: Data) -> None:
    s = _open("edge", tmp_path / "opt")
    try:
        s.add(data.records)
        before = [[h.id for h in s.query(**data.q(q), limit=3)] for q in QUERIES]
        s.optimize()
        assert s.count() == len(PASSAGES)
        assert [[h.id for h in s.query(**data.q(q), limit=3)] for q in QUERIES] == before
    finally:
        s.close()


# --- congruence: same data, same answers ---------------------------------------------------------------------


def test_congruence_between_engines(tmp_path: Path, data: Data) -> None:
    stores = [_open(kind, tmp_path / kind) for kind in KINDS]
    try:
        for s in stores:
            s.add(data.records)
        filters = [
            None,
            Filters(match={"access": "openbaar"}),
            Filters(date_from="2018-01-01", date_to="2020-12-31"),
        ]
        for query in [*QUERIES, "planbureaus", "kamerstuk 33763"]:
            for mode in ("hybrid", "dense", "bm25"):
                for f in filters:
                    edge, qdrant = (s.query(**data.q(query), limit=3, mode=mode, filters=f) for s in stores)
                    assert docs_of(edge) == docs_of(qdrant), (query, mode, f)
                    assert [h.score for h in edge] == pytest.approx([h.score for h in qdrant], rel=1e-3)
        assert stores[0].list_documents() == stores[1].list_documents()
    finally:
        for s in stores:
            s.close()


# --- open_store ---------------------------------------------------------------------------------------------


def test_open_store_follows_settings(tmp_path: Path) -> None:
    edge = open_store(Settings(home=tmp_path / "h1", store="edge", embedding_dim=8))
    try:
        assert isinstance(edge, EdgeStore)
        assert edge.description == f"qdrant-edge:{tmp_path / 'h1' / 'store' / 'edge'}"
    finally:
        edge.close()
    local = open_store(Settings(home=tmp_path / "h2", store="qdrant", collection="c1", embedding_dim=8))
    try:
        assert isinstance(local, QdrantStore)
        assert str(tmp_path / "h2" / "store" / "qdrant-local") in local.description
        assert local.description.endswith("/c1")
    finally:
        local.close()
