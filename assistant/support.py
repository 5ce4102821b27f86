"""The support stage: is each answer sentence supported by the passage it cites? Both engines end here.

Support has three parts, all must hold:
- lexical: the sentence's content words (stems, ``corpus/dutch.py``) occur in the cited passage, and every
  number and every cited Kamerstuk of the sentence occurs there too. An invented figure is the commonest
  hallucination and the cheapest to catch exactly.
- polarity: negation is meaning. The passage window that shares most words with the sentence must be
  negated ("niet", "geen", "nooit", ...) exactly when the sentence is: "het kabinet achtte een nieuw instituut
  wenselijk" is not supported by "... niet wenselijk achtte".
- semantic (with an embedder): the sentence embedding is close to the best-matching one- or two-sentence
  window of the passage. This catches sentences that reuse the passage's words but say something else.
A sentence copied verbatim from the cited passage (the extractive engine) is supported by construction;
the check still verifies that it really is in the passage the marker points to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from assistant.config import SupportConfig
from corpus.dutch import content_stems, is_negated, numbers_in
from corpus.sentences import split_sentences

WINDOWS_EMBEDDED = 3


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


class Support(BaseModel):
    lexical: float
    embedding: float | None = None
    numbers_ok: bool = True
    verbatim: bool = False
    negation_ok: bool = True
    supported: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "lexical": round(self.lexical, 3),
            "embedding": None if self.embedding is None else round(self.embedding, 3),
            "numbers_ok": self.numbers_ok,
            "verbatim": self.verbatim,
            "negation_ok": self.negation_ok,
            "supported": self.supported,
        }


def _without_citations(sentence: str) -> tuple[str, set[str]]:
    from corpus.citations import find_citations

    cites = find_citations(sentence)
    bare = sentence
    for c in sorted(cites, key=lambda c: c.span[0], reverse=True):
        bare = bare[: c.span[0]] + " " + bare[c.span[1] :]
    return bare, {c.id for c in cites}


def lexical_support(sentence: str, passage: str) -> tuple[float, bool]:
    """(share of content stems present in the passage, all numbers and cited Kamerstukken present)."""
    from corpus.citations import canonical_ids

    # A citation is checked as a whole: "Kamerstukken II 2017/18, 33763, nr. 141" supports the same paper
    # written "2017–2018" in the passage, and an invented paper number fails even if its digits occur.
    bare, cited = _without_citations(sentence)
    cites_ok = cited <= set(canonical_ids(passage))
    stems = content_stems(bare)
    passage_stems = set(content_stems(passage))
    share = sum(1 for s in stems if s in passage_stems) / len(stems) if stems else 0.0
    return share, cites_ok and numbers_in(bare) <= numbers_in(passage)


def passage_windows(passage: str, size: int = 2) -> list[str]:
    """Overlapping windows of ``size`` sentences: a paraphrase often condenses two source sentences."""
    sents = [s.text for s in split_sentences(passage)] or [passage]
    if len(sents) <= 1:
        return sents
    return sents + [" ".join(sents[i : i + size]) for i in range(len(sents) - size + 1)]


def _closest(sentence: str, texts: Sequence[str]) -> list[str]:
    """``texts``, the ones sharing most content words with ``sentence`` first (shorter first on ties)."""
    sent = set(content_stems(sentence))
    return sorted(texts, key=lambda w: (-len(sent & set(content_stems(w))), len(w)))


def polarity_agrees(sentence: str, passage: str) -> bool:
    """Whether ``sentence`` is negated exactly when the passage sentence it rests on is."""
    closest = _closest(sentence, [s.text for s in split_sentences(passage)] or [passage])
    return is_negated(sentence) == is_negated(closest[0])


class SupportChecker:
    """Scores (sentence, passage) pairs. ``embedder`` is optional: without it only lexical support and
    polarity count, which is stricter for paraphrases but never lets a sentence through on meaning alone."""

    def __init__(self, embedder: Any | None = None, config: SupportConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or SupportConfig()

    def check(self, sentence: str, passage: str) -> Support:
        return self.check_many([(sentence, passage)])[0]

    def check_many(self, pairs: Sequence[tuple[str, str]]) -> list[Support]:
        results: list[Support] = []
        need_embedding: list[int] = []
        for i, (sentence, passage) in enumerate(pairs):
            if normalise(sentence).rstrip(".;:,") in normalise(passage):
                results.append(Support(lexical=1.0, verbatim=True, supported=True))
                continue
            lex, numbers_ok = lexical_support(sentence, passage)
            polarity = polarity_agrees(sentence, passage)
            ok = numbers_ok and polarity and lex >= self.config.lexical
            results.append(Support(lexical=lex, numbers_ok=numbers_ok, negation_ok=polarity, supported=ok))
            if ok and self.embedder is not None:
                need_embedding.append(i)
        if need_embedding:
            self._embedding_pass([pairs[i] for i in need_embedding], [results[i] for i in need_embedding])
        return results

    def _embedding_pass(self, pairs: Sequence[tuple[str, str]], results: list[Support]) -> None:
        # Several sentences usually cite the same passage: embed each distinct text once.
        texts: dict[str, int] = {}
        plan: list[tuple[int, list[int]]] = []
        for sentence, passage in pairs:
            s_idx = texts.setdefault(sentence, len(texts))
            # Only the windows that share most words with the sentence are embedded: the model is the
            # expensive part, and the window that supports a sentence shares its words.
            wins = _closest(sentence, passage_windows(passage))[:WINDOWS_EMBEDDED]
            plan.append((s_idx, [texts.setdefault(w, len(texts)) for w in wins]))
        vecs = np.asarray(self.embedder.embed_documents(list(texts)), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        for res, (si, wins) in zip(results, plan, strict=True):
            cos = float(np.max(vecs[wins] @ vecs[si]))
            res.embedding = cos
            res.supported = res.supported and cos >= self.config.embedding
