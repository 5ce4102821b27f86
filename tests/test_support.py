"""Sentence splitting, the Dutch text module and the support check, on real text from the corpus.

The support thresholds are checked here: faithful paraphrases of nota sentences must pass, sentences with
an invented figure, an invented Kamerstuk number, a claim the passage does not make, or the opposite of
what the passage says (negation) must fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.decide import agreement
from assistant.support import SupportChecker, lexical_support, polarity_agrees
from corpus.dutch import holds_answer_type, is_negated, question_type, stem
from corpus.sentences import split_sentences, split_with_markers
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


# --- negation is meaning -----------------------------------------------------------------------------------

# (sentence, passage index) pairs where the sentence says the opposite of the passage it cites: the real
# negated sentences of the nota, with the negation removed or added.
NEGATED = [
    (
        "Het kabinet achtte het instellen van een Planbureau wenselijk (Kamerstukken II 2017/18, 33763, nr. 141).",
        0,
    ),
    ("ABD Topconsult kwam tot de conclusie dat een Planbureau de oplossing is.", 1),
    (
        "Oprichting van een NVR leidt tot een heroverweging van het besluit om geen Planbureau op te richten.",
        2,
    ),
    ("De belangrijkste overwegingen waren niet de bestaande kennisbasis bij JenV, Defensie en BZ.", 0),
]


def test_negation_words_are_meaning() -> None:
    assert is_negated("het kabinet achtte het instellen van een Planbureau niet wenselijk")
    assert not is_negated("het kabinet achtte het instellen van een Planbureau wenselijk")
    assert is_negated("er komt geen planbureau meer") and is_negated("dat is nooit gebeurd")
    # Two negations in one clause cancel: "niet tot een heroverweging van het besluit om geen ... op te richten".
    assert not is_negated("leidt niet tot een heroverweging van het besluit om geen Planbureau op te richten")


@pytest.mark.parametrize(("sentence", "i"), NEGATED)
def test_a_sentence_saying_the_opposite_is_unsupported(sentence: str, i: int, embedder) -> None:
    passage = nota_passages()[i].text
    assert not polarity_agrees(sentence, passage)
    result = SupportChecker(embedder).check(sentence, passage)
    assert not result.supported and not result.negation_ok, result.to_json()


def test_the_same_claims_with_their_negation_are_supported() -> None:
    passages = nota_passages()
    checker = SupportChecker()
    for sentence, i in [
        ("Het kabinet achtte het instellen van een Planbureau niet wenselijk (Kamerstukken II 2017/18, 33763, nr. 141).", 0),
        ("ABD Topconsult concludeerde dat een Planbureau niet de oplossing is.", 1),
    ]:  # fmt: skip
        assert checker.check(sentence, passages[i].text).supported, sentence


def test_negation_in_a_debate(shared_corpus: Path) -> None:
    from corpus.loader import load_paths

    (doc,) = [d for d in load_paths([shared_corpus / "handelingen" / "h-tk-20172018-70-12.xml"])]
    text = doc.text
    source = (
        "Die motie ontraad ik omdat ik het niet verstandig vind om nu vooruit te lopen op handelsakkoorden."
    )
    assert source in re.sub(r"\s+", " ", text)
    checker = SupportChecker()
    assert checker.check(
        "Ik vind het niet verstandig om nu vooruit te lopen op handelsakkoorden.", source
    ).supported
    assert not checker.check(
        "Ik vind het verstandig om nu vooruit te lopen op handelsakkoorden.", source
    ).supported


# --- question types and kinds of answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("Hoeveel kost een Planbureau voor de Veiligheid?", "amount"),
        ("Wat was het prijskaartje van het onderzoek?", "amount"),
        ("Wanneer stuurde het kabinet de kabinetsreactie?", "date"),
        ("Wie diende de motie over het planbureau in?", "person"),
        ("Welke consultant leidde het onderzoek?", "person"),
        ("Hoe is er gestemd over de motie?", "outcome"),
        ("Waarom is er geen Planbureau opgericht?", "reason"),
        ("Wat is de oorzaak van de vertraging?", "reason"),
        ("Hoe zat het ook alweer met het planbureau?", "history"),
        ("Welke moties zijn er ingediend?", "list"),
        ("Wat adviseert de nota over de Kamerbrief?", "open"),
    ],
)
def test_question_type(question: str, qtype: str) -> None:
    assert question_type(question) == qtype


def test_the_asked_for_answer_must_be_new() -> None:
    # What the question already says is not its answer.
    assert not holds_answer_type(
        "Er is 4 miljoen euro beschikbaar.", "amount", "Hoeveel vouchers uit de 4 miljoen euro?"
    )
    assert holds_answer_type(
        "Er zijn 1.200 vouchers verstrekt.", "amount", "Hoeveel vouchers uit de 4 miljoen euro?"
    )
    assert not holds_answer_type(
        "Op 5 april 2018 werd gestemd.", "date", "Wanneer na 5 april 2018 werd er gestemd?"
    )
    assert holds_answer_type(
        "De stemming is op 10 april 2018.", "date", "Wanneer na 5 april 2018 werd er gestemd?"
    )
    assert not holds_answer_type("Er kwam een nieuwe voorzitter.", "person", "Wie werd de nieuwe voorzitter?")
    assert holds_answer_type("De heer Van der Lee (GL) werd voorzitter.", "person", "Wie werd voorzitter?")
    assert holds_answer_type("zodat zij is aangenomen", "outcome", "Hoe is er gestemd over de motie?")


def test_agreement_between_dense_and_bm25() -> None:
    assert agreement(["a", "b"], ["a", "c"]) == 1.0
    assert agreement(["a", "b", "c"], ["x", "y", "z"]) == 0.0
    assert 0 < agreement(["a", "b", "c"], ["x", "c", "b"]) < 1
