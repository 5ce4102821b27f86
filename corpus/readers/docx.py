"""DOCX via python-docx: headings start sections, paragraphs and table rows are the text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from corpus.encoding import fix_text
from corpus.models import DOCUMENT, NOTA, Document, Section
from corpus.readers import nota as nota_layout
from corpus.readers.common import UnreadableError, detect_language, humanise_stem, require_text

MAX_SECTION_CHARS = 4000


def _style(p: Paragraph) -> str:
    try:
        return (p.style.name or "").lower() if p.style is not None else ""
    except (KeyError, AttributeError):
        return ""


def _is_heading(style: str) -> bool:
    # English and Dutch Word style names: "Heading 1" / "Kop 1", "Title" / "Titel".
    return style.startswith(("heading", "kop")) or style in ("title", "titel")


def _table_rows(table: Table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(fix_text(cell.text).split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def read_docx(path: Path, data: bytes) -> Document:
    try:
        d = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise UnreadableError(f"not a valid DOCX file ({type(e).__name__}: {e})") from e
    except Exception as e:  # noqa: BLE001 - python-docx raises its own and lxml's errors on damaged files
        raise UnreadableError(f"not a valid DOCX file ({type(e).__name__}: {e})") from e

    sections: list[Section] = []
    heading: str | None = None
    styled_title: str | None = None
    buf: list[str] = []
    all_lines: list[str] = []

    def flush() -> None:
        if buf:
            sections.append(Section(text="\n\n".join(buf), heading=heading))
            buf.clear()

    for block in d.iter_inner_content():
        if isinstance(block, Table):
            rows = _table_rows(block)
            if rows:
                buf.append("\n".join(rows))
                all_lines.extend(rows)
            continue
        text = fix_text(block.text).strip()
        if not text:
            continue
        all_lines.append(text)
        style = _style(block)
        if _is_heading(style):
            if style in ("title", "titel") and styled_title is None:
                styled_title = text
            flush()
            heading = text
            continue
        if buf and sum(len(b) for b in buf) + len(text) > MAX_SECTION_CHARS:
            flush()
        buf.append(text)
    flush()
    sections = require_text(sections, path)

    full = "\n".join(all_lines)
    metadata: dict[str, str] = {"format": "docx"}
    kind, date = DOCUMENT, None
    title = (d.core_properties.title or "").strip() or styled_title
    if nota_layout.looks_like_nota(path, full):
        facts = nota_layout.parse_nota(full)
        kind, date = NOTA, facts.date
        title = facts.title or title
        if facts.kenmerk:
            metadata["kenmerk"] = facts.kenmerk
    if not title:
        title = next((s.heading for s in sections if s.heading), None) or humanise_stem(path.stem)
    return Document(
        id=path.stem,
        path=str(path),
        kind=kind,
        title=title,
        date=date,
        language=detect_language(full),
        sections=sections,
        metadata=metadata,
    )
