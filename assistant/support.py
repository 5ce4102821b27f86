"""The one check both answer engines end in: is each answer sentence supported by the passage it cites?

Support has two independent parts, both must hold:
- lexical: the sentence's content words (Dutch Snowball stems) occur in the cited passage, and every
  number in the sentence (amounts, years, dossier numbers) occurs there too. An invented figure is the
  commonest hallucination and the cheapest to catch exactly.
- semantic: the sentence embedding is close to the best-matching sentence window of the passage. This
  catches sentences that reuse the passage's words but say something else.
A sentence copied verbatim from the cited passage (the extractive engine) is supported by construction;
the check still verifies that it really is in the passage the marker points to.

The thresholds are constants here, calibrated on paraphrases vs. invented claims over the demo nota
(tests/test_support.py); the eval suite may move them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.sentences import split_sentences, words

LEXICAL_THRESHOLD = 0.6  # share of the sentence's content stems found in the passage
EMBEDDING_THRESHOLD = 0.7  # cosine with the closest passage window; paraphrases measured 0.83-0.96

# Function words and question/discourse words that carry no content for matching.
STOPWORDS = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "of",
        "maar",
        "dat",
        "die",
        "dit",
        "deze",
        "dan",
        "als",
        "om",
        "te",
        "van",
        "in",
        "op",
        "aan",
        "met",
        "voor",
        "door",
        "bij",
        "uit",
        "over",
        "naar",
        "tot",
        "is",
        "zijn",
        "was",
        "waren",
        "wordt",
        "worden",
        "werd",
        "werden",
        "heeft",
        "hebben",
        "had",
        "hadden",
        "zal",
        "zullen",
        "zou",
        "zouden",
        "kan",
        "kunnen",
        "kon",
        "konden",
        "moet",
        "moeten",
        "mag",
        "mogen",
        "wil",
        "willen",
        "niet",
        "geen",
        "wel",
        "ook",
        "nog",
        "al",
        "er",
        "hier",
        "daar",
        "waar",
        "wat",
        "wie",
        "welke",
        "welk",
        "waarom",
        "wanneer",
        "hoe",
        "hoeveel",
        "hij",
        "zij",
        "ze",
        "wij",
        "we",
        "jij",
        "je",
        "u",
        "ik",
        "mij",
        "me",
        "ons",
        "onze",
        "hun",
        "haar",
        "zijn",
        "hem",
        "hen",
        "zich",
        "zo",
        "zeer",
        "meer",
        "veel",
        "weinig",
        "alle",
        "alles",
        "iets",
        "niets",
        "iemand",
        "niemand",
        "elk",
        "elke",
        "ieder",
        "iedere",
        "andere",
        "ander",
        "nu",
        "toen",
        "dus",
        "want",
        "omdat",
        "doordat",
        "terwijl",
        "hoewel",
        "indien",
        "mits",
        "tenzij",
        "zodat",
        "nadat",
        "voordat",
        "sinds",
        "sedert",
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "as",
        "with",
        "by",
        "be",
        "are",
        "this",
        "it",
        "from",
        "at",
        "or",
        "an",
        "was",
        "which",
        "have",
        "has",
        "ook",
        "reeds",
        "toch",
        "even",
        "echter",
        "daarom",
        "daarvan",
        "daarover",
        "daarbij",
        "hierover",
        "hiervan",
        "waarover",
        "waarin",
        "heer",
        "mevrouw",
        "voorzitter",
        "minister",
        "kamer",
        "kabinet",
        "vraag",
        "antwoord",
        "jaar",
        "jaren",
    ]
)

WINDOWS_EMBEDDED = 3

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


_PARTICIPLE = re.compile(
    r"^(op|aan|in|uit|af|door|mee|na|over|toe|voor|weg|bij|vast|terug|samen)ge(\w{3,}[td])$"
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem.snowball import DutchStemmer

    return DutchStemmer()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    w = word.lower().strip("'’-")
    # Separable-verb participles: "opgericht" should meet "oprichten"/"oprichting".
    m = _PARTICIPLE.match(w)
    if m:
        w = m.group(1) + m.group(2)
    s = _stemmer().stem(w)
    # Snowball keeps "-s" after a vowel ("planbureaus"); plural and base form should match.
    if len(s) > 5 and s.endswith("s") and s[-2] in "aeiouy":
        s = s[:-1]
    return s


def content_stems(text: str) -> list[str]:
    """Stems of the content words of ``text``, in order; numbers excluded (they are checked exactly)."""
    out = []
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or len(lw) < 3 or _NUMBER.fullmatch(lw):
            continue
        out.append(stem(lw))
    return out


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text``, normalised so that "2017–2018" and "2017-2018" compare equal."""
    return {n.replace(".", "").replace(",", ".") for n in _NUMBER.findall(text)}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Support:
    lexical: float
    embedding: float | None
    numbers_ok: bool
    verbatim: bool
    supported: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "lexical": round(self.lexical, 3),
            "embedding": None if self.embedding is None else round(self.embedding, 3),
            "numbers_ok": self.numbers_ok,
            "verbatim": self.verbatim,
            "supported": self.supported,
        }


def lexical_support(sentence: str, passage: str) -> tuple[float, bool]:
    """(share of content stems present in the passage, all numbers present)."""
    from corpus.citations import canonical_ids, find_citations

    # A citation is checked as a whole: "Kamerstukken II 2017/18, 33763, nr. 141" supports the same paper
    # written "2017–2018" in the passage, and an invented paper number fails even if its digits occur.
    cites = find_citations(sentence)
    bare = sentence
    for c in sorted(cites, key=lambda c: c.span[0], reverse=True):
        bare = bare[: c.span[0]] + " " + bare[c.span[1] :]
    cites_ok = {c.id for c in cites} <= set(canonical_ids(passage))
    stems = content_stems(bare)
    passage_stems = set(content_stems(passage))
    share = sum(1 for s in stems if s in passage_stems) / len(stems) if stems else 0.0
    numbers_ok = cites_ok and numbers_in(bare) <= numbers_in(passage)
    return share, numbers_ok


def passage_windows(passage: str, size: int = 2) -> list[str]:
    """Overlapping windows of ``size`` sentences: a paraphrase often condenses two source sentences."""
    sents = [s.text for s in split_sentences(passage)] or [passage]
    if len(sents) <= 1:
        return sents
    return sents + [" ".join(sents[i : i + size]) for i in range(len(sents) - size + 1)]


class SupportChecker:
    """Scores (sentence, passage) pairs. ``embedder`` is optional: without it only lexical support counts,
    which is stricter for paraphrases but never lets an unsupported sentence through on meaning alone."""

    def __init__(self, embedder: Any | None = None) -> None:
        self.embedder = embedder

    def check(self, sentence: str, passage: str) -> Support:
        return self.check_many([(sentence, passage)])[0]

    def check_many(self, pairs: Sequence[tuple[str, str]]) -> list[Support]:
        results: list[Support] = []
        need_embedding: list[int] = []
        for i, (sentence, passage) in enumerate(pairs):
            verbatim = normalise(sentence).rstrip(".") in normalise(passage)
            lex, numbers_ok = lexical_support(sentence, passage)
            if verbatim:
                results.append(Support(1.0, None, True, True, True))
                continue
            ok = numbers_ok and lex >= LEXICAL_THRESHOLD
            results.append(Support(lex, None, numbers_ok, False, ok))
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
            # expensive part (~8 texts/s on 2 cores), and the window that supports a sentence shares its words.
            sent_stems = set(content_stems(sentence))
            wins = sorted(passage_windows(passage), key=lambda w: -len(sent_stems & set(content_stems(w))))
            plan.append((s_idx, [texts.setdefault(w, len(texts)) for w in wins[:WINDOWS_EMBEDDED]]))
        vecs = np.asarray(self.embedder.embed_documents(list(texts)), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        for res, (si, wins) in zip(results, plan, strict=True):
            cos = float(np.max(vecs[wins] @ vecs[si]))
            res.embedding = cos
            res.supported = res.supported and cos >= EMBEDDING_THRESHOLD
