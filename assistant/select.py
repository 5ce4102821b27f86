"""The select stage: how likely is each sentence of the evidence to hold the answer?

Every sentence of the retrieved passages (and of the chunks holding the best sentence hits) is a candidate,
prose or not: a name in an attendance list, the dictum of a motion, a vote outcome, a table row. Each is
described by features that say nothing about a particular document:
- meaning: its cosine with the question (EmbeddingGemma's question-answering prompt), relative to the best
  candidate, its rank in the corpus-wide sentence search, and the similarity of its neighbours;
- words: its BM25 score against the question (relative to the best), and the share of the question's
  salient terms it (or its neighbours and its source's title, date and speaker) contains;
- its passage: the rank of its chunk in the hybrid search and the chunk's similarity;
- the asked-for kind of answer: a date for "wanneer", an amount for "hoeveel", a person for "wie", an
  outcome for "hoe is er gestemd", a reason for "waarom"; present (and not already said by the question)
  or missing;
- form: length, a lower-case start (a fragment, or a motion's "verzoekt de regering"), a question mark,
  a Kamerstuk citation, a list of names.
A logistic model (``SelectConfig.scorer``, fitted on the dev split by ``eval/calibrate.py``) turns them into
a probability. Nothing is embedded at question time but the question itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.config import SelectConfig
from corpus.dutch import (
    ANSWER_PATTERNS,
    TYPED,
    content_stems,
    coverage,
    holds_answer_type,
    question_type,
    salient_terms,
    words,
)
from corpus.loader import dutch_date
from index.search import Evidence, SearchHit, SentenceHit

FEATURES: tuple[str, ...] = (
    "cos",
    "cos_gap",
    "dense_rank",
    "neighbour_gap",
    "bm25",
    "bm25_rank",
    "coverage",
    "coverage_context",
    "chunk_rank",
    "chunk_gap",
    "type_match",
    "type_missing",
    "reason_match",
    "words",
    "short",
    "lower_start",
    "question_mark",
    "cites",
    "names_list",
    "speaker_for_person",
)

_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
# The vergaderjaar inside a citation ("Kamerstukken II 2017–2018") is not when something happened.
_VERGADERJAAR = re.compile(r"\b(19|20)\d{2}\s*[-–/]\s*(19|20)?\d{2}\b")


# Compared by identity: "is this sentence already chosen" means this candidate, not an equal-looking one.
@dataclass(eq=False)
class Candidate:
    sentence: SentenceHit
    hit: int  # index of its chunk in ``Evidence.chunks``
    features: dict[str, float]
    stems: frozenset[str] = field(default_factory=frozenset)
    p: float = 0.0

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def n_words(self) -> int:
        return len(self.sentence.text.split())


def own_year(text: str) -> int | None:
    years = [int(y) for y in _YEAR.findall(_VERGADERJAAR.sub(" ", text))]
    return min(years) if years else None


def _inverse_rank(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / (1.0 + rank)


def _names_list(text: str) -> float:
    ws = words(text)
    if len(ws) < 8:
        return 0.0
    return 1.0 if sum(1 for w in ws if w[:1].isupper()) >= 0.5 * len(ws) else 0.0


def _context(hit: SearchHit, s: SentenceHit) -> str:
    """What the sentence's source says about itself: a question may name the debate, date or speaker."""
    return " ".join(x for x in (hit.title, s.section, s.speaker, dutch_date(hit.date)) if x)


def candidates(question: str, evidence: Evidence) -> list[Candidate]:
    """Every sentence of the evidence with its features (``FEATURES``)."""
    chunks = evidence.chunks
    if not evidence.sentences or not chunks:
        return []
    index = {h.chunk_id: i for i, h in enumerate(chunks)}
    passage_rank = {h.chunk_id: i for i, h in enumerate(evidence.passages)}
    sims = evidence.chunk_similarity
    best_chunk = max(sims.values(), default=0.0)
    qtype = question_type(question)
    terms = salient_terms(question)
    sents = [s for s in evidence.sentences if s.chunk_id in index]
    if not sents:
        return []
    best_cos = max(s.dense for s in sents)
    best_bm25 = max(s.bm25 for s in sents)
    # Neighbours within the chunk (sentences come sorted by chunk and position).
    neighbours: dict[str, list[SentenceHit]] = {}
    for prev, nxt in zip(sents, sents[1:], strict=False):
        if prev.chunk_id == nxt.chunk_id:
            neighbours.setdefault(prev.id, []).append(nxt)
            neighbours.setdefault(nxt.id, []).append(prev)
    out: list[Candidate] = []
    for s in sents:
        hit = chunks[index[s.chunk_id]]
        near = neighbours.get(s.id, [])
        n_words = len(s.text.split())
        typed = qtype in TYPED
        why = qtype in ("reason", "history")
        holds = typed and holds_answer_type(s.text, qtype, question)
        f = {
            "cos": s.dense,
            "cos_gap": s.dense - best_cos,
            "dense_rank": _inverse_rank(s.dense_rank),
            "neighbour_gap": max((n.dense for n in near), default=s.dense) - best_cos,
            "bm25": s.bm25 / best_bm25 if best_bm25 > 0 else 0.0,
            "bm25_rank": _inverse_rank(s.bm25_rank),
            "coverage": coverage(terms, [s.text])[0],
            "coverage_context": coverage(terms, [s.text, *(n.text for n in near), _context(hit, s)])[0],
            "chunk_rank": _inverse_rank(passage_rank.get(s.chunk_id)),
            "chunk_gap": sims.get(s.chunk_id, 0.0) - best_chunk,
            "type_match": float(typed and holds),
            "type_missing": float(typed and not holds),
            "reason_match": float(why and bool(ANSWER_PATTERNS["reason"].search(s.text))),
            "words": min(n_words, 80) / 80,
            "short": float(n_words < 8),
            "lower_start": float(s.text[:1].islower()),
            "question_mark": float(s.text.rstrip().endswith("?")),
            "cites": float(bool(s.citations)),
            "names_list": _names_list(s.text),
            "speaker_for_person": float(qtype == "person" and bool(s.speaker)),
        }
        out.append(Candidate(s, index[s.chunk_id], f, frozenset(content_stems(s.text))))
    return out


def score(cands: Sequence[Candidate], config: SelectConfig) -> None:
    """Set each candidate's probability of holding the answer."""
    if not cands:
        return
    if config.scorer is None:
        # Unfitted: rank by meaning alone, mapped to about [0, 1].
        ps = np.clip([(c.features["cos"] - 0.2) / 0.5 for c in cands], 0.0, 1.0)
    else:
        ps = config.scorer.predict([c.features for c in cands])
    for c, p in zip(cands, ps, strict=True):
        c.p = float(p)


def select(question: str, evidence: Evidence, config: SelectConfig) -> list[Candidate]:
    """The candidates, scored, most likely answer first (ties in document order)."""
    cands = candidates(question, evidence)
    score(cands, config)
    return sorted(cands, key=lambda c: (-c.p, c.hit, c.sentence.start))


def year_of(c: Candidate, hit: SearchHit, before: Sequence[Candidate] = ()) -> int:
    """When the sentence's event happened, for chronological order: its own year, else the year of the
    sentence before it in its passage (a sentence without a year continues that story), else the
    document's date."""
    own = own_year(c.text)
    if own is not None:
        return own
    for prev in reversed(before):
        y = own_year(prev.text)
        if y is not None:
            return y
    if hit.date and hit.date[:4].isdigit():
        return int(hit.date[:4])
    return 9999


def log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
