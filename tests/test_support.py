"""Sentence splitting, the support check and the abstention scorer, on real text from the demo nota.

The support thresholds are calibrated here: faithful paraphrases of nota sentences must pass, sentences
with an invented figure, an invented Kamerstuk number or a claim the passage does not make must fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import abstain
from assistant.sentences import split_sentences, split_with_markers
from assistant.support import SupportChecker, lexical_support, stem
from index.search import SearchHit

NOTA = Path(__file__).resolve().parents[1] / "corpus" / "documents" / "nota-4730561.txt"


def _block(text: str, needle: str, until: str | None = None) -> str:
    """The line (a bullet item or paragraph) holding ``needle``; with ``until``, through that text."""
    start = text.rfind("\n", 0, text.index(needle)) + 1
    end = text.index(until, start) + len(until) if until else text.index("\n", text.index(needle))
    return text[start:end].strip(" -\n")


def nota_passages() -> list[SearchHit]:
    """Four real passages of the nota, as retrieval would return them (order fixed for the recordings)."""
    text = NOTA.read_text(encoding="utf-8")
    parts = [
        _block(text, "In de kabinetsreactie van 28 maart 2018"),
        _block(text, "Naar aanleiding van de motie Segers"),
        _block(text, "Na de toezegging van het kabinet aan Kamerlid Heerma", until="kenniskring."),
        _block(text, "Tijdens de Algemene Politieke Beschouwingen van 21 en 22 september 2022 is na"),
    ]
    return [
        SearchHit(
            chunk_id=f"nota-{i}",
            doc_id="nota-4730561",
            title="Kamerbrief Planbureau voor de veiligheid",
            kind="nota",
            date="2023-12-22",
            access="intern",
            citation="Nota JenV 4730561",
            kamerstukken=re.findall(r"\d{5}, nr\. \d+", p),
            score=1.0 - i / 10,
            text=p,
        )
        for i, p in enumerate(parts)
    ]


# --- sentences --------------------------------------------------------------------------------------------


def test_split_keeps_citations_and_abbreviations_whole() -> None:
    text = (
        "Naar aanleiding van de motie Segers (CU)/Heerma (CDA) (Kamerstukken II 2020-2021, 35570, nr. 17) "
        "heeft het kabinet onderzoek laten doen. Zie o.a. blz. 4 en art. 3 lid 2. Dhr. J. de Vries sprak."
    )
    got = [s.text for s in split_sentences(text)]
    assert got == [
        "Naar aanleiding van de motie Segers (CU)/Heerma (CDA) (Kamerstukken II 2020-2021, 35570, nr. 17) "
        "heeft het kabinet onderzoek laten doen.",
        "Zie o.a. blz. 4 en art. 3 lid 2.",
        "Dhr. J. de Vries sprak.",
    ]


def test_split_bullets_page_breaks_and_quoted_titles() -> None:
    text = NOTA.read_text(encoding="utf-8")
    sents = [s.text for s in split_sentences(text)]
    # A bullet item is its own sentence, with its bullet removed.
    assert (
        "Oprichting van de NVR leidt niet tot een heroverweging van het eerdere besluit om geen Planbureau voor de Veiligheid op te richten;"
        in sents
    )
    assert (
        "Benoemen van oprichting van de NVR en de Veiligheidsstrategie voor het Koninkrijk als nieuwe ontwikkelingen."
        in sents
    )
    # The nested "- o" bullets lose both markers.
    assert any(s.startswith("Te signaleren dat de vraag naar interdisciplinair onderzoek") for s in sents)
    # A paragraph cut by a page break ("verbindingen tussen\n\nbestaande") is one sentence again.
    assert any("de verbindingen tussen bestaande kennisinstituten" in s for s in sents)
    # The dot inside the quoted report title does not end the sentence.
    assert any(s.startswith("Het idee voor oprichting") and s.endswith("uit 2017.") for s in sents)
    # Offsets point back into the text.
    first = split_sentences(text)[20]
    assert re.sub(r"\s+", " ", text[first.start : first.end]).strip().endswith(first.text[-10:])


def test_split_with_markers() -> None:
    got = split_with_markers(
        "Het kabinet vond dat niet wenselijk [1]. Daarna volgde onderzoek. [2] Zie ook [1, 3]."
    )
    assert got == [
        ("Het kabinet vond dat niet wenselijk.", [1]),
        ("Daarna volgde onderzoek.", [2]),
        ("Zie ook.", [1, 3]),
    ]


def test_stemming_meets_participles_and_plurals() -> None:
    assert stem("opgericht") == stem("oprichting") == stem("oprichten")
    assert stem("planbureaus") == stem("planbureau")


# --- support ---------------------------------------------------------------------------------------------

SUPPORTED = [
    # (sentence, passage index) — paraphrases an official would accept as sourced.
    (
        "Het kabinet achtte in 2018 het instellen van een Planbureau niet wenselijk (Kamerstukken II 2017/18, 33763, nr. 141).",
        0,
    ),
    (
        "De belangrijkste overwegingen waren de bestaande kennisbasis bij JenV, Defensie en BZ en een gezamenlijke onderzoeksportefeuille.",
        0,
    ),
    (
        "Naar aanleiding van de motie Segers/Heerma liet het kabinet in 2021 ABD Topconsult onderzoek doen naar een Planbureau voor de Veiligheid.",
        1,
    ),
    ("ABD Topconsult concludeerde dat een Planbureau niet de oplossing is.", 1),
    (
        "Met de oprichting van een NVR is een gremium ingericht voor strategische sturing op nationale veiligheid.",
        2,
    ),
]
UNSUPPORTED = [
    ("Het onderzoek van ABD Topconsult kostte 1,2 miljoen euro.", 1),  # invented figure
    (
        "Het kabinet achtte een Planbureau niet wenselijk (Kamerstukken II 2017/18, 33763, nr. 142).",
        0,
    ),  # wrong stuk
    (
        "De Tweede Kamer nam in 2019 een wet aan die het Planbureau voor de Veiligheid oprichtte.",
        0,
    ),  # invented claim
    ("ABD Topconsult concludeerde dat een Planbureau niet de oplossing is.", 0),  # true, but wrong passage
    ("De Europese Commissie financiert het nieuwe veiligheidsinstituut in Brussel.", 2),  # off-topic
]


def test_lexical_support_catches_numbers_and_citations() -> None:
    passages = nota_passages()
    share, ok = lexical_support(SUPPORTED[0][0], passages[0].text)
    assert share >= 0.8 and ok
    _, ok = lexical_support(UNSUPPORTED[0][0], passages[1].text)
    assert not ok
    _, ok = lexical_support(UNSUPPORTED[1][0], passages[0].text)
    assert not ok


def test_support_threshold_separates_paraphrases_from_inventions(embedder) -> None:
    passages = nota_passages()
    checker = SupportChecker(embedder)
    results = checker.check_many([(s, passages[i].text) for s, i in SUPPORTED + UNSUPPORTED])
    good, bad = results[: len(SUPPORTED)], results[len(SUPPORTED) :]
    assert [r.supported for r in good] == [True] * len(SUPPORTED), [r.to_json() for r in good]
    assert [r.supported for r in bad] == [False] * len(UNSUPPORTED), [r.to_json() for r in bad]
    # Verbatim sentences are supported by construction, and only by the passage they come from.
    verbatim = "ABD Topconsult kwam tot de conclusie dat een Planbureau niet de oplossing is"
    assert checker.check(verbatim, passages[1].text).verbatim
    assert not checker.check(verbatim, passages[0].text).supported


# --- abstention scorer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("Hoeveel kost een Planbureau voor de Veiligheid?", "amount"),
        ("Wanneer stuurde het kabinet de kabinetsreactie?", "date"),
        ("Wie diende de motie over het planbureau in?", "person"),
        ("Waarom is er geen Planbureau opgericht?", "reason"),
        ("Wat adviseert de nota over de Kamerbrief?", "open"),
    ],
)
def test_question_type(question: str, qtype: str) -> None:
    assert abstain.question_type(question) == qtype


def test_abstention_requires_the_kind_of_answer_asked_for() -> None:
    on_topic = [
        "In de kabinetsreactie van 28 maart 2018 is de Kamer geïnformeerd dat het kabinet het instellen van een "
        "Planbureau niet wenselijk achtte."
    ]
    # Same evidence: it holds a date and a reason, but no amount.
    assert not abstain.decide("Wanneer achtte het kabinet een Planbureau niet wenselijk?", on_topic).abstain
    assert not abstain.decide("Waarom achtte het kabinet een Planbureau niet wenselijk?", on_topic).abstain
    d = abstain.decide("Hoeveel kost een Planbureau per jaar?", on_topic)
    assert d.abstain and not d.answer_type_present and "amount" in d.reason


def test_abstention_requires_the_question_entities() -> None:
    evidence = ["ABD Topconsult kwam tot de conclusie dat een Planbureau niet de oplossing is."]
    d = abstain.decide("Wat concludeerde de Algemene Rekenkamer over Frontex?", evidence)
    assert d.abstain and d.coverage < abstain.MIN_COVERAGE
    assert not abstain.decide("Wat concludeerde ABD Topconsult over een Planbureau?", evidence).abstain


def test_agreement_between_dense_and_bm25() -> None:
    assert abstain.agreement(["a", "b"], ["a", "c"]) == 1.0
    assert abstain.agreement(["a", "b", "c"], ["x", "y", "z"]) == 0.0
    assert 0 < abstain.agreement(["a", "b", "c"], ["x", "c", "b"]) < 1
