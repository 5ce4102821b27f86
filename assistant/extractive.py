"""The extractive engine: pick the sentences of the retrieved passages that answer the question.

No language model, so nothing can be invented: every answer sentence is a sentence of a passage, shown
with the marker of that passage. The work is in choosing well:
- relevance: coverage of the question's salient terms, similarity to the question (embeddings, when an
  embedder is given), the passage's retrieval rank, and whether the sentence holds the kind of answer
  asked for (an amount, a date, a person, a reason);
- diversity: maximal marginal relevance on stem overlap, so two near-identical sentences (the nota repeats
  itself between "Aanleiding" and "Politieke context") do not both appear;
- order: chronological when the question is about a history or a reason (the years named in the sentence,
  else the document date), else by relevance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.abstain import _ANSWER_TYPE, question_type, salient_terms
from assistant.sentences import Sentence, split_sentences, words
from assistant.support import content_stems, stem
from index.search import SearchHit

log = logging.getLogger(__name__)

MAX_SENTENCES = 6
MIN_WORDS = 6
MAX_WORDS = 130  # a list intro with its items
MAX_LIST_ITEMS = 4
META_PENALTY = 0.2
MIN_RELEVANCE = 0.25
MMR_LAMBDA = 0.7
EMBED_CANDIDATES = 20  # only the best lexical candidates are embedded: ~8 sentences/s on 2 cores

_HISTORY = re.compile(
    r"\b(waarom|geschiedenis|verloop|eerder\w*|ontwikkeling\w*|besluitvorming|hoe\s+is|wat\s+is\s+er\s+gebeurd|"
    r"tot\s+nu\s+toe|achtergrond|sinds)\b",
    re.I,
)
_CITES = re.compile(r"(Kamerstukk?en|Handelingen)\s+(I|II)\b|\b\d{5}\s*,\s*nr\.")
_META = re.compile(
    r"\bconcept-?kamerbrief\b|\b(deze|een korte|de voorgestelde|deze zelfde versie van de)\s+(kamer)?brief\b|\bdeze\s+(nota|concept-kamerbrief)\b"
    r"|\bgeadviseerd\b|^te\s|^(een|de)\s+\w+\s+te\s+(sturen|verzenden)\b",
    re.I,
)
_VERGADERJAAR = re.compile(r"\b(19|20)\d{2}\s*[-–/]\s*(19|20)?\d{2}\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
# Lines of metadata and lists of papers, not prose.
_NOT_PROSE = re.compile(r"^(datum|ons kenmerk|bijlagen?|kenmerk|aan|van|afdeling)\b", re.I)


@dataclass
class Candidate:
    text: str
    hit_index: int  # index into the hits list
    position: int  # sentence offset in its passage (keeps document order)
    stems: frozenset[str]
    relevance: float = 0.0
    year: int = 9999


def _is_prose(s: str) -> bool:
    ws = words(s)
    if not (MIN_WORDS <= len(ws) <= MAX_WORDS) or _NOT_PROSE.match(s):
        return False
    digits = sum(1 for w in ws if any(c.isdigit() for c in w))
    if digits > len(ws) * 0.3:  # lists of kamerstuk numbers, tables
        return False
    lower = sum(1 for w in ws if w[0].islower())
    return lower >= len(ws) * 0.35  # lists of names ("Aanwezig zijn ... Van Aalst, Agema, ...")


def _tidy(s: str) -> str:
    s = s.strip()
    if s.endswith((":", ";", ",")):
        s = s[:-1].rstrip() + "."
    if s and s[-1] not in '.!?"”':
        s += "."
    return s


def _own_year(text: str) -> int | None:
    years = [int(y) for y in _YEAR.findall(_VERGADERJAAR.sub(" ", text))]
    return min(years) if years else None


def _year_of(text: str, hit: SearchHit) -> int:
    # The vergaderjaar inside a citation ("Kamerstukken II 2017–2018") is not when something happened.
    text = _VERGADERJAAR.sub(" ", text)
    years = [int(y) for y in _YEAR.findall(text)]
    if years:
        return min(years)
    if hit.date and hit.date[:4].isdigit():
        return int(hit.date[:4])
    return 9999


def _with_list_units(sents: list[Sentence]) -> list[Sentence]:
    """A sentence that introduces a list ("... onvoldoende meerwaarde biedt:") says nothing without its
    items: join it with the bullet items that follow into one unit. The items also stay on their own."""
    out: list[Sentence] = []
    for i, s in enumerate(sents):
        out.append(s)
        if not s.text.endswith(":"):
            continue
        items = []
        for t in sents[i + 1 : i + 1 + MAX_LIST_ITEMS]:
            if not t.bullet:
                break
            items.append(t.text.rstrip(";,. "))
        if items:
            joined = s.text + " " + "; ".join(items) + "."
            out.append(Sentence(joined, s.start, sents[i + len(items)].end))
    return out


def candidates(hits: Sequence[SearchHit], list_units: bool = True) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[str] = set()
    for hi, hit in enumerate(hits):
        sents = split_sentences(hit.text)
        # A sentence without a year of its own continues the story of the sentence before it ("ABD
        # Topconsult kwam tot de conclusie ..." follows "... in 2021 ... onderzoek laten doen").
        year_at: dict[int, int] = {}
        last = None
        for s in sents:
            own = _own_year(s.text)
            last = own if own is not None else last
            if last is not None:
                year_at[s.start] = last
        for s in _with_list_units(sents) if list_units else sents:
            # A bare list intro ("... is tot op heden als volgt:") says nothing on its own.
            if s.text.rstrip().endswith(":"):
                continue
            # A passage may start mid-sentence (chunk overlap): a lower-case start is a fragment.
            if not _is_prose(s.text) or s.text[0].islower():
                continue
            text = _tidy(s.text)
            key = re.sub(r"\W+", "", text.lower())
            # Chunks overlap: the same sentence (or a cut-off copy of it) comes in two passages.
            if key in seen or any(k.startswith(key) for k in seen if len(key) > 40):
                continue
            seen.add(key)
            c = Candidate(text, hi, s.start, frozenset(content_stems(text)))
            c.year = _own_year(text) or year_at.get(s.start) or _year_of(text, hit)
            out.append(c)
    return out


def _lexical_relevance(terms: Sequence[tuple[str, float]], c: Candidate) -> float:
    if not terms:
        return 0.0
    lowered = c.text.lower()
    got = sum(w for t, w in terms if t in c.stems or (len(t) >= 5 and t in lowered))
    return got / sum(w for _, w in terms)


def select(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Any | None = None,
    max_sentences: int = MAX_SENTENCES,
    list_units: bool = True,
) -> list[Candidate]:
    """The sentences that answer ``question``, in answer order."""
    cands = candidates(hits, list_units=list_units)
    if not cands:
        return []
    terms = salient_terms(question)
    qtype = question_type(question)
    type_pattern = _ANSWER_TYPE.get(qtype)
    n_hits = max(len(hits), 1)
    history = bool(_HISTORY.search(question))
    for c in cands:
        lex = _lexical_relevance(terms, c)
        prior = 1.0 - c.hit_index / n_hits
        typed = 1.0 if (type_pattern is not None and type_pattern.search(c.text)) else 0.0
        # An official wants the stukken: a sentence that names one is worth more for a history question.
        cites = 0.2 if (history and _CITES.search(c.text)) else 0.0
        # Sentences about the document itself ("In deze brief kort te verwijzen naar ...") are not answers.
        meta = META_PENALTY if _META.search(c.text) else 0.0
        long = 0.05 if len(c.text.split()) > 60 else 0.0
        c.relevance = 0.5 * lex + 0.1 * prior + 0.15 * typed + cites - meta - long
    cands.sort(key=lambda c: c.relevance, reverse=True)
    pool = cands[:EMBED_CANDIDATES]
    if embedder is not None:
        q = np.asarray(embedder.embed_query(question), dtype=np.float32)
        vecs = np.asarray(embedder.embed_documents([c.text for c in pool]), dtype=np.float32)
        sims = vecs @ q / ((np.linalg.norm(vecs, axis=1) * np.linalg.norm(q)) + 1e-9)
        for c, sim in zip(pool, sims, strict=True):
            # EmbeddingGemma cosines for related sentences sit around 0.3-0.7: rescale to about [0, 1].
            c.relevance += 0.4 * float(np.clip((sim - 0.25) / 0.45, 0.0, 1.0))
        threshold = MIN_RELEVANCE + 0.15
    else:
        threshold = MIN_RELEVANCE
    pool.sort(key=lambda c: c.relevance, reverse=True)
    for c in pool[:10]:
        log.debug("%.2f %s", c.relevance, c.text[:90])

    chosen: list[Candidate] = []
    remaining = [c for c in pool if c.relevance >= threshold]
    limit = max_sentences + 1 if history else max_sentences  # a history needs its steps
    while remaining and len(chosen) < limit:
        best, best_score = None, -1.0
        for c in remaining:
            redundancy = max((_jaccard(c.stems, o.stems) for o in chosen), default=0.0)
            score = MMR_LAMBDA * c.relevance - (1 - MMR_LAMBDA) * redundancy
            # A near-duplicate, or a sentence already contained in a chosen list unit (or vice versa), adds nothing.
            if redundancy > 0.6 or max((_containment(c.stems, o.stems) for o in chosen), default=0.0) > 0.8:
                continue
            if score > best_score:
                best, best_score = c, score
        if best is None:
            break
        chosen.append(best)
        remaining.remove(best)
        # Stop early when the next best is much weaker than the best: a few good sentences beat six.
        if remaining and chosen and remaining[0].relevance < 0.5 * chosen[0].relevance:
            remaining = [c for c in remaining if c.relevance >= 0.5 * chosen[0].relevance]

    if history:
        chosen.sort(key=lambda c: (c.year, c.hit_index, c.position))
    return chosen


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


__all__ = ["Candidate", "candidates", "select", "stem"]
