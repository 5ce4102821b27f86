"""Dutch text in one place: words, stopwords, the one stemming and plural rule, question types, the kinds
of answer a sentence can hold, salient terms and negation.

Every layer reads text through this module: the BM25 encoder (``index``), the sentence features, the
support check and the decision (``assistant``), the conversation and the eval. Word lists are data
(``corpus/data/*.txt``), not code. Nothing here knows a particular document: the patterns describe Dutch
and the parliamentary genre (dates, amounts, members and their fracties, negation), never a topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

DATA = Path(__file__).resolve().parent / "data"


def _wordlist(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.lstrip().startswith("#"))


# Function words (Dutch, and the English of the English-language documents).
STOPWORDS = _wordlist("stopwords.txt")
# Negation is meaning, not a function word: a sentence with "niet" says the opposite of one without.
# "geen ... meer" is covered by "geen". Kept apart from STOPWORDS so the support check can compare it.
NEGATIONS = frozenset(
    ["niet", "geen", "nooit", "niets", "niemand", "nergens", "noch", "allerminst", "not", "no", "never", "none",
     "nothing", "neither", "nor", "cannot"]
)  # fmt: skip

_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][A-Za-zÀ-ÖØ-öø-ÿ0-9'’-]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# --- the one stemming and plural rule ---------------------------------------------------------------------

# Dutch Snowball only strips a plural -s after a consonant, so "bureaus" and "ministeries" keep it and never
# meet "bureau" / "ministerie". The -s after -eau/-ie (words of six letters and more, where Dutch has next to
# no singular nouns) is folded before stemming, in documents and questions alike, here and in BM25.
_VOWEL_PLURAL = re.compile(r"\b(\w{3,}(?:eau|ie))s\b", re.IGNORECASE)
# Separable-verb participles: "opgericht" should meet "oprichten" / "oprichting".
_PARTICIPLE = re.compile(
    r"^(op|aan|in|uit|af|door|mee|na|over|toe|voor|weg|bij|vast|terug|samen)ge(\w{3,}[td])$"
)


def fold_plurals(text: str) -> str:
    """The plural rule on running text (what the BM25 analyser sees)."""
    return _VOWEL_PLURAL.sub(r"\1", text)


@lru_cache(maxsize=1)
def _snowball() -> Any:
    from nltk.stem.snowball import DutchStemmer

    return DutchStemmer()


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    w = fold_plurals(word.lower().strip("'’-"))
    m = _PARTICIPLE.match(w)
    if m:
        w = m.group(1) + m.group(2)
    return _snowball().stem(w)


def is_number(token: str) -> bool:
    return bool(_NUMBER.fullmatch(token))


def content_stems(text: str) -> list[str]:
    """Stems of the content words of ``text``, in order; numbers excluded (they are compared exactly)."""
    out = []
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or lw in NEGATIONS or len(lw) < 3 or _NUMBER.fullmatch(lw):
            continue
        out.append(stem(lw))
    return out


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text``, normalised so that "2017–2018" and "2017-2018" compare equal."""
    return {n.replace(".", "").replace(",", ".") for n in _NUMBER.findall(text)}


# --- negation ---------------------------------------------------------------------------------------------


def negations(text: str) -> int:
    """How many negation words ``text`` holds ("niet", "geen", "nooit", ...; "not", "no", ...)."""
    return sum(1 for w in words(text) if w.lower() in NEGATIONS)


def is_negated(text: str) -> bool:
    """Odd number of negations: "niet wenselijk" is negated, "niet onwaar dat het niet kan" is not."""
    return negations(text) % 2 == 1


# --- question types and the kinds of answer a sentence holds --------------------------------------------

QuestionType = Literal["amount", "date", "person", "outcome", "reason", "history", "list", "open"]

# Roles a "welke ..." question can ask a person for (generic titles and functions, no names).
_ROLES = (
    r"minister|ministers|kamerlid|kamerleden|staatssecretaris|persoon|personen|fractie|fracties|partij|partijen|"
    r"woordvoerder|spreker|sprekers|bewindspersoon|bewindslieden|leden|lid|voorzitter|directeur|bestuurder|"
    r"projectleider|leider|consultant|adviseur|ambtenaar|ambtenaren|indiener|indieners|ondertekenaars|"
    r"party|parties|member|members|chair|director|official|officials"
)
_TYPE_PATTERNS: list[tuple[QuestionType, re.Pattern[str]]] = [
    (
        "amount",
        re.compile(
            r"\b(hoeveel|hoe\s+(groot|hoog|veel|duur)|wat\s+kost\w*|welk\s+bedrag|hoeveelheid|kosten|kost|"
            r"prijs|prijskaartje|budget\w*\s+van|how\s+(many|much|large)|what\s+(amount|share|percentage))\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(wanneer|in\s+welk\s+jaar|op\s+welke\s+(datum|dag)|sinds\s+wanneer|welke\s+datum|hoe\s+lang\s+geleden|"
            r"when|what\s+date|which\s+year|in\s+what\s+year)\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            rf"(\b(wie|door\s+wie|van\s+wie|met\s+wie|namens\s+wie|who|whom)\b|"
            rf"\b(welke?|which|what)\s+(\w+\s+)?({_ROLES})\b)",
            re.I,
        ),
    ),
    (
        # How a vote, motion or bill ended: the answer is an outcome, not a topic.
        "outcome",
        re.compile(
            r"\b(uitslag|hoe\s+is\s+er\s+gestemd|gestemd|stemming\w*\s+(over|afgelopen)|aangenomen|verworpen|"
            r"meerderheid|doorgekomen|afgelopen\s+met|hoe\s+liep\s+het\s+af|aangehouden|ingetrokken|"
            r"outcome|adopted|rejected)\b",
            re.I,
        ),
    ),
    (
        "reason",
        re.compile(
            r"\b(waarom|om\s+welke\s+reden(en)?|waardoor|hoe\s+komt\s+het|wat\s+(was|is|waren|zijn)\s+de\s+(reden|redenen|oorzaak|oorzaken)|"
            r"met\s+welke\s+reden|oorzaak|why|for\s+what\s+reason)\b",
            re.I,
        ),
    ),
    (
        "history",
        re.compile(
            r"\b(hoe\s+zat\s+het|hoe\s+is\s+het\s+\w+|verloop|(voor)?geschiedenis|wat\s+is\s+er\s+gebeurd|achtergrond|"
            r"tot\s+nu\s+toe|hoe\s+ging\s+het|eerdere\s+besluitvorming|history|background)\b",
            re.I,
        ),
    ),
    (
        "list",
        re.compile(
            r"(\b(welke|which)\s+\w+(en|s)\b|\b(noem|opsomming|lijst|overzicht|list|name\s+the)\b)",
            re.I,
        ),
    ),
]


def question_type(question: str) -> QuestionType:
    """The kind of answer ``question`` asks for; the first matching type wins (a "wanneer" question that
    also says "welke" wants a date)."""
    for qtype, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return qtype
    return "open"


_WEEKDAYS = (
    "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|monday|tuesday|wednesday|thursday|friday"
)
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "january|february|march|may|june|july|august|october"
)
# The words that name an amount after a number; domain-neutral units of Dutch policy text.
_AMOUNT_UNITS = (
    "%|procent|euro|miljoen|miljard|duizend|mln|mld|fte|keer|leden|banen|stuks|woningen|personen|mensen|"
    "bedrijven|jaar|maanden|weken|dagen|uur|percent|million|billion|people|per\\s+cent"
)
ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {
    "amount": re.compile(
        rf"(€\s?\d|\$\s?\d|\d[\d.,]*\s*({_AMOUNT_UNITS})\b|\b(miljoen|miljard|million|billion)\b|"
        r"\b\d{1,3}(\.\d{3})+\b)",
        re.I,
    ),
    "date": re.compile(
        rf"(\b\d{{1,2}}(e|de|ste)?\s+({_MONTHS})\b|\b({_MONTHS})\s+\d{{4}}\b|\b(19|20)\d{{2}}\b|\d{{1,2}}-\d{{1,2}}-\d{{4}}"
        # Handelingen speak in relative dates: "De moties komen aanstaande dinsdag in stemming."
        rf"|\b({_WEEKDAYS})\b|\b(vorige|volgende|komende)\s+(week|maand|jaar)\b|\bjongstleden\b)",
        re.I,
    ),
    # A member or office holder: "de heer X", "mevrouw X", "minister X", a name with a fractie in brackets,
    # a motion named after its first indiener, a list of members.
    "person": re.compile(
        r"(\b(de heer|mevrouw|minister|staatssecretaris|premier|kamerlid|het lid|lid|de leden|leden|voorzitter)"
        r"\s+(van\s+(der|den|de)\s+|de\s+|van\s+)?[A-Z][\w'-]+|\b[A-Z][a-zà-ÿ'-]+(\s+[a-z]+)*\s*\([A-Z][\w-]{1,12}\)"
        r"|\bmotie[- ][A-Z][\w'-]+|\bfracties?\s+van\s+(de\s+|het\s+)?[A-Z][\w-]+|"
        r"\b(Mr|Mrs|Ms|Minister|Prime Minister)\.?\s+[A-Z][\w'-]+)"
    ),
    "outcome": re.compile(
        r"\b(aangenomen|verworpen|ingetrokken|aangehouden|vervallen|met algemene stemmen|hebben gestemd|"
        r"voor\s+(deze|de)\s+(\w+\s+)?(motie|amendement|wetsvoorstel)|adopted|rejected)\b",
        re.I,
    ),
    "reason": re.compile(
        r"\b(omdat|want|vanwege|doordat|daarom|reden|redenen|overweging\w*|conclusie|zodat|teneinde|gelet op|"
        r"in verband met|dankzij|als gevolg van|leidt tot|because|due to|therefore|reason)\b",
        re.I,
    ),
}


TYPED: tuple[str, ...] = ("amount", "date", "person", "outcome")


def holds_answer_type(text: str, qtype: str, question: str = "") -> bool:
    """Whether ``text`` holds the kind of answer a ``qtype`` question asks for (True for untyped questions).

    With ``question``, only what the question does not already say counts: "op 5 april 2018" in the
    question is not the answer to its "wanneer", "4 miljoen" in it not the answer to its "hoeveel"."""
    pattern = ANSWER_PATTERNS.get(qtype)
    if pattern is None or qtype not in TYPED:
        return True
    q = question.lower()
    q_numbers = set(re.findall(r"\d+", q))
    for m in pattern.finditer(text):
        span = m.group(0).lower()
        digits = re.findall(r"\d+", span)
        if any(d not in q_numbers for d in digits) if digits else span not in q:
            return True
    return False


# --- salient terms --------------------------------------------------------------------------------------

# Words a question frames itself with ("volgens de nota", "welk kamerlid", light verbs): never salient.
FRAMING = frozenset(stem(w) for w in _wordlist("framing-words.txt"))

_NAME_PHRASE = re.compile(r"\b[A-Z][\w-]+(?:\s+(?:voor|van|op|in)\s+(?:de|het|den)\s+[A-Z][\w-]+)+")


def salient_terms(question: str) -> list[tuple[str, float]]:
    """The question's terms an answer should touch, as (stem, weight).

    Named entities (capitalised words not at the start, acronyms) and numbers weigh 2, other content words
    1 (long words 1.5: Dutch compounds are the rare, telling ones). In a multi-word name ("Raad voor de
    Rechtspraak") the head word carries the reference, the other capitalised words weigh 0.5.
    """
    out: dict[str, float] = {}
    modifiers = {
        stem(w.lower())
        for m in _NAME_PHRASE.finditer(question)
        for w in words(m.group(0))[1:]
        if w[0].isupper()
    }
    tokens = [part for w in words(question) for part in w.split("-") if part]
    for i, w in enumerate(tokens):
        lw = w.lower()
        if lw in STOPWORDS or lw in NEGATIONS or len(lw) < 3:
            continue
        if re.fullmatch(r"\d+", w):
            out[w] = 2.0
            continue
        s = stem(lw)
        if s in FRAMING:
            continue
        entity = (i > 0 and w[0].isupper()) or (w.isupper() and len(w) >= 2)
        weight = 2.0 if entity else (1.5 if len(lw) >= 10 else 1.0)
        if s in modifiers:
            weight = 0.5
        out[s] = max(out.get(s, 0.0), weight)
    return list(out.items())


def coverage(terms: Sequence[tuple[str, float]], texts: Sequence[str]) -> tuple[float, list[str]]:
    """Weighted share of ``terms`` present in ``texts``: the same stem, or (5+ letters) inside a compound
    ("woningcorporatie" covers "corporatie")."""
    if not terms:
        return 1.0, []
    joined = " ".join(texts)
    present = set(content_stems(joined)) | set(re.findall(r"\d+", joined))
    lowered = joined.lower()
    got = 0.0
    missing: list[str] = []
    for term, weight in terms:
        if term in present or (len(term) >= 5 and term in lowered):
            got += weight
        else:
            missing.append(term)
    return got / sum(w for _, w in terms), missing
