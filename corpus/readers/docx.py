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
from corpus.readers.common import (
    NO_LIMITS,
    ReadLimits,
    UnreadableError,
    check_text_chars,
    detect_language,
    human_bytes,
    humanise_stem,
    over_limit,
    require_text,
)

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


# Parts python-docx parses; everything else (images, fonts, embedded objects) is only carried as bytes.
_XML_PARTS = (".xml", ".rels")
_READ_STEP = 1 << 20
# A Word document has tens of parts, one per image beyond that; a zip of countless empty entries is a
# denial of service of its own (each entry is parsed and copied).
MAX_PARTS = 20_000


def _text_parts_only(data: bytes, max_expanded: int | None) -> bytes:
    """The DOCX with its XML parts unpacked within ``max_expanded`` bytes and every other part emptied.

    A zip bomb is a small file whose XML unpacks to gigabytes: the zip directory's sizes are checked
    before anything is unpacked, and each part is then read in bounded steps (zipfile also refuses to
    return more than the directory declared). Images are never unpacked: the text does not need them.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise UnreadableError(f"not a valid DOCX file ({type(e).__name__}: {e})") from e
    with zf:
        members = zf.infolist()
        if len(members) > MAX_PARTS:
            raise UnreadableError(f"DOCX has {len(members):,} parts; at most {MAX_PARTS:,} are read")
        xml = {id(m) for m in members if m.filename.lower().endswith(_XML_PARTS)}
        declared = sum(m.file_size for m in members if id(m) in xml)
        if max_expanded is not None and declared > max_expanded:
            raise over_limit(
                "DOCX expands to",
                f"{human_bytes(declared)} of XML",
                human_bytes(max_expanded),
                "max_expanded_bytes",
            )
        budget = max_expanded if max_expanded is not None else declared
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as slim:
            for m in members:
                if m.is_dir():
                    continue
                if id(m) not in xml:
                    slim.writestr(m.filename, b"")
                    continue
                parts: list[bytes] = []
                with zf.open(m) as f:
                    while chunk := f.read(min(_READ_STEP, budget + 1)):
                        budget -= len(chunk)
                        if budget < 0:
                            raise over_limit(
                                "DOCX expands to",
                                "more XML than its directory declares",
                                human_bytes(max_expanded or declared),
                                "max_expanded_bytes",
                            )
                        parts.append(chunk)
                slim.writestr(m.filename, b"".join(parts))
    return out.getvalue()


def read_docx(path: Path, data: bytes, limits: ReadLimits = NO_LIMITS) -> Document:
    try:
        slim = _text_parts_only(data, limits.max_expanded_bytes)
    except UnreadableError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile and zlib raise many kinds on damaged or encrypted parts
        raise UnreadableError(f"not a valid DOCX file ({type(e).__name__}: {e})") from e
    try:
        d = docx.Document(io.BytesIO(slim))
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

    chars = 0
    for block in d.iter_inner_content():
        if isinstance(block, Table):
            rows = _table_rows(block)
            if rows:
                buf.append("\n".join(rows))
                all_lines.extend(rows)
                chars += sum(len(r) for r in rows)
                check_text_chars(chars, limits, what="text is more than")
            continue
        text = fix_text(block.text).strip()
        if not text:
            continue
        all_lines.append(text)
        chars += len(text)
        check_text_chars(chars, limits, what="text is more than")
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
