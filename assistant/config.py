"""The answer path's configuration: one typed object per stage (retrieve → select → support → decide →
compose), and where their fitted values come from.

Every constant that was tuned lives here. The fitted ones (the two logistic models, thresholds and
cut-offs) are written by ``eval/calibrate.py`` from the ``dev`` split into ``assistant/answer_config.json``
together with the split, the date and the command; the product loads that file. The defaults below are
only what the calibration starts from and what a store without a fitted file falls back to.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.scoring import LogisticModel

CONFIG_FILE = Path(__file__).resolve().parent / "answer_config.json"


class RetrieveConfig(BaseModel):
    passages: int = 8  # chunks from the hybrid search: the passages an answer may cite
    agreement_k: int = 5  # top documents of the dense-only and BM25-only rankings that are compared
    sentences: int = 40  # best sentences by meaning and by words, corpus-wide
    parents: int = 20  # chunks of the best sentence hits added to the passages as context
    # EmbeddingGemma's prompt for the question when it is matched against sentences; None = search prompt.
    sentence_task: str | None = "question answering"


class SelectConfig(BaseModel):
    """Which sentence holds the answer: p(sentence contains a gold key fact | features)."""

    scorer: LogisticModel | None = None  # None: the cosine with the question alone ranks the sentences


class SupportConfig(BaseModel):
    lexical: float = 0.6  # share of a sentence's content stems found in the cited passage
    embedding: float = 0.7  # cosine with the closest one- or two-sentence window of the passage


class DecideConfig(BaseModel):
    """Answer, point to passages that do not answer directly ("indirect"), or say nothing was found."""

    model: LogisticModel | None = None  # p(the question is answerable from these passages | features)
    answer_at: float = 0.5  # answer when p ≥ this
    # Below this cosine between the question and its best passage nothing indexed is about the question.
    none_below: float = 0.3


class ComposeConfig(BaseModel):
    """The shape of an answer: a direct answer, then supporting points."""

    direct_max: int = 2  # sentences in the direct answer
    direct_ratio: float = 0.8  # a second direct sentence needs this share of the best one's probability
    point_min: float = 0.1  # a supporting point needs at least this probability
    point_ratio: float = 0.25  # ... and this share of the best sentence's
    max_points: int = 5
    words: int = 120  # about this many words in all ...
    words_long: int = 220  # ... unless the question asks for a list, a history or reasons
    # Why/history questions: up to this many sentences of the direct answer's documents that cite a Kamerstuk
    # join the points (a product rule, not fitted: officials want the stukken of the record named).
    record_points: int = 3
    redundancy: float = 0.6  # stem overlap (Jaccard) above which a sentence repeats one already chosen
    # Questions about motions (assistant/motions.py; product rules, not fitted): how many motion points to
    # consider, and for "welke moties" every motion of the best one's debate within this cosine of it.
    motion_candidates: int = 12
    motion_margin: float = 0.05
    motion_list_max: int = 8
    # A question that speaks of a bare "voorstel" (not a wetsvoorstel: Dutch compounds are one word) is about
    # motions when the best motion found is within this cosine of the best passage: in a debate, "het
    # voorstel van X" is usually X's motion or amendment, elsewhere it is a bill or the cabinet's plan, and
    # then no motion comes close. Fitted on dev (``eval/calibrate.py fit_proposal_gap``).
    proposal_gap: float = 0.1


class Fitted(BaseModel):
    split: str = ""  # the gold split the values were fitted on ("dev")
    date: str = ""
    items: int = 0
    command: str = ""
    notes: dict[str, float | str] = Field(default_factory=dict)


class AnswerConfig(BaseModel):
    retrieve: RetrieveConfig = Field(default_factory=RetrieveConfig)
    select: SelectConfig = Field(default_factory=SelectConfig)
    support: SupportConfig = Field(default_factory=SupportConfig)
    decide: DecideConfig = Field(default_factory=DecideConfig)
    compose: ComposeConfig = Field(default_factory=ComposeConfig)
    fitted: Fitted = Field(default_factory=Fitted)

    @classmethod
    def load(cls, path: Path | str | None = None) -> AnswerConfig:
        """The fitted configuration (``assistant/answer_config.json`` unless another file is named)."""
        p = Path(path) if path else CONFIG_FILE
        if not p.exists():
            return cls()
        return cls.model_validate(json.loads(p.read_text(encoding="utf-8")))

    def dump(self, path: Path | str | None = None) -> Path:
        p = Path(path) if path else CONFIG_FILE
        p.write_text(
            json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        return p


@lru_cache(maxsize=4)
def answer_config(path: str | None = None) -> AnswerConfig:
    return AnswerConfig.load(path)
