"""PDF via pypdf: one section per page, page numbers kept, running headers and footers removed."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError, PdfReadError

from corpus.encoding import fix_text
from corpus.models import DOCUMENT, NOTA, Document, Section
from corpus.readers import nota as nota_layout
from corpus.readers.common import (
    NO_LIMITS,
    ReadLimits,
    UnreadableError,
    check_text_chars,
    detect_language,
    humanise_stem,
    over_limit,
    require_text,
)
from corpus.readers.text import reflow

_EDGE_LINES = 3  # lines at the top and bottom of a page where running headers/footers live


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except EmptyFileError as e:
        raise UnreadableError("empty PDF") from e
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise UnreadableError(f"corrupt PDF ({e})") from e
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")  # many "protected" PDFs only restrict printing
        except DependencyError as e:
            raise UnreadableError(f"encrypted PDF that cannot be decrypted here ({e})") from e
        except Exception as e:  # noqa: BLE001 - any failure means: we cannot read it
            raise UnreadableError(f"encrypted PDF ({e})") from e
        if not decrypted:
            raise UnreadableError("encrypted PDF (a password is required)")
    return reader


def _norm_line(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove lines that recur at the top or bottom of most pages ("Pagina 2 van 5", letterheads)."""
    if len(pages) < 3:
        return pages
    counts: Counter[str] = Counter()
    for lines in pages:
        edge = {_norm_line(ln) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:] if ln.strip()}
        counts.update(edge)
    threshold = max(3, (len(pages) + 1) // 2)
    running = {k for k, n in counts.items() if n >= threshold}
    out = []
    for lines in pages:
        n = len(lines)
        out.append(
            [
                ln
                for i, ln in enumerate(lines)
                if not ((i < _EDGE_LINES or i >= n - _EDGE_LINES) and _norm_line(ln) in running)
            ]
        )
    return out


def read_pdf(path: Path, data: bytes, limits: ReadLimits = NO_LIMITS) -> Document:
    reader = _open(data)
    try:
        # Counted from the page tree before any page is parsed: extraction is the slow part.
        n_pages = len(reader.pages)
    except FileNotDecryptedError as e:
        raise UnreadableError("encrypted PDF (a password is required)") from e
    except Exception as e:  # noqa: BLE001 - a damaged page tree
        raise UnreadableError(f"corrupt PDF: page tree unreadable ({type(e).__name__}: {e})") from e
    if limits.max_pdf_pages is not None and n_pages > limits.max_pdf_pages:
        raise over_limit("PDF has", f"{n_pages:,} pages", f"{limits.max_pdf_pages:,}", "max_pdf_pages")
    raw_pages: list[str] = []
    chars = 0
    try:
        for page in reader.pages:
            raw_pages.append(fix_text(page.extract_text() or ""))
            chars += len(raw_pages[-1])
            # Stop at the page that crosses the limit rather than extract the rest for nothing.
            check_text_chars(chars, limits, what=f"text of the first {len(raw_pages)} of {n_pages} pages is")
    except UnreadableError:
        raise
    except FileNotDecryptedError as e:
        raise UnreadableError("encrypted PDF (a password is required)") from e
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds of errors on damaged streams
        raise UnreadableError(f"corrupt PDF: text extraction failed ({type(e).__name__}: {e})") from e
    if not any(t.strip() for t in raw_pages):
        raise UnreadableError(
            f"no text extracted from {len(raw_pages)} page(s): scanned PDF without a text layer?"
        )

    pages = strip_running_lines([t.split("\n") for t in raw_pages])
    full = "\n\n".join("\n".join(p) for p in pages)
    metadata: dict[str, str] = {"format": "pdf"}
    kind, title, date = DOCUMENT, None, None
    if nota_layout.looks_like_nota(path, full):
        facts = nota_layout.parse_nota(
            "\n".join(pages[0]) + "\n\n" + "\n\n".join("\n".join(p) for p in pages[1:])
        )
        kind, title, date = NOTA, facts.title, facts.date
        if facts.kenmerk:
            metadata["kenmerk"] = facts.kenmerk
        # The letterhead recurs at the top of later pages; drop its lines there.
        head_lines = {_norm_line(ln) for ln in facts.letterhead.split("\n") if ln.strip()}
        head_lines -= {"nota", _norm_line(facts.title or "")}
        pages = [pages[0]] + [
            [ln for i, ln in enumerate(p) if not (i < 15 and _norm_line(ln) in head_lines)] for p in pages[1:]
        ]

    sections = [Section(text=reflow("\n".join(lines)), page=i) for i, lines in enumerate(pages, 1)]
    sections = require_text(sections, path)
    info_title = None
    try:
        info_title = (reader.metadata.title if reader.metadata else None) or None
    except Exception:  # noqa: BLE001 - a broken info dictionary is no reason to lose the text
        info_title = None
    if not title and info_title and len(info_title.split()) >= 2:
        title = " ".join(info_title.split())
    if not title:
        first = next((ln.strip() for ln in pages[0] if ln.strip()), "")
        title = first if 3 <= len(first) <= 120 else humanise_stem(path.stem)
    return Document(
        id=path.stem,
        path=str(path),
        kind=kind,
        title=title,
        date=date,
        language=detect_language(full),
        sections=sections,
        pages=len(raw_pages),
        metadata=metadata,
    )
