"""The decide stage: answer, point to the closest passages, or say that nothing was found.

Measured on this corpus: the best passage's similarity does not separate answerable from unanswerable
questions (0.46-0.68 against a median of 0.65). Whether the evidence *answers* the question shows in how
sure the selection model is of its best sentences, in how far they stand out, whether they hold the kind of
answer asked for, whether dense and BM25 retrieval agree on where to look, and whether the question's
terms (softly: in the sentence, its neighbours or its source's metadata) are there. A logistic model over
those signals (``DecideConfig.model``, fitted on the dev split) gives p(answerable); three outcomes follow:

- ``answer``: p ≥ ``answer_at``;
- ``none``: nothing indexed is about the question (the best passage's cosine is under ``none_below``, or
  nothing was retrieved);
- ``indirect``: otherwise: the stukken are about the subject but do not answer; the closest passages are
  shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from assistant.config import DecideConfig
from assistant.models import Outcome
from assistant.select import Candidate, log_odds
from corpus.dutch import TYPED, coverage, question_type, salient_terms
from index.search import Evidence

FEATURES: tuple[str, ...] = (
    "p1",
    "p2",
    "margin",
    "top3",
    "best_cos",
    "best_chunk",
    "agreement",
    "coverage",
    "type_ok",
    "typed_p",
    "typed",
    "bm25_top",
)
TOP = 3


def agreement(dense_ids: Sequence[str], bm25_ids: Sequence[str], k: int = 5) -> float:
    """Overlap of the top-k documents found by dense and by BM25 retrieval, rank-weighted, in [0, 1]."""
    if not dense_ids or not bm25_ids:
        return 0.0
    a, b = list(dict.fromkeys(dense_ids))[:k], list(dict.fromkeys(bm25_ids))[:k]
    if a[0] == b[0]:
        return 1.0
    shared = set(a) & set(b)
    return sum(1.0 / (1 + min(a.index(d), b.index(d))) for d in shared) / sum(1.0 / (1 + i) for i in range(k))


class Decision(BaseModel):
    outcome: Outcome
    p_answer: float
    question_type: str
    features: dict[str, float] = Field(default_factory=dict)
    missing_terms: list[str] = Field(default_factory=list)  # salient question terms the best sentences lack
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        f = self.features
        return {
            "abstain": self.outcome != "answer",
            "outcome": self.outcome,
            "score": round(self.p_answer, 3),
            "question_type": self.question_type,
            "answer_type_present": bool(f.get("type_ok", 1.0)),
            "coverage": round(f.get("coverage", 0.0), 3),
            "agreement": round(f.get("agreement", 0.0), 3),
            "missing_terms": self.missing_terms,
            "features": {k: round(v, 3) for k, v in f.items()},
            "reason": self.reason,
        }


def features(question: str, evidence: Evidence, ranked: Sequence[Candidate]) -> dict[str, float]:
    """The question-level signals; ``ranked`` are the scored candidates, most likely first."""
    qtype = question_type(question)
    ps = [c.p for c in ranked[:TOP]] + [0.0] * TOP
    top = list(ranked[:TOP])
    return {
        "p1": ps[0],
        "p2": ps[1],
        "margin": log_odds(ps[0]) - log_odds(ps[1]) if len(ranked) > 1 else 0.0,
        "top3": sum(ps[:TOP]) / TOP,
        "best_cos": max((c.features["cos"] for c in ranked), default=0.0),
        "best_chunk": max(evidence.chunk_similarity.values(), default=0.0),
        "agreement": agreement(evidence.dense_docs, evidence.bm25_docs),
        "coverage": max((c.features["coverage_context"] for c in top), default=0.0),
        "type_ok": float(qtype not in TYPED or any(c.features["type_match"] for c in top)),
        # How likely the best sentence that holds the asked-for kind of answer is (untyped: the best one).
        "typed_p": max((c.p for c in ranked if qtype not in TYPED or c.features["type_match"]), default=0.0),
        "typed": float(qtype in TYPED),
        "bm25_top": math.log1p(max((c.sentence.bm25 for c in ranked), default=0.0)),
    }


def decide(question: str, evidence: Evidence, ranked: Sequence[Candidate], config: DecideConfig) -> Decision:
    qtype = question_type(question)
    if not ranked:
        return Decision(outcome="none", p_answer=0.0, question_type=qtype, reason="geen passages gevonden")
    f = features(question, evidence, ranked)
    p = float(config.model.predict([f])[0]) if config.model is not None else f["p1"]
    if f["best_chunk"] < config.none_below:
        outcome: Outcome = "none"
        reason = f"niets over dit onderwerp (beste passage {f['best_chunk']:.2f} < {config.none_below:.2f})"
    elif p >= config.answer_at:
        outcome, reason = "answer", ""
    else:
        outcome = "indirect"
        reason = f"geen direct antwoord (p={p:.2f} < {config.answer_at:.2f})"
        if config.model is not None:
            worst = [name for name, c in config.model.explain(f) if c < 0][:2]
            if worst:
                reason += "; zwakst: " + ", ".join(worst)
    if qtype in TYPED and not f["type_ok"]:
        reason = (reason + "; " if reason else "") + f"gevraagd soort antwoord ({qtype}) niet gevonden"
    missing = coverage(salient_terms(question), [c.text for c in ranked[:TOP]])[1]
    return Decision(
        outcome=outcome, p_answer=p, question_type=qtype, features=f, missing_terms=missing, reason=reason
    )
