"""Plain text and Markdown: paragraph-group sections, headings, and repair of PDF-extracted layout.

Text extracted from PDFs is hard-wrapped, hyphenated at line ends ("securi-\\nty"), sometimes with a
blank line after every line and a "-----" rule at each page break. The reflow below joins what belongs
together and leaves lists, tables and headings alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from corpus.models import DOCUMENT, NOTA, STRATEGIE, Document, Section
from corpus.readers import nota as nota_layout
from corpus.readers.common import (
    detect_language,
    drop_repeated_sections,
    humanise_stem,
    require_text,
    year_from_name,
)
from corpus.readers.parlamint import is_parlamint_txt, read_parlamint_txt

MARKDOWN_EXTENSIONS = {".md", ".markdown"}
MAX_SECTION_CHARS = 4000

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*([^*\n]{2,120})\*\*\s*$")
_BOLD_RUN = re.compile(r"^\s*\*\*([^*\n]+)\*\*\s*$")
_NUMBERED_HEADING = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*\.?\s+[A-ZÀ-Ýa-z][^\n]{1,75}$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•▪◦o–]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+)")
_PAGE_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]]\s*$")
_BOILERPLATE_TITLES = {
    "table of contents",
    "contents",
    "foreword",
    "preface",
    "summary",
    "introduction",
    "inhoud",
    "inhoudsopgave",
    "voorwoord",
    "samenvatting",
    "inleiding",
}


def looks_markdown(text: str) -> bool:
    return len(re.findall(r"(?m)^\s{0,3}#{1,6}\s+\S", text[:50000])) >= 2


def _is_block_start(line: str) -> bool:
    return bool(_LIST_ITEM.match(line) or _MD_HEADING.match(line) or line.lstrip().startswith("|"))


def _join(prev: str, nxt: str) -> str:
    """Join two wrapped pieces; a hyphen at the break is the word being split ("securi-" + "ty")."""
    nxt = nxt.strip()
    if prev.endswith("**") and nxt.startswith("**"):
        # Bold text wrapped over two lines: one bold run.
        prev, nxt = prev[:-2], nxt[2:]
    if re.search(r"[a-zà-ÿ]-$", prev) and re.match(r"[a-zà-ÿ]", nxt):
        return prev[:-1] + nxt
    return prev.rstrip() + " " + nxt


def _is_heading_line(line: str) -> bool:
    return bool(_MD_HEADING.match(line) or _BOLD_LINE.match(line))


def _wrapped_bold(prev: str, nxt: str) -> bool:
    """A bold heading wrapped over two lines ("**… protecting the**" / "**democratic rule of law**")."""
    a, b = _BOLD_RUN.match(prev), _BOLD_RUN.match(nxt)
    return bool(
        a and b and not _SENTENCE_END.search(a.group(1)) and re.match(r"[a-zà-ÿ]", b.group(1).strip())
    )


def _continues(prev_last_line: str, nxt_first_line: str) -> bool:
    """Whether a blank line between these two lines is a PDF artefact inside a sentence."""
    # A list item may run on after the break; a heading or table row may not.
    if (
        _MD_HEADING.match(prev_last_line)
        or prev_last_line.lstrip().startswith("|")
        or _is_block_start(nxt_first_line)
    ):
        return False
    prev_bold, next_bold = _BOLD_RUN.match(prev_last_line), _BOLD_RUN.match(nxt_first_line)
    if prev_bold or next_bold:
        if not (prev_bold and next_bold):
            return False
        prev_last_line, nxt_first_line = prev_bold.group(1), next_bold.group(1)
    return not _SENTENCE_END.search(prev_last_line) and bool(re.match(r"\s*[a-zà-ÿ(]", nxt_first_line))


def reflow(text: str) -> str:
    """Join hard-wrapped lines into paragraphs, undo line-end hyphenation, drop page rules."""
    raw_pars: list[list[str]] = [[]]
    for line in text.split("\n"):
        if not line.strip() or _PAGE_RULE.match(line):
            if raw_pars[-1]:
                raw_pars.append([])
            continue
        raw_pars[-1].append(line.rstrip())
    raw_pars = [p for p in raw_pars if p]

    out: list[list[str]] = []  # paragraphs as lists of logical lines
    for par in raw_pars:
        lines: list[str] = []
        for line in par:
            if (
                (
                    lines
                    and not _is_block_start(line)
                    and not _is_heading_line(lines[-1])
                    and not _is_heading_line(line)
                )
                or lines
                and _wrapped_bold(lines[-1], line)
            ):
                lines[-1] = _join(lines[-1], line)
            else:
                lines.append(line.strip() if not _LIST_ITEM.match(line) else line.rstrip())
        if out and _continues(out[-1][-1], lines[0]):
            out[-1][-1] = _join(out[-1][-1], lines[0])
            out[-1].extend(lines[1:])
        else:
            out.append(lines)
    return "\n\n".join("\n".join(p) for p in out)


def _strip_emphasis(text: str) -> str:
    text = text.replace("**", "")
    return re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)


def _heading_of(par: str, markdown: bool) -> str | None:
    if "\n" in par:
        return None
    m = _MD_HEADING.match(par)
    if m:
        return _strip_emphasis(m.group(2)).strip() or None
    if markdown:
        b = _BOLD_LINE.match(par)
        # "**19**" is a page number from a table of contents, not a heading.
        if b and len(re.findall(r"[^\W\d_]", b.group(1))) >= 3:
            return _strip_emphasis(b.group(1)).strip()
        return None
    if _NUMBERED_HEADING.match(par) and not re.search(r"[.:;,]$", par.strip()):
        return par.strip()
    return None


def split_sections(text: str, markdown: bool) -> list[Section]:
    """Sections run from heading to heading; long ones are cut at paragraph boundaries."""
    sections: list[Section] = []
    heading: str | None = None
    buf: list[str] = []

    def flush() -> None:
        if buf:
            sections.append(Section(text="\n\n".join(buf), heading=heading))
            buf.clear()

    orphans: list[str] = []  # headings without text of their own (tables of contents, bold sentences)

    def new_heading(h: str) -> None:
        nonlocal heading
        if not buf and heading is not None:
            orphans.append(heading)
        flush()
        heading = h

    def flush_orphans() -> None:
        # Kept as one section so their words stay searchable without a tiny section for each.
        if orphans:
            sections.append(Section(text="\n".join(orphans)))
            orphans.clear()

    for par in (p for p in text.split("\n\n") if p.strip()):
        lines = par.split("\n")
        # Heading lines at the top of a paragraph; a numbered line only when it stands alone (else it is
        # the first item of a list).
        while lines:
            first = lines[0]
            if _MD_HEADING.match(first) or (markdown and _BOLD_LINE.match(first)):
                h = _heading_of(first, True)
            elif len(lines) == 1:
                h = _heading_of(first, markdown)
            else:
                h = None
            if h is None:
                break
            new_heading(h)
            lines = lines[1:]
        if not lines:
            continue
        flush_orphans()
        par = "\n".join(lines)
        par = _strip_emphasis(par) if markdown else par
        if buf and sum(len(b) for b in buf) + len(par) > MAX_SECTION_CHARS:
            flush()
        buf.append(par)
    if not buf and heading is not None:
        orphans.append(heading)
    flush_orphans()
    flush()
    return sections


def _usable_title(heading: str) -> bool:
    words = heading.split()
    letter_spaced = len(words) >= 4 and sum(len(w) == 1 for w in words) / len(words) > 0.6
    return (
        len(re.findall(r"[^\W\d_]", heading)) >= 3
        and not letter_spaced
        and heading.strip(" .:").lower() not in _BOILERPLATE_TITLES
        and len(heading) <= 200
    )


def _first_heading(text: str) -> str | None:
    for line in text.split("\n"):
        m = _MD_HEADING.match(line)
        if m:
            return _strip_emphasis(m.group(2)).strip()
    return None


def is_strategy(path: Path) -> bool:
    return bool(re.search(r"strateg", f"{path.parent.name} {path.stem}", re.IGNORECASE))


def read_text(path: Path, text: str) -> Document:
    if is_parlamint_txt(text):
        return read_parlamint_txt(path, text)
    markdown = path.suffix.lower() in MARKDOWN_EXTENSIONS or looks_markdown(text)
    language = detect_language(text)
    kind = STRATEGIE if is_strategy(path) else DOCUMENT
    metadata: dict[str, str] = {"format": "markdown" if markdown else "text"}
    title: str | None = None
    date: str | None = None
    sections: list[Section] = []

    if nota_layout.looks_like_nota(path, text):
        facts = nota_layout.parse_nota(text)
        kind, title, date = NOTA, facts.title, facts.date
        if facts.kenmerk:
            metadata["kenmerk"] = facts.kenmerk
        if facts.letterhead:
            sections.append(Section(text=facts.letterhead))
        text = facts.body

    sections.extend(split_sections(reflow(text), markdown))
    sections = require_text(drop_repeated_sections(sections), path)
    if not title:
        first = _first_heading(text) if markdown else None
        title = first if first and _usable_title(first) else humanise_stem(path.stem)
    if not date:
        m = re.search(r"\d{4}-\d{2}-\d{2}", path.stem)
        date = m.group(0) if m else (year_from_name(path.stem) if kind == STRATEGIE else None)
    return Document(
        id=path.stem,
        path=str(path),
        kind=kind,
        title=title,
        date=date,
        language=language,
        sections=sections,
        metadata=metadata,
    )
