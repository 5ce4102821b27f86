"""Answers on the real index (the shared corpus + demo nota): the Planbureau answer in four wordings,
answerable questions with the right source first, questions about other subjects that get no answer, the
JSON contract, conversation and filters."""

from __future__ import annotations

import json
import re

import pytest

from assistant.answer import Answer, Assistant
from assistant.conversation import Conversation
from assistant.models import ANSWER_TEXT

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

# Questions about subjects no document of the corpus is about: the assistant must not answer them. (Plausible
# questions on the corpus's own subjects whose answer is absent are measured by the eval, per split.)
OFF_CORPUS = [
    "Hoeveel asielzoekers kwamen in 2023 naar Nederland?",
    "Welke gemeente krijgt een nieuwe gevangenis?",
    "Hoeveel kostte de verbouwing van het Binnenhof?",
    "Wat is het budget van de NCTV voor 2024?",
]

# The Planbureau question in other words: each must get the same chronological answer with its stukken.
PLANBUREAU_WORDINGS = [
    PLANBUREAU,
    "Waarom ging het Planbureau voor de Veiligheid uiteindelijk niet door?",
    "Hoe zat het ook alweer met dat veiligheidsplanbureau?",
    "Wat is de voorgeschiedenis van het besluit om geen Planbureau voor de Veiligheid op te richten?",
]
RECORD = ("33763-141", "35570-17", "30821-153")


@pytest.fixture(scope="module")
def assistant(indexed_settings, embedder) -> Assistant:
    return Assistant(indexed_settings, embedder=embedder)


@pytest.mark.parametrize("question", PLANBUREAU_WORDINGS)
def test_planbureau_answer_an_official_would_accept(assistant: Assistant, question: str) -> None:
    a = assistant.ask(question, engine="extractive")
    assert not a.abstained and a.outcome == "answer", a.render_text()
    for ks in RECORD:
        assert ks in a.cited_kamerstukken, (ks, a.cited_kamerstukken, a.render_text())
    # A direct answer first, then the points; every marker points to a listed source.
    assert a.direct and a.answer.startswith(a.direct.split(" [")[0][:40])
    assert a.points and all(p in a.answer for p in a.points)
    assert a.sentences[0].role == "direct" and {s.role for s in a.sentences} == {"direct", "point"}
    ns = {s.n for s in a.sources}
    assert all(s.source in ns for s in a.sentences)
    assert a.sources[0].doc_id == "nota-4730561"
    # Chronological: the 2018 kabinetsreactie before the 2021 motie and study.
    text = a.answer
    assert text.index("33763, nr. 141") < text.index("35570, nr. 17") < text.index("30821, nr. 153")
    # Sources highlight the sentences taken from them.
    for s in a.sentences:
        src = a.sources[s.source - 1]
        assert s.span is not None and s.span in src.spans
        assert re.sub(r"\s+", " ", src.passage[s.span[0] : s.span[1]]).startswith(s.text[:30])
    # The display forms are official.
    assert "Kamerstukken II 2017/18, 33763, nr. 141" in a.render_text()


def test_answer_json_contract(assistant: Assistant) -> None:
    a = assistant.ask(PLANBUREAU)
    data = json.loads(json.dumps(a.to_json()))
    first_release = [
        "question",
        "answer",
        "abstained",
        "engine",
        "sources",
        "cited_kamerstukken",
        "unsupported",
    ]
    assert list(data)[: len(first_release)] == first_release
    assert {"sentences", "cited_display", "resolved_question", "latency_ms", "abstention", "warnings"} <= set(
        data
    )
    assert {"outcome", "direct", "points"} <= set(data) and data["outcome"] == "answer"
    assert set(data["sources"][0]) >= {
        "n", "doc_id", "title", "kind", "date", "page", "citation", "kamerstukken", "passage", "score",
    }  # fmt: skip
    assert data["engine"] == "extractive" and data["unsupported"] == []
    assert {"abstain", "outcome", "score", "question_type", "features", "reason"} <= set(data["abstention"])


@pytest.mark.parametrize(("question", "doc_id"), ANSWERABLE)
def test_answerable_questions_answer_from_the_right_source(
    assistant: Assistant, question: str, doc_id: str
) -> None:
    a = assistant.ask(question)
    assert not a.abstained, (a.abstention, a.render_text())
    assert a.sources[0].doc_id == doc_id, a.render_text()


@pytest.mark.parametrize("question", OFF_CORPUS)
def test_questions_about_other_subjects_get_no_answer(assistant: Assistant, question: str) -> None:
    a = assistant.ask(question)
    assert a.abstained and a.outcome in ("none", "indirect"), (a.abstention, a.render_text())
    assert a.answer == ANSWER_TEXT[a.outcome]
    assert a.sentences == [] and a.cited_kamerstukken == [] and a.direct == ""
    # "Niets gevonden" shows nothing; "geen direct antwoord" the closest passages, as such.
    if a.outcome == "none":
        assert a.sources == []
    else:
        assert 1 <= len(a.sources) <= 3 and "Dichtstbijzijnde passages:" in a.render_text()
    assert a.abstention["abstain"] and a.abstention["reason"]


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
    assert all(s.doc_id.startswith("h-tk-") for s in follow.sources)
    # A new, self-contained question does not inherit the previous topic or filters.
    fresh, filt = conv.resolve("Waarom is er geen Planbureau voor de Veiligheid opgericht?")
    assert fresh == "Waarom is er geen Planbureau voor de Veiligheid opgericht?" and filt == {}


def test_filters_and_access_apply_per_question(assistant: Assistant) -> None:
    a = assistant.ask(PLANBUREAU, access=["openbaar"])
    # The nota is internal: a public-only user gets no answer from it.
    assert all(s.doc_id != "nota-4730561" for s in a.sources)
    b = assistant.ask(PLANBUREAU, filters={"kind": "nota"})
    assert b.sources and all(s.kind == "nota" for s in b.sources)


def test_ask_stream_ends_with_the_answer(assistant: Assistant) -> None:
    items = list(assistant.ask_stream("Hoeveel geld ging er naar woningcorporatie Humanitas?"))
    assert isinstance(items[-1], Answer) and items[0] == items[-1].answer
