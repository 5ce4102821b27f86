"""Walk files and folders and turn every file into a ``Document`` or a ``ReadError``; never crash.

Folders are walked recursively in sorted order; hidden files and sidecars are skipped. Each file is
dispatched by extension and, for XML and text, by content (officiële publicatie, ParlaMint TEI/TXT).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from corpus.encoding import UndecodableError, decode_bytes
from corpus.models import HANDELINGEN, NOTA, Document, ReadError
from corpus.readers.common import MONTHS_NL, UnreadableError
from corpus.sidecar import SidecarError, SidecarResolver, apply_overrides, is_sidecar
from corpus.units import complete_units

SUPPORTED_EXTENSIONS = frozenset({".xml", ".txt", ".md", ".markdown", ".pdf", ".docx"})
DUPLICATE_TWIN = "duplicate of"  # reason prefix for a ParlaMint TXT skipped in favour of its XML


def _skipped(path: Path) -> bool:
    name = path.name
    return (
        name.startswith((".", "~$"))  # hidden files, Word lock files
        or is_sidecar(path)
        or name.endswith("-meta.tsv")  # ParlaMint speaker metadata: enriches its twin, not a document
    )


def _order(path: Path) -> tuple[str, int, str]:
    # An XML sorts before a same-stem TXT, so the ParlaMint XML is the one that is kept.
    return (path.stem, 0 if path.suffix.lower() == ".xml" else 1, path.name)


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted((Path(root) / name for name in files), key=_order):
                    if not _skipped(f):
                        yield f
        elif not (p.exists() and _skipped(p)):
            yield p


def read_file(path: Path) -> Document | ReadError:
    """One file, read by the reader its extension and content call for."""
    shown = str(path.resolve()) if path.exists() else str(path)
    if not path.exists():
        return ReadError(path=shown, reason="no such file or directory")
    if not path.is_file():
        return ReadError(path=shown, reason="not a regular file")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        return ReadError(path=shown, reason=f"unsupported file type '{ext or path.name}'")
    try:
        data = path.read_bytes()
    except OSError as e:
        return ReadError(path=shown, reason=f"cannot read file ({e.strerror or e})")
    if not data.strip():
        return ReadError(path=shown, reason="empty file")
    resolved = Path(shown)
    try:
        if ext == ".pdf":
            from corpus.readers.pdf import read_pdf

            return read_pdf(resolved, data)
        if ext == ".docx":
            from corpus.readers.docx import read_docx

            return read_docx(resolved, data)
        if ext == ".xml":
            from corpus.readers.xmlfile import read_xml

            return read_xml(resolved, data)
        from corpus.readers.text import read_text

        return read_text(resolved, decode_bytes(data))
    except UnreadableError as e:
        return ReadError(path=shown, reason=e.reason)
    except UndecodableError as e:
        return ReadError(path=shown, reason=str(e))
    except RecursionError:
        return ReadError(path=shown, reason="structure nested too deeply to read")
    except Exception as e:  # noqa: BLE001 - one bad file must never stop the run
        return ReadError(path=shown, reason=f"unexpected error while reading: {type(e).__name__}: {e}")


_HANDELINGEN_ITEM = re.compile(r"^(a?h-(?:tk|ek)-\d{8}-\d+)-\d+$")


class _MeetingDates:
    """Handelingen items carry no date; the opening item of the same vergadering does ("Donderdag 5 april
    2018"). Borrow it from the sibling ``…-1.xml`` when that file is there."""

    def __init__(self) -> None:
        self._dates: dict[Path, str | None] = {}

    def remember(self, doc: Document) -> None:
        if doc.kind == HANDELINGEN and doc.date:
            self._dates[Path(doc.path)] = doc.date

    def fill(self, doc: Document) -> Document:
        m = _HANDELINGEN_ITEM.match(doc.id)
        if doc.kind != HANDELINGEN or doc.date or not m:
            return doc
        opening = Path(doc.path).with_name(f"{m.group(1)}-1.xml")
        if opening not in self._dates:
            self._dates[opening] = None
            if opening.is_file() and opening != Path(doc.path):
                r = read_file(opening)
                if isinstance(r, Document):
                    self._dates[opening] = r.date
        date = self._dates[opening]
        if not date:
            return doc
        return doc.model_copy(update={"date": date, "metadata": {**doc.metadata, "date_from": opening.stem}})


def _is_parlamint_twin(new: Document, kept_path: str) -> bool:
    kept = Path(kept_path)
    return (
        Path(new.path).suffix.lower() == ".txt"
        and kept.suffix.lower() == ".xml"
        and kept.stem == Path(new.path).stem
        and new.metadata.get("format", "").startswith("parlamint")
    )


def is_duplicate_twin(err: ReadError) -> bool:
    """True for the TXT twin of a ParlaMint XML: skipped on purpose, not a failure."""
    return err.reason.startswith(DUPLICATE_TWIN)


_MONTHS = list(MONTHS_NL)  # in calendar order


def dutch_date(iso: str | None) -> str | None:
    """ "2023-12-22" -> "22 december 2023"; partial or other dates unchanged."""
    parts = (iso or "").split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return iso or None


def _with_default_citation(doc: Document) -> Document:
    """Notas have no official citation; cite them the way a ministry does: title, date, kenmerk."""
    if doc.citation or doc.kind != NOTA:
        return doc
    title = doc.title or doc.id
    parts = [title if title.lower().startswith("nota") else f"Nota “{title}”"]
    if date := dutch_date(doc.date):
        parts.append(date)
    if kenmerk := doc.metadata.get("kenmerk"):
        parts.append(f"kenmerk {kenmerk}")
    return doc.model_copy(update={"citation": ", ".join(parts)})


def load_paths(paths: Sequence[Path]) -> Iterator[Document | ReadError]:
    """Every document under ``paths``, or a ``ReadError`` naming the file and the reason."""
    seen: dict[str, str] = {}
    sidecars = SidecarResolver()
    dates = _MeetingDates()
    for path in iter_files(paths):
        result = read_file(path)
        if isinstance(result, ReadError):
            yield result
            continue
        try:
            result = apply_overrides(result, sidecars.overrides_for(path), source=f"sidecar of {path.name}")
        except SidecarError as e:
            yield ReadError(path=result.path, reason=str(e))
            continue
        dates.remember(result)
        result = complete_units(_with_default_citation(dates.fill(result)))
        if result.id in seen:
            if _is_parlamint_twin(result, seen[result.id]):
                yield ReadError(
                    path=result.path,
                    reason=f"{DUPLICATE_TWIN} {seen[result.id]} (same session; kept the XML)",
                )
            else:
                yield ReadError(
                    path=result.path,
                    reason=f"duplicate document id {result.id} (already read from {seen[result.id]})",
                )
            continue
        seen[result.id] = result.path
        yield result
