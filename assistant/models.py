"""The answer's records: ``Answer``, ``Source`` and ``AnswerSentence`` as pydantic models.

``Answer.to_json()`` is the ``briefing ask --json`` contract (``docs/answers.md``). Its first keys are
fixed since the first release and are never renamed; new keys are added after them. The JSON schema is
snapshot-tested (``tests/test_answer_schema.py``), so a change to the contract is a visible decision.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.support import Support

Outcome = Literal["answer", "indirect", "none"]
Role = Literal["direct", "point"]

ANSWER_TEXT: dict[str, str] = {
    "indirect": "De geïndexeerde stukken geven geen direct antwoord op deze vraag. "
    "Dit zijn de passages die er het dichtst bij komen.",
    "none": "Er is niets gevonden in de geïndexeerde stukken dat bij deze vraag past.",
}


class Source(BaseModel):
    """A passage the answer rests on (or, when there is no answer, one of the closest passages)."""

    n: int
    doc_id: str
    title: str = ""
    kind: str = ""
    date: str | None = None
    page: int | None = None
    citation: str = ""
    kamerstukken: list[str] = Field(default_factory=list)
    passage: str = ""
    score: float = 0.0
    chunk_id: str = ""
    section: str | None = None
    speaker: str | None = None
    # Character spans in ``passage`` of the sentences the answer takes from it (for highlighting).
    spans: list[tuple[int, int]] = Field(default_factory=list)
    # The motions, amendments and votes in the passage that the answer cites (``briefing moties`` records).
    units: list[dict[str, Any]] = Field(default_factory=list)
    # Warnings about the passage itself (``injection.py``): "instructie" (it addresses the assistant),
    # "geheim" (it holds what looks like a password or key).
    flags: list[str] = Field(default_factory=list)


class AnswerSentence(BaseModel):
    text: str
    source: int | None  # n of the source it rests on; None when unsupported
    support: Support | None = None
    role: Role = "point"
    speaker: str | None = None  # who says it, when the passage is a speaker's turn
    span: tuple[int, int] | None = None  # where it stands in its source's passage
    score: float | None = None  # the selection model's probability that it holds the answer
    # What the sentence is about when the passage does not say it: a motion's number, indieners, outcome.
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "support": self.support.to_json() if self.support else None,
            "role": self.role,
            "speaker": self.speaker,
            "span": list(self.span) if self.span else None,
            "score": None if self.score is None else round(self.score, 3),
            "label": self.label,
        }


class Answer(BaseModel):
    question: str
    answer: str
    abstained: bool
    engine: str
    sources: list[Source] = Field(default_factory=list)
    cited_kamerstukken: list[str] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(default_factory=list)
    cited_display: dict[str, str] = Field(default_factory=dict)  # canonical id -> official display form
    resolved_question: str = ""
    latency_ms: int = 0
    abstention: dict[str, Any] = Field(default_factory=dict)  # the decision and what it rested on
    warnings: list[str] = Field(default_factory=list)
    # Added with issue 9.
    outcome: Outcome = "answer"
    direct: str = ""  # the direct answer (one or two sentences, with markers); "" when abstained
    points: list[str] = Field(default_factory=list)  # the supporting points, with markers

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "engine": self.engine,
            "sources": [s.model_dump(mode="json") for s in self.sources],
            "cited_kamerstukken": self.cited_kamerstukken,
            "unsupported": self.unsupported,
            "sentences": [s.to_json() for s in self.sentences],
            "cited_display": self.cited_display,
            "resolved_question": self.resolved_question,
            "latency_ms": self.latency_ms,
            "abstention": self.abstention,
            "warnings": self.warnings,
            "outcome": self.outcome,
            "direct": self.direct,
            "points": self.points,
        }

    def render_text(self) -> str:
        lines = [self.answer, ""]
        if self.cited_kamerstukken:
            lines.append(
                "Kamerstukken: " + "; ".join(self.cited_display.get(i, i) for i in self.cited_kamerstukken)
            )
            lines.append("")
        if self.sources:
            lines.append("Dichtstbijzijnde passages:" if self.abstained else "Bronnen:")
            for s in self.sources:
                where = f", p. {s.page}" if s.page else ""
                date = f" ({s.date})" if s.date else ""
                lines.append(f"[{s.n}] {s.citation or s.title or s.doc_id}{date}{where}")
                if self.abstained:
                    lines.append("    " + re.sub(r"\s+", " ", s.passage)[:300])
        if self.unsupported:
            lines.append("")
            lines.append("Weggelaten (niet gesteund door de geciteerde passage):")
            lines.extend(f"  - {u}" for u in self.unsupported)
        for w in self.warnings:
            lines.append(f"Let op: {w}")
        return "\n".join(lines).rstrip()
