"""Small helpers shared by the readers: the reader error, whitespace, Dutch dates, titles, language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.models import Section

if TYPE_CHECKING:
    from corpus.settings import Settings


class UnreadableError(Exception):
    """Raised by a reader when a file cannot become a document; the loader turns it into a ``ReadError``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitExceeded(UnreadableError):
    """A file over one of the size or complexity limits of the settings (see ``ReadLimits``)."""


@dataclass(frozen=True)
class ReadLimits:
    """What one file may cost to read; ``None`` means no limit. Built from the settings by the loader, whose
    field names the messages quote, so an administrator knows which setting to raise."""

    max_file_bytes: int | None = None
    max_expanded_bytes: int | None = None
    max_pdf_pages: int | None = None
    max_text_chars: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_expanded_bytes=settings.max_expanded_bytes,
            max_pdf_pages=settings.max_pdf_pages,
            max_text_chars=settings.max_text_chars,
        )


NO_LIMITS = ReadLimits()


def human_bytes(n: int) -> str:
    """52_400_000 -> '52.4 MB'; decimal units, as file managers show them."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def over_limit(what: str, found: str, limit: str, setting: str) -> LimitExceeded:
    """The one message shape of every limit: 'file is 52 MB; the limit is 20 MB (max_file_bytes)'."""
    return LimitExceeded(f"{what} {found}; the limit is {limit} ({setting})")


def check_text_chars(n: int, limits: ReadLimits, *, what: str = "text is") -> None:
    if limits.max_text_chars is not None and n > limits.max_text_chars:
        raise over_limit(what, f"{n:,} characters", f"{limits.max_text_chars:,}", "max_text_chars")


MONTHS_NL = {
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_DATE_NL = re.compile(r"\b(\d{1,2})\s+(" + "|".join(MONTHS_NL) + r")\s+(\d{4})\b", re.IGNORECASE)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def parse_dutch_date(text: str) -> str | None:
    """'Donderdag 5 april 2018' / '22 december 2023' → '2018-04-05' / '2023-12-22'; ISO dates pass."""
    m = _DATE_NL.search(text)
    if m:
        day, month, year = int(m.group(1)), MONTHS_NL[m.group(2).lower()], int(m.group(3))
        if 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    m = _DATE_ISO.search(text)
    if m:
        return m.group(0)
    return None


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?)\]»”])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[«“])\s+")


def clean_inline(text: str) -> str:
    """Collapse whitespace; undo the spaces pretty-printed XML puts around inline elements ("brexit .")."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _SPACE_AFTER_OPEN.sub(r"\1", text)


def humanise_stem(stem: str) -> str:
    """'netherlands_2007_NationalSecurity' → 'Netherlands 2007 National Security'."""
    words = re.sub(r"[_\-]+", " ", stem)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", words)
    words = " ".join(words.split())
    return words[:1].upper() + words[1:]


def sentence_case_if_shouting(text: str) -> str:
    """Official titles are often in capitals ("BRIEF VAN DE MINISTER"): make them readable."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        low = text.lower()
        return low[:1].upper() + low[1:]
    return text


_STOP_NL = set(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "in",
        "is",
        "dat",
        "op",
        "te",
        "zijn",
        "met",
        "voor",
        "niet",
        "aan",
        "er",
        "om",
        "ook",
        "als",
        "bij",
        "of",
        "door",
        "naar",
        "maar",
        "wordt",
        "worden",
        "dit",
        "die",
        "deze",
        "nog",
        "kan",
        "over",
        "uit",
        "zij",
        "wij",
        "ik",
        "we",
        "u",
        "hij",
        "tot",
        "ze",
        "heeft",
        "hebben",
        "zal",
        "meer",
        "wel",
    ]
)
_STOP_EN = set(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "are",
        "be",
        "by",
        "this",
        "it",
        "an",
        "at",
        "from",
        "or",
        "which",
        "have",
        "has",
        "not",
        "was",
        "were",
        "will",
        "can",
        "its",
        "their",
        "these",
        "our",
        "should",
        "also",
        "been",
        "such",
    ]
)


def detect_language(text: str) -> str:
    """'nl' or 'en' by stopword counts on the first few thousand words; Dutch when in doubt."""
    words = re.findall(r"[a-zà-ÿ]+", text[:30000].lower())
    nl = sum(w in _STOP_NL for w in words)
    en = sum(w in _STOP_EN for w in words)
    return "en" if en > 1.5 * nl and en >= 5 else "nl"


def year_from_name(name: str) -> str | None:
    m = re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", name)
    return m.group(1) if m else None


def drop_repeated_sections(sections: list[Section]) -> list[Section]:
    """Drop a section identical to the one before it (sources sometimes list an entry twice in a row);
    identical chunks would only crowd out other results."""
    out: list[Section] = []
    for s in sections:
        if out and (out[-1].text, out[-1].heading, out[-1].speaker) == (s.text, s.heading, s.speaker):
            continue
        out.append(s)
    return out


def require_text(sections: list[Section], path: Path) -> list[Section]:
    """Keep sections with text; a document without any text is not a document."""
    kept = [s for s in sections if s.text.strip()]
    if not kept:
        raise UnreadableError("no text found in the file")
    return kept
