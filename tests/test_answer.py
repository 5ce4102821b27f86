"""Answers on the real index (the shared corpus + demo nota): the Planbureau answer, answerable questions
with the right source first, unanswerable questions that abstain, conversation and filters."""

from __future__ import annotations

import json

import pytest

from assistant.answer import ABSTAIN_TEXT, Answer, Assistant
from assistant.conversation import Conversation

PLANBUREAU = "Waarom is er geen Planbureau voor de Veiligheid opgericht?"

# (question, doc id the first source must come from). Each answer is in the corpus.
ANSWERABLE = [
    (
        "Wanneer was de kabinetsreactie op het WRR-rapport over een Planbureau voor de Veiligheid?",
        "nota-4730561",
    ),
    ("Wat concludeerde ABD Topconsult over een Planbureau voor de Veiligheid?", "nota-4730561"),
    ("Wat vroeg Kamerlid Heerma tijdens de Algemene Politieke Beschouwingen van 2022?", "nota-4730561"),
    ("Hoeveel geld ging er naar woningcorporatie Humanitas?", "h-tk-20172018-70-10"),
    ("Welke gevolgen heeft de brexit voor de Nederlandse economie?", "h-tk-20172018-70-12"),
    ("Waarom is zorginstelling Careyn onder curatele gesteld?", "h-tk-20172018-70-5"),
    ("Over welke moties van Wassenberg over proefdieren werd gestemd?", "h-tk-20172018-70-6"),
    ("Wat vroeg de heer Wörsdörfer in het VAO Ondernemen en Bedrijfsfinanciering?", "h-tk-20172018-61-10"),
    ("Wat werd er gezegd over de toegang tot de Wlz voor ggz-cliënten?", "h-tk-20172018-70-3"),
    ("Wat is er besproken over mantelzorg en hulpmiddelenbeleid?", "h-tk-20172018-70-4"),
]

# Plausible questions about the same subjects whose answers are not in the corpus.
UNANSWERABLE = [
    "Hoeveel kost een Planbureau voor de Veiligheid per jaar?",
    "Wie wordt de directeur van het Planbureau voor de Veiligheid?",
    "Hoeveel fte werkt er bij het Analistennetwerk Nationale Veiligheid?",
    "Wat is het budget van de NCTV voor 2024?",
    "Hoeveel asielzoekers kwamen in 2023 naar Nederland?",
    "Wat vond de Eerste Kamer van de stikstofwet?",
    "Wanneer is het Planbureau voor de Veiligheid opgeheven?",
    "Welke gemeente krijgt een nieuwe gevangenis?",
    "Hoeveel kostte de verbouwing van het Binnenhof?",
    "Wat is het standpunt van het kabinet over kernenergie in Groningen?",
]


@pytest.fixture(scope="module")
def assistant(indexed_settings, embedder) -> Assistant:
    return Assistant(indexed_settings, embedder=embedder)


def test_planbureau_answer_an_official_would_accept(assistant: Assistant) -> None:
    a = assistant.ask(PLANBUREAU, engine="extractive")
    assert not a.abstained, a.render_text()
    for ks in ("33763-141", "35570-17", "30821-153"):
        assert ks in a.cited_kamerstukken, (ks, a.cited_kamerstukken, a.render_text())
    assert "NVR" in a.answer and "Veiligheidsstrategie" in a.answer, a.render_text()
    assert "ABD Topconsult" in a.answer
    # A few sentences, each with a marker that points to a listed source.
    assert 3 <= len(a.sentences) <= 7
    ns = {s["n"] for s in a.sources}
    assert all(s.source in ns for s in a.sentences)
    assert a.sources[0]["doc_id"] == "nota-4730561"
    # Chronological: the 2018 kabinetsreactie before the 2021 study before the new developments.
    text = a.answer
    assert text.index("33763, nr. 141") < text.index("30821, nr. 153") < text.index("Veiligheidsstrategie")
    # The display forms are official.
    rendered = a.render_text()
    assert "Kamerstukken II 2017/18, 33763, nr. 141" in rendered
    # The JSON contract.
    data = json.loads(json.dumps(a.to_json()))
    assert {
        "question",
        "answer",
        "abstained",
        "engine",
        "sources",
        "cited_kamerstukken",
        "unsupported",
    } <= set(data)
    assert set(data["sources"][0]) >= {
        "n",
        "doc_id",
        "title",
        "kind",
        "date",
        "page",
        "citation",
        "kamerstukken",
        "passage",
        "score",
    }
    assert data["engine"] == "extractive" and data["unsupported"] == []


@pytest.mark.parametrize(("question", "doc_id"), ANSWERABLE)
def test_answerable_questions_answer_from_the_right_source(
    assistant: Assistant, question: str, doc_id: str
) -> None:
    a = assistant.ask(question)
    assert not a.abstained, (a.abstention, a.render_text())
    assert a.sources[0]["doc_id"] == doc_id, a.render_text()


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_abstain(assistant: Assistant, question: str) -> None:
    a = assistant.ask(question)
    assert a.abstained, (a.abstention, a.render_text())
    assert a.answer == ABSTAIN_TEXT
    assert a.sentences == [] and a.cited_kamerstukken == []
    assert 1 <= len(a.sources) <= 3  # the closest passages, shown as such
    assert "Dichtstbijzijnde passages:" in a.render_text()


def test_follow_up_question_is_resolved_against_the_conversation(assistant: Assistant) -> None:
    conv = Conversation()
    first = assistant.ask(
        "Welke gevolgen heeft de brexit voor de Nederlandse economie?",
        history=conv,
        filters={"kind": "Handelingen"},
    )
    assert not first.abstained
    follow = assistant.ask("En wat vond de minister daarvan?", history=conv)
    assert follow.resolved_question != follow.question
    assert "brexit" in follow.resolved_question.lower()
    assert len(conv.turns) == 2 and conv.turns[1].filters == {"kind": "Handelingen"}
    assert all(s["doc_id"].startswith("h-tk-") for s in follow.sources)
    # A new, self-contained question does not inherit the previous topic or filters.
    fresh, filt = conv.resolve("Waarom is er geen Planbureau voor de Veiligheid opgericht?")
    assert fresh == "Waarom is er geen Planbureau voor de Veiligheid opgericht?" and filt == {}


def test_filters_and_access_apply_per_question(assistant: Assistant) -> None:
    a = assistant.ask(PLANBUREAU, access=["openbaar"])
    # The nota is internal: a public-only user gets no answer from it.
    assert all(s["doc_id"] != "nota-4730561" for s in a.sources)
    b = assistant.ask(PLANBUREAU, filters={"kind": "nota"})
    assert b.sources and all(s["kind"] == "nota" for s in b.sources)


def test_ask_stream_ends_with_the_answer(assistant: Assistant) -> None:
    items = list(assistant.ask_stream("Hoeveel geld ging er naar woningcorporatie Humanitas?"))
    assert isinstance(items[-1], Answer) and items[0] == items[-1].answer
