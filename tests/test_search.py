"""Search over the whole shared corpus plus the demo nota (session fixture ``indexed_settings``): ranking on
real questions, filters (kind, access, date range, kamerstuk, role), and the CLI's JSON contracts."""

from __future__ import annotations

import json

import pytest

from corpus.settings import Settings
from index.search import Searcher, build_filters, get_index
from index.store.base import Filters

# (question in a user's words, document that must be among the top 3)
HANDELINGEN_CHECKS = [
    ("wat betekent de brexit voor de Nederlandse economie", "h-tk-20172018-70-12"),
    ("waarom is Careyn onder curatele gesteld", "h-tk-20172018-70-5"),
    ("125 miljoen euro voor de woningcorporatie Humanitas", "h-tk-20172018-70-10"),
    ("toegang tot de Wlz voor cliënten in de ggz", "h-tk-20172018-70-3"),
    ("mantelzorg en hulpmiddelen onder de Wmo", "h-tk-20172018-70-4"),
    ("bouwregelgeving en energiebesparing bij gebouwen", "h-tk-20172018-70-9"),
    ("stemmingen over moties over de informele Milieuraad", "h-tk-20172018-70-6"),
]


@pytest.fixture(scope="module")
def searcher(indexed_settings: Settings) -> Searcher:
    return Searcher(indexed_settings)


def test_planbureau_question_finds_the_nota_first(searcher: Searcher) -> None:
    hits = searcher.search("waarom geen planbureau voor de veiligheid", k=5)
    assert hits and hits[0].doc_id == "nota-4730561", [h.doc_id for h in hits]
    assert "planbureau" in hits[0].text.lower()
    assert hits[0].score >= hits[-1].score


@pytest.mark.parametrize(("question", "doc_id"), HANDELINGEN_CHECKS)
def test_handelingen_topics_in_top3(searcher: Searcher, question: str, doc_id: str) -> None:
    top = [h.doc_id for h in searcher.search(question, k=3)]
    assert doc_id in top, (question, top)


def test_modes_all_work(searcher: Searcher) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        hits = searcher.search("ondercuratelestelling Careyn", k=3, mode=mode)
        assert hits and hits[0].doc_id == "h-tk-20172018-70-5", (mode, [h.doc_id for h in hits])


def test_kind_filter(searcher: Searcher) -> None:
    hits = searcher.search("veiligheid", k=10, filters={"kind": "Handelingen"})
    assert hits and all(h.kind == "Handelingen" for h in hits)
    both = searcher.search("planbureau voor de veiligheid", k=10, filters={"kind": "Handelingen,nota"})
    assert {h.kind for h in both} <= {"Handelingen", "nota"}
    assert "nota-4730561" in {h.doc_id for h in both}


def test_access_filter_and_role(searcher: Searcher) -> None:
    nota = searcher.search("planbureau voor de veiligheid", k=3)[0]
    assert nota.doc_id == "nota-4730561"
    other = "openbaar" if nota.access == "intern" else "intern"
    # Filtering on the other access level never returns the nota.
    assert all(
        h.doc_id != "nota-4730561"
        for h in searcher.search("planbureau veiligheid", k=10, filters={"access": other})
    )
    # A role that may only see `other` never gets the nota, whatever the user filters on.
    assert all(h.access == other for h in searcher.search("planbureau veiligheid", k=10, access=[other]))
    assert searcher.search("planbureau", k=10, filters={"access": nota.access}, access=[other]) == []
    both = searcher.search("planbureau voor de veiligheid", k=3, access=["openbaar", "intern"])
    assert both[0].doc_id == "nota-4730561"


def test_date_range_filter(searcher: Searcher) -> None:
    hits = searcher.search(
        "debat in de Tweede Kamer", k=10, filters={"date_from": "2018-04-05", "date_to": "2018-04-05"}
    )
    assert hits and all(h.date == "2018-04-05" for h in hits)
    later = searcher.search("planbureau voor de veiligheid", k=10, filters={"date_from": "2020-01-01"})
    assert later and all(h.date and h.date >= "2020" for h in later)
    assert "nota-4730561" in {h.doc_id for h in later}


def test_kamerstuk_filter_matches_cited_ids(searcher: Searcher, indexed_settings: Settings) -> None:
    probe = searcher.search(
        "ingekomen stukken brieven regering", k=10, filters={"doc_id": "h-tk-20172018-70-14"}
    )
    cited = [c for h in probe for c in h.kamerstukken if c != "h-tk-20172018-70-14"]
    assert cited, "the list of ingekomen stukken cites Kamerstukken"
    target = cited[0]
    hits = searcher.search("brief", k=10, filters={"kamerstuk": target})
    assert hits and all(target in h.kamerstukken for h in hits)
    assert build_filters({"kamerstuk": f"kst-{target}"}).match["kamerstukken"] == target


def test_filter_errors_and_own_id(searcher: Searcher) -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        searcher.search("brexit", filters={"colour": "blue"})
    f = build_filters({"kind": "nota, Handelingen", "date_from": "2018"}, access=["openbaar"])
    assert f == Filters(match={"kind": ["nota", "Handelingen"], "access": "openbaar"}, date_from="2018")
    hit = searcher.search(
        "Nederlandse economie na de brexit", k=1, filters={"doc_id": "h-tk-20172018-70-12"}
    )[0]
    assert hit.kamerstukken[0] == "h-tk-20172018-70-12"
    assert hit.citation and hit.speaker


def _cli(indexed_settings: Settings, monkeypatch, *args: str):
    from click.testing import CliRunner

    from assistant.cli import main

    monkeypatch.setenv("BRIEFING_MODELS", str(indexed_settings.models))
    monkeypatch.setenv("BRIEFING_EMBEDDING_CACHE", str(indexed_settings.embedding_cache))
    res = CliRunner().invoke(main, ["--home", str(indexed_settings.home), *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_cli_search_json_contract(indexed_settings: Settings, monkeypatch) -> None:
    out = _cli(
        indexed_settings,
        monkeypatch,
        "search",
        "waarom geen planbureau voor de veiligheid",
        "--json",
        "-k",
        "3",
    )
    assert len(out) == 3
    for h in out:
        assert set(h) == {
            "doc_id",
            "title",
            "kind",
            "date",
            "access",
            "page",
            "citation",
            "kamerstukken",
            "score",
            "text",
        }
    assert out[0]["doc_id"] == "nota-4730561"
    filtered = _cli(
        indexed_settings, monkeypatch, "search", "brexit", "--json", "--filter", "kind=Handelingen"
    )
    assert filtered and {h["kind"] for h in filtered} == {"Handelingen"}


def test_cli_status_json(indexed_settings: Settings, monkeypatch) -> None:
    out = _cli(indexed_settings, monkeypatch, "status", "--json")
    store = get_index(indexed_settings).store
    assert {"store", "location", "model", "documents", "chunks"} <= set(out)
    assert out["store"] == "qdrant-edge"
    assert out["documents"] == len(store.list_documents()) >= 20
    assert out["chunks"] == store.count() > out["documents"]
    assert out["incomplete"] == []
