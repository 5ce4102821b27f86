"""Dutch sentence splitting for retrieved passages and generated answers.

A regex splitter rather than a model: passages are official prose full of abbreviations that end in a dot
("nr.", "blz.", "o.a.", "Kamerstukken II 2017–2018, 33763, nr. 141") and of bullet lists whose items
are sentences without a final dot. Both break naive splitters and would cut a citation in half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lower-cased abbreviations (without their final dot) after which a dot does not end a sentence.
ABBREVIATIONS = frozenset(
    [
        "nr",
        "nrs",
        "blz",
        "art",
        "artt",
        "lid",
        "jl",
        "o.a",
        "d.w.z",
        "bijv",
        "bv",
        "m.b.t",
        "t.a.v",
        "t.b.v",
        "i.p.v",
        "i.v.m",
        "e.d",
        "e.a",
        "enz",
        "etc",
        "vgl",
        "zgn",
        "ca",
        "incl",
        "excl",
        "resp",
        "mr",
        "dhr",
        "mevr",
        "mw",
        "drs",
        "dr",
        "prof",
        "ir",
        "ing",
        "st",
        "min",
        "z.g.a.n",
        "c.q",
        "p",
        "pp",
        "vs",
        "jo",
        "sr",
        "jr",
        "mln",
        "mld",
        "dec",
        "jan",
        "feb",
        "mrt",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "o.m",
        "m.i.v",
        "a.s",
        "j.l",
        "t.z.t",
        "z.s.m",
        "n.a.v",
        "m.n",
        "kst",
        "red",
        "zie",
    ]
)

_BULLET = re.compile(r"^\s*(?:[-•*▪◦·]|o(?=\s)|\(?[a-z0-9]{1,2}[.)](?=\s))\s+", re.IGNORECASE)
# A candidate boundary: end punctuation, optional closing quotes/brackets, whitespace, then a plausible start.
_BOUNDARY = re.compile(r"([.!?…])([\"'”’»)\]]*)\s+(?=[\"'“‘«(\[]?[A-Z0-9ÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ])")
_MARKER_TAIL = re.compile(r"^(\s*(?:\[\d+\])+)")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offsets in the source text, so a sentence can be shown in its passage
    end: int
    bullet: bool = False  # the first sentence of a list item


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    """True when the dot at ``dot_pos`` closes an abbreviation, an initial or a numbered list item."""
    m = re.search(r"([\w.]+)$", text[:dot_pos])
    if not m:
        return False
    word = m.group(1).lower()
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return True
    # Single capital initials ("J. de Vries") and dotted acronyms ("d.w.z").
    if len(word) == 1 and word.isalpha():
        return True
    if "." in word and all(len(p) <= 2 for p in word.split(".")):
        return True
    # "1. Aanleiding", "4.9 Ontwikkelingen": a bare number at the start of a line is a heading number.
    line_start = text.rfind("\n", 0, dot_pos) + 1
    return bool(word.replace(".", "").isdigit() and text[line_start:dot_pos].strip() == m.group(1))


def _open_quote(s: str) -> bool:
    return s.count('"') % 2 == 1 or s.count("“") > s.count("”")


# A paragraph cut by a page break: a blank line between a lower-case/comma end and a lower-case start.
_PAGE_BREAK = re.compile(r"(?<=[a-zà-ÿ,;])[ \t]*\n(?:[ \t]*\n)+[ \t]*(?=[a-zà-ÿ])")


def _split_block(block: str, offset: int) -> list[Sentence]:
    out: list[Sentence] = []
    start = 0
    for m in _BOUNDARY.finditer(block):
        if m.group(1) == "." and _is_abbreviation(block, m.start(1)):
            continue
        end = m.end(2)
        if _open_quote(block[start:end]):
            continue  # a dot inside a quoted title ("Veiligheid in een wereld van verbindingen. Een ...")
        out.append(Sentence(block[start:end], offset + start, offset + end))
        start = m.end()
    if start < len(block):
        out.append(Sentence(block[start:], offset + start, offset + len(block)))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; blank lines and bullet items are hard boundaries.

    Line breaks inside a paragraph (PDF layout) are not boundaries. Offsets point into ``text``.
    """
    sentences: list[Sentence] = []
    # Same-length replacement keeps the offsets valid.
    text = _PAGE_BREAK.sub(lambda m: " " * len(m.group(0)), text)
    # Hard blocks: paragraphs, and each bullet item on its own line.
    pos = 0
    lines = text.splitlines(keepends=True)
    block_start = 0
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        raw = "".join(block)
        is_item = bool(_BULLET.match(raw))
        for i, s in enumerate(_split_block(raw, block_start)):
            cleaned = _clean(s.text)
            if cleaned:
                sentences.append(Sentence(cleaned, s.start, s.end, bullet=is_item and i == 0))

    for line in lines:
        if not line.strip() or _BULLET.match(line):
            flush()
            block = []
            block_start = pos
            if line.strip():
                block.append(line)
        else:
            if not block:
                block_start = pos
            block.append(line)
        pos += len(line)
    flush()
    return sentences


def _clean(s: str) -> str:
    for _ in range(2):  # nested bullets: " - o Te signaleren ..."
        s = _BULLET.sub("", s, count=1)
    s = re.sub(r"\s+", " ", s).strip()
    return s


def split_with_markers(text: str) -> list[tuple[str, list[int]]]:
    """Split generated text into (sentence, markers) pairs; markers are the ``[n]`` numbers it cites.

    A marker written after the final dot ("... besloten. [2]") belongs to the sentence before it.
    """
    pieces = [s.text for s in split_sentences(text)]
    merged: list[str] = []
    for p in pieces:
        tail = _MARKER_TAIL.match(p)
        if tail and merged:
            merged[-1] = merged[-1] + tail.group(1)
            p = p[tail.end() :].strip()
            if not p:
                continue
        merged.append(p)
    out: list[tuple[str, list[int]]] = []
    for p in merged:
        markers = [int(n) for n in re.findall(r"\[(\d+)\]", p)]
        plain = re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", "", p).strip()
        # "[1, 2]" style markers too.
        for group in re.findall(r"\[(\d+(?:\s*,\s*\d+)+)\]", p):
            markers.extend(int(n) for n in re.split(r"\s*,\s*", group))
        if plain:
            out.append((plain, list(dict.fromkeys(markers))))
    return out
