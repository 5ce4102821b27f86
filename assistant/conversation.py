"""Follow-up questions, resolved against the conversation before retrieval, without a language model.

"En wat vond de Kamer daarvan?" retrieves nothing useful on its own. A follow-up is recognised by its
form (starts with "en"/"maar"/"ook", refers back with "daarvan", "dat", "hij", "die motie", ... or is very
short and has no salient terms of its own); it is then searched together with the previous question's
key terms, and inherits the previous filters unless it sets its own. Filters are per question: a new,
self-contained question starts from the filters it is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from corpus.dutch import STOPWORDS, salient_terms, stem, words

_FOLLOW_UP_START = re.compile(r"^\s*(en|maar|ook|of|dus|en\s+toen|daarna|vervolgens|verder)\b", re.I)
_ANAPHORA = re.compile(
    r"\b(daarvan|daarover|daarop|daarna|daarmee|daarbij|daarin|hiervan|hierover|hierop|dat|dit|die|deze|"
    r"hij|zij|ze|hem|haar|hun|het\s+voorstel|die\s+motie|dat\s+besluit|dat\s+rapport|die\s+brief|ervan|erover)\b",
    re.I,
)
SHORT_QUESTION_WORDS = 5


@dataclass
class Turn:
    question: str
    resolved: str
    filters: dict[str, Any] = field(default_factory=dict)
    answer: Any | None = None  # the Answer given, for the app's history view


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)

    def is_follow_up(self, question: str) -> bool:
        if not self.turns:
            return False
        if _FOLLOW_UP_START.match(question):
            return True
        own_terms = salient_terms(question)
        content = [w for w in words(question) if w.lower() not in STOPWORDS]
        if _ANAPHORA.search(question) and len(own_terms) <= 2:
            return True
        return len(content) <= SHORT_QUESTION_WORDS and len(own_terms) <= 1

    def key_terms(self) -> list[str]:
        """The previous resolved question's salient words, in their surface form."""
        prev = self.turns[-1].resolved
        stems = {s for s, _ in salient_terms(prev)}
        out: list[str] = []
        for w in words(prev):
            lw = w.lower()
            if lw not in STOPWORDS and (stem(lw) in stems or w in stems) and w not in out:
                out.append(w)
        return out

    def resolve(self, question: str, filters: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """(question to search with, filters to apply)."""
        filters = dict(filters or {})
        if not self.is_follow_up(question):
            return question, filters
        carried = [t for t in self.key_terms() if t.lower() not in question.lower()]
        resolved = f"{question.strip()} ({' '.join(carried)})" if carried else question
        merged = {**self.turns[-1].filters, **filters}
        return resolved, merged

    def add(self, question: str, resolved: str, filters: dict[str, Any], answer: Any | None = None) -> None:
        self.turns.append(Turn(question, resolved, dict(filters), answer))
