"""Should we answer at all? A small, explained scorer instead of a similarity threshold.

Measured here: the best chunk's cosine similarity does not separate answerable from unanswerable
questions (0.46-0.68 for unanswerable, median 0.65 for answerable). Topical similarity says the corpus
talks *about* the subject, not that it holds *the answer*. So the scorer asks four questions:

1. What kind of answer is asked for? ``hoeveel`` wants an amount, ``wanneer`` a date, ``wie`` a person,
   ``waarom`` a reason; other questions are open.
2. Is that kind of answer present in the selected sentences? (hard requirement for amount/date/person)
3. Do the selected sentences cover the question's salient terms: named entities, numbers and rare content
   words? A question about "de begroting van het Planbureau" is not answered by sentences that never
   mention a begroting.
4. Do dense and BM25 retrieval agree on where the answer is? Agreement means the query's words and its
   meaning point at the same passages; disagreement is typical of questions the corpus cannot answer.

The weights and the threshold are module constants so that the eval suite can calibrate them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.sentences import words
from assistant.support import STOPWORDS, content_stems, stem

# Calibration constants (see module docstring). Score = sum(weight * component), each component in [0, 1].
W_ANSWER_TYPE = 0.30
W_COVERAGE = 0.45
W_AGREEMENT = 0.25
# Calibrated on the gold set (docs/evaluation.md): the score threshold barely matters once the hard rules
# apply; the coverage floor carries the trade-off. 0.72 still refuses a question whose one predicate
# ("opgeheven", "directeur") no sentence contains (coverage 0.71, tests/test_answer.py), and answers 4 in
# 93 answerable questions more than 0.75 did.
THRESHOLD = 0.55
# Below this share of the salient terms covered, we abstain whatever the other components say.
MIN_COVERAGE = 0.72
# Share of the salient terms a single sentence must cover to count as holding the asked-for answer type.
SENTENCE_COVERAGE = 0.5

QuestionType = str  # "amount" | "date" | "person" | "reason" | "open"

_TYPE_PATTERNS: list[tuple[QuestionType, re.Pattern[str]]] = [
    (
        "amount",
        # "Wat zou X kosten?" asks for an amount as much as "hoeveel" does.
        re.compile(
            r"\b(hoeveel|hoe\s+groot|hoe\s+hoog|wat\s+kost\w*|welk\s+bedrag|hoeveelheid|kosten|kost)\b", re.I
        ),
    ),
    (
        "date",
        re.compile(r"\b(wanneer|in\s+welk\s+jaar|op\s+welke\s+datum|sinds\s+wanneer|welke\s+datum)\b", re.I),
    ),
    (
        "person",
        re.compile(
            r"^\s*(wie|door\s+wie|van\s+wie|welke?\s+(minister|kamerlid|staatssecretaris|persoon|fractie))\b",
            re.I,
        ),
    ),
    ("reason", re.compile(r"\b(waarom|om\s+welke\s+reden|waardoor|hoe\s+komt\s+het)\b", re.I)),
]

_WEEKDAYS = "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
_MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_AMOUNT = re.compile(
    r"(€\s?\d|\d[\d.,]*\s*(%|procent|euro|miljoen|miljard|duizend|mln|mld|fte|keer|leden|banen|stuks)"
    r"|\b(miljoen|miljard)\b)",
    re.I,
)
_DATE = re.compile(
    rf"(\b\d{{1,2}}(e|de|ste)?\s+({_MONTHS})\b|\b({_MONTHS})\s+\d{{4}}\b|\b(19|20)\d{{2}}\b|\d{{1,2}}-\d{{1,2}}-\d{{4}}"
    # Handelingen speak in relative dates: "De moties komen aanstaande dinsdag in stemming."
    rf"|\b({_WEEKDAYS})\b)",
    re.I,
)
_PERSON = re.compile(
    r"(\b(de heer|mevrouw|minister|staatssecretaris|premier|kamerlid|het lid|lid|de leden|leden)\s+[A-Z]"
    r"|\b[A-Z][a-zà-ÿ]+\s*\((CDA|VVD|D66|PvdA|SP|GL|GroenLinks|CU|ChristenUnie|PVV|SGP|PvdD|DENK|FvD|50PLUS)\)"
    r"|\bmotie[- ][A-Z])"
)
_REASON = re.compile(
    r"\b(omdat|want|vanwege|doordat|daarom|reden|redenen|overweging\w*|conclusie|niet wenselijk|onvoldoende"
    r"|meerwaarde|zodat|teneinde|gelet op|in verband met)\b",
    re.I,
)
_ANSWER_TYPE = {"amount": _AMOUNT, "date": _DATE, "person": _PERSON, "reason": _REASON}

# Question words that are generic in this domain: never salient on their own.
_GENERIC = frozenset(
    stem(w)
    for w in [
        "kamer",
        "kabinet",
        "minister",
        "regering",
        "besluit",
        "besluiten",
        "brief",
        "kamerbrief",
        "stuk",
        "stukken",
        "vergadering",
        "debat",
        "zeggen",
        "zegt",
        "gezegd",
        "zei",
        "zeiden",
        "vragen",
        "vroeg",
        "vroegen",
        "sprak",
        "vinden",
        "vond",
        "vindt",
        "vond",
        "gevonden",
        "daarvan",
        "daarover",
        "gebeurd",
        "gebeuren",
        "gedaan",
        "doen",
        "wordt",
        "besproken",
        "bespreken",
        "beschreven",
        "geven",
        "gegeven",
        "staat",
        "stond",
        "wil",
        "willen",
        "nederland",
        "nederlandse",
        # Words a question frames itself with rather than content: the source says "Tweede Kamer" or
        # nothing, "volgens de nota" names where to look, light verbs and "indienen" are phrasing.
        "volgens",
        "nota",
        "tweede",
        "eerste",
        "kreeg",
        "kregen",
        "krijgt",
        "krijgen",
        "kwam",
        "kwamen",
        "komt",
        "komen",
        "ging",
        "gingen",
        "gaat",
        "gaan",
        "ingediend",
        "indienen",
        "diende",
        "dienden",
        "noemt",
        "noemen",
        "genoemd",
        # Parliamentary framing: who, when and in which capacity are asked through the question type
        # and the source's own metadata, not through these words appearing in the answer sentence.
        "kamerlid",
        "kamerleden",
        "lid",
        "leden",
        "tijdens",
        "samen",
        "mee",
        "nummer",
        "welk",
        "welke",
        "lijst",
        "binnen",
    ]
    # English questions on the English strategies: their function words are not content either.
    + [
        "how",
        "many",
        "much",
        "does",
        "did",
        "what",
        "when",
        "who",
        "why",
        "list",
        "listed",
        "according",
    ]
)


_NAME_PHRASE = re.compile(r"\b[A-Z][\w-]+(?:\s+(?:voor|van|op|in)\s+(?:de|het|den)\s+[A-Z][\w-]+)+")


def question_type(question: str) -> QuestionType:
    for qtype, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return qtype
    return "open"


def salient_terms(question: str) -> list[tuple[str, float]]:
    """The question's terms that an answer must touch, as (stem, weight).

    Named entities (capitalised words not at the start, acronyms) and numbers weigh 2, other content
    words 1 (long words 1.5: in Dutch, compounds like "woningcorporatie" are the rare, telling ones).
    """
    out: dict[str, float] = {}
    # In a multi-word name ("Planbureau voor de Veiligheid") the head word carries the reference: sources
    # say "een Planbureau" once the name is introduced. The other capitalised words weigh little.
    modifiers = {
        stem(w.lower())
        for m in _NAME_PHRASE.finditer(question)
        for w in words(m.group(0))[1:]
        if w[0].isupper()
    }
    # Hyphenated compounds ("WRR-rapport", "ggz-cliënten") are matched part by part.
    tokens = [part for w in words(question) for part in w.split("-") if part]
    for i, w in enumerate(tokens):
        lw = w.lower()
        if lw in STOPWORDS or len(lw) < 3:
            continue
        if re.fullmatch(r"\d+", w):
            out[w] = 2.0
            continue
        s = stem(lw)
        if s in _GENERIC:
            continue
        entity = (i > 0 and w[0].isupper()) or (w.isupper() and len(w) >= 2)
        weight = 2.0 if entity else (1.5 if len(lw) >= 10 else 1.0)
        if s in modifiers:
            weight = 0.5
        out[s] = max(out.get(s, 0.0), weight)
    return list(out.items())


def coverage(terms: Sequence[tuple[str, float]], texts: Sequence[str]) -> tuple[float, list[str]]:
    """Weighted share of ``terms`` present in ``texts`` (stem match, or as part of a compound)."""
    if not terms:
        return 1.0, []
    joined = " ".join(texts)
    stems = set(content_stems(joined)) | {w for w in re.findall(r"\d+", joined)}
    lowered = joined.lower()
    got = 0.0
    missing: list[str] = []
    for term, weight in terms:
        # Compounds: "veiligheidsstrategie" covers "strategie"; a 5+ letter stem inside a word counts.
        if term in stems or (len(term) >= 5 and term in lowered):
            got += weight
        else:
            missing.append(term)
    return got / sum(w for _, w in terms), missing


def agreement(dense_ids: Sequence[str], bm25_ids: Sequence[str], k: int = 5) -> float:
    """Overlap of the top-k documents found by dense and by BM25 retrieval, rank-weighted, in [0, 1]."""
    if not dense_ids or not bm25_ids:
        return 0.0
    a, b = list(dict.fromkeys(dense_ids))[:k], list(dict.fromkeys(bm25_ids))[:k]
    if a[0] == b[0]:
        return 1.0
    shared = set(a) & set(b)
    return sum(1.0 / (1 + min(a.index(d), b.index(d))) for d in shared) / sum(1.0 / (1 + i) for i in range(k))


@dataclass
class AbstentionDecision:
    abstain: bool
    score: float
    qtype: QuestionType
    answer_type_present: bool
    coverage: float
    agreement: float
    missing_terms: list[str] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "abstain": self.abstain,
            "score": round(self.score, 3),
            "question_type": self.qtype,
            "answer_type_present": self.answer_type_present,
            "coverage": round(self.coverage, 3),
            "agreement": round(self.agreement, 3),
            "missing_terms": self.missing_terms,
            "reason": self.reason,
        }


def decide(
    question: str,
    selected: Sequence[str],
    dense_ids: Sequence[str] = (),
    bm25_ids: Sequence[str] = (),
    context: Sequence[str] = (),
) -> AbstentionDecision:
    """Score the evidence ``selected`` (the answer sentences) for ``question``; explain the verdict.

    ``context`` is what the sources of those sentences say about themselves (title, date, speaker,
    citation): a question may name the debate, the year or the speaker, which the sentence itself does not
    repeat. It counts towards coverage of the question's terms, never as the asked-for answer type."""
    qtype = question_type(question)
    pattern = _ANSWER_TYPE.get(qtype)
    terms = salient_terms(question)
    # The asked-for amount/date/person must stand in a sentence that is about the question, not anywhere.
    type_ok = bool(selected) and (
        pattern is None
        or any(pattern.search(s) and coverage(terms, [s])[0] >= SENTENCE_COVERAGE for s in selected)
    )
    cov, missing = coverage(terms, [*selected, *context])
    agr = agreement(dense_ids, bm25_ids) if (dense_ids and bm25_ids) else 0.5
    score = W_ANSWER_TYPE * float(type_ok) + W_COVERAGE * cov + W_AGREEMENT * agr
    reasons = []
    if not selected:
        reasons.append("geen bruikbare zinnen gevonden")
    if not type_ok and qtype in ("amount", "date", "person"):
        reasons.append(f"gevraagd type antwoord ({qtype}) ontbreekt")
    if cov < MIN_COVERAGE:
        reasons.append(f"kerntermen ontbreken: {', '.join(missing)}")
    if score < THRESHOLD:
        reasons.append(f"score {score:.2f} < {THRESHOLD}")
    hard_fail = not selected or (not type_ok and qtype in ("amount", "date", "person")) or cov < MIN_COVERAGE
    abstain = hard_fail or score < THRESHOLD
    return AbstentionDecision(abstain, score, qtype, type_ok, cov, agr, missing, "; ".join(reasons))
