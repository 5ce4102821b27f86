"""The layout of a departmental nota: letterhead, "Datum", "Ons kenmerk", the word "nota", the title.

Notas exported to text repeat the letterhead block ("Afdeling …", "Datum …", "Ons kenmerk …") on every
page; those repeats are removed so they do not end up in every chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from corpus.readers.common import parse_dutch_date

_KENMERK = re.compile(r"(?mi)^\s*ons kenmerk\s*:?\s*$\n\s*(\S[^\n]*)|^\s*ons kenmerk\s*:?\s+(\S[^\n]*)$")
_DATUM = re.compile(r"(?mi)^\s*datum\s*:?\s*$\n\s*(\S[^\n]*)|^\s*datum\s*:?\s+(\S[^\n]*)$")
_NOTA_LINE = re.compile(r"(?mi)^\s*nota\s*$")


@dataclass
class NotaFacts:
    title: str | None = None
    date: str | None = None
    kenmerk: str | None = None
    letterhead: str = ""  # the first page's block, up to and including the title
    body: str = ""  # the rest, repeated headers removed
    repeated: set[str] = field(default_factory=set)  # normalised header paragraphs found in the letterhead


def looks_like_nota(path: Path, text: str) -> bool:
    return (
        path.parent.name.lower() in ("notas", "nota's", "nota")
        or path.stem.lower().startswith("nota")
        or bool(_KENMERK.search(text[:5000]))
    )


def _first_group(m: re.Match[str] | None) -> str | None:
    if not m:
        return None
    return next((g.strip() for g in m.groups() if g), None)


def _norm(par: str) -> str:
    return " ".join(par.split()).lower()


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def parse_nota(text: str) -> NotaFacts:
    facts = NotaFacts()
    facts.kenmerk = _first_group(_KENMERK.search(text))
    date_text = _first_group(_DATUM.search(text))
    facts.date = parse_dutch_date(date_text) if date_text else None

    # The letterhead ends with the word "nota" and the title line after it; without that word it ends
    # after the "Ons kenmerk" block (and an optional "Bijlagen" block).
    m = _NOTA_LINE.search(text)
    if m:
        after = text[m.end() :]
        title_m = re.search(r"\S[^\n]*", after)
        if title_m:
            facts.title = title_m.group(0).strip()
            split_at = m.end() + title_m.end()
        else:
            split_at = m.end()
    else:
        km = _KENMERK.search(text)
        split_at = km.end() if km else 0
        bijlagen = re.match(r"\s*\n[ \t]*bijlagen?\s*\n[^\n]*", text[split_at:], re.IGNORECASE)
        if bijlagen:
            split_at += bijlagen.end()
    facts.letterhead = text[:split_at].strip()
    header_pars = {_norm(p) for p in paragraphs(facts.letterhead)}
    # A repeated header is a paragraph of the letterhead that recurs in the body; the title itself and
    # the bare word "nota" are not headers.
    facts.repeated = {p for p in header_pars if p not in ("nota", _norm(facts.title or ""))}
    facts.body = strip_repeated_header(text[split_at:], facts.repeated)
    return facts


def strip_repeated_header(text: str, header_pars: set[str]) -> str:
    if not header_pars:
        return text.strip()
    kept = [p for p in paragraphs(text) if _norm(p) not in header_pars]
    return "\n\n".join(kept).strip()
