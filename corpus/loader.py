"""Walk files and folders and turn every file into a ``Document`` or a ``ReadError``; never crash.

Folders are walked recursively in sorted order; hidden files and sidecars are skipped. Each file is
dispatched by extension and, for XML and text, by content (officiële publicatie, ParlaMint TEI/TXT).

What is read is bounded (docs/security-files.md): symbolic links that lead out of the folder being ingested
are refused unless ``follow_links`` is set, the assistant's own configuration and data are never read, and
the size limits of the settings are checked before the work they guard. A document keeps the path it was
found under (a link's own path, not its target), so removing the link and pruning removes the document.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from corpus.encoding import UndecodableError, decode_bytes
from corpus.models import HANDELINGEN, NOTA, Document, ReadError
from corpus.readers.common import (
    MONTHS_NL,
    ReadLimits,
    UnreadableError,
    check_text_chars,
    human_bytes,
    over_limit,
)
from corpus.settings import Settings, get_settings
from corpus.sidecar import SidecarError, SidecarResolver, apply_overrides, is_sidecar
from corpus.units import complete_units

SUPPORTED_EXTENSIONS = frozenset({".xml", ".txt", ".md", ".markdown", ".pdf", ".docx"})
DUPLICATE_TWIN = "duplicate of"  # reason prefix for a ParlaMint TXT skipped in favour of its XML
# Ends of the reasons for files refused by rule rather than for their content; ``ingest --prune`` drops a
# document indexed earlier from such a file (see ``refused_by_rule``).
NOT_FOLLOWED = "not followed (follow_links = false)"
NEVER_INDEXED = "never indexed"
LEADS_NOWHERE = "symbolic link that leads nowhere (its target is missing, or links form a loop)"


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


def _shown(path: Path) -> str:
    # Absolute but with links kept: the path the file was found under is the one recorded and pruned by.
    return os.path.abspath(path)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def refused_by_rule(reason: str) -> bool:
    """True for a file refused because of where it is or leads (a link out of the folder, the assistant's
    own data), not because of what it holds; such a file's earlier document is pruned, not kept."""
    return reason.endswith((NOT_FOLLOWED, NEVER_INDEXED))


class FileRules:
    """What may be read, for one run (settings read once): decided on real, link-free paths."""

    def __init__(self, settings: Settings) -> None:
        self.follow_links = settings.follow_links
        self.protected = settings.protected_paths()
        # Uploads live in the home but are documents: read on purpose by `briefing ingest` and the app.
        self.uploads = _real(settings.uploads_path)
        self.limits = ReadLimits.from_settings(settings)

    def protected_reason(self, path: Path) -> str | None:
        """Why ``path`` (or what it links to) must never be read as a document, or None."""
        real = _real(path)
        if _under(real, self.uploads):
            return None
        for p in self.protected:
            if _under(real, p):
                return f"part of the assistant's own configuration or data ({p}); {NEVER_INDEXED}"
        return None


def _sort_key(item: Path | ReadError) -> tuple[str, int, str]:
    return _order(Path(item.path) if isinstance(item, ReadError) else item)


def _walk(top: Path, rules: FileRules) -> Iterator[Path | ReadError]:
    """A folder's files (sorted) before its subfolders', like ``os.walk``; without recursion, so that deep
    nesting cannot exhaust the stack, and with links judged against the real path of ``top``."""
    root = _real(top)
    visited: set[Path] = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        real_folder = _real(folder)
        if real_folder in visited:  # only links (follow_links = true) lead to a folder twice
            yield ReadError(
                path=_shown(folder), reason=f"folder {real_folder} already read (links form a loop?); skipped"
            )
            continue
        visited.add(real_folder)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield ReadError(path=_shown(folder), reason=f"cannot list folder ({e.strerror or e})")
            continue
        files: list[Path | ReadError] = []
        subdirs: list[Path] = []
        for entry in entries:
            path = folder / entry.name
            try:
                is_dir = entry.is_dir()  # follows a link
            except OSError:
                is_dir = False
            if entry.name.startswith(".") if is_dir else _skipped(path):
                continue
            real = _real(path)
            if entry.is_symlink():
                if not os.path.exists(real):
                    files.append(ReadError(path=_shown(path), reason=LEADS_NOWHERE))
                elif why := rules.protected_reason(real):
                    files.append(ReadError(path=_shown(path), reason=f"symbolic link to {real}: {why}"))
                elif not _under(real, root) and not rules.follow_links:
                    files.append(
                        ReadError(
                            path=_shown(path),
                            reason=f"symbolic link to {real}, outside the folder being ingested ({root}); "
                            + NOT_FOLLOWED,
                        )
                    )
                elif not is_dir:
                    files.append(path)
                elif rules.follow_links:
                    subdirs.append(path)
                # A link to a folder inside this one without follow_links: its files are read there.
                continue
            if why := rules.protected_reason(real):
                files.append(ReadError(path=_shown(path), reason=why))
            elif is_dir:
                subdirs.append(path)
            else:
                files.append(path)
        yield from sorted(files, key=_sort_key)
        stack.extend(reversed(subdirs))  # popped in sorted order


def iter_files(paths: Sequence[Path], settings: Settings | None = None) -> Iterator[Path | ReadError]:
    """The files under ``paths`` that may be read, and a ``ReadError`` for each one refused by rule."""
    rules = FileRules(settings or get_settings())
    yield from _iter_files(paths, rules)


def _iter_files(paths: Sequence[Path], rules: FileRules) -> Iterator[Path | ReadError]:
    for p in paths:
        p = Path(p)
        if p.is_symlink() and not p.exists():
            yield ReadError(path=_shown(p), reason=LEADS_NOWHERE)
            continue
        # A path named explicitly is followed even if it is a link (it is what was asked for), but never
        # into the assistant's own files.
        if p.exists() and (why := rules.protected_reason(_real(p))):
            yield ReadError(path=_shown(p), reason=why)
        elif p.is_dir():
            yield from _walk(p, rules)
        elif not (p.exists() and _skipped(p)):
            yield p


def read_file(path: Path, settings: Settings | None = None) -> Document | ReadError:
    """One file, read by the reader its extension and content call for."""
    return _read_file(Path(path), FileRules(settings or get_settings()))


def _read_bounded(path: Path, checked: Path, limit: int | None) -> bytes:
    """The bytes of the regular file ``checked`` (the real path the rules were applied to), never more than
    ``limit``. Type, identity and size are taken from the opened file, not the path: a file swapped for a
    link, a pipe or a bigger file after the checks is refused, not read (and a pipe never blocks the run)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableError("not a regular file")
        try:
            same = os.path.samestat(st, os.stat(checked))
        except OSError:
            same = False
        if not same:
            raise UnreadableError("file changed while it was being read; not read")
        if limit is not None and st.st_size > limit:
            raise over_limit("file is", human_bytes(st.st_size), human_bytes(limit), "max_file_bytes")
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:  # grew after the check
        raise over_limit("file is", f"over {human_bytes(limit)}", human_bytes(limit), "max_file_bytes")
    return data


def _read_file(path: Path, rules: FileRules) -> Document | ReadError:
    shown = _shown(path)
    if path.is_symlink() and not path.exists():
        return ReadError(path=shown, reason=LEADS_NOWHERE)
    if not path.exists():
        return ReadError(path=shown, reason="no such file or directory")
    real = _real(path)
    if why := rules.protected_reason(real):
        return ReadError(path=shown, reason=why)
    if not path.is_file():
        return ReadError(path=shown, reason="not a regular file")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        return ReadError(path=shown, reason=f"unsupported file type '{ext or path.name}'")
    limits = rules.limits
    try:
        data = _read_bounded(path, real, limits.max_file_bytes)
    except UnreadableError as e:
        return ReadError(path=shown, reason=e.reason)
    except OSError as e:
        return ReadError(path=shown, reason=f"cannot read file ({e.strerror or e})")
    if not data.strip():
        return ReadError(path=shown, reason="empty file")
    where = Path(shown)
    try:
        doc = _dispatch(where, ext, data, limits)
        check_text_chars(sum(len(s.text) for s in doc.sections), limits)
        return doc
    except UnreadableError as e:
        return ReadError(path=shown, reason=e.reason)
    except UndecodableError as e:
        return ReadError(path=shown, reason=str(e))
    except RecursionError:
        return ReadError(path=shown, reason="structure nested too deeply to read")
    except Exception as e:  # noqa: BLE001 - one bad file must never stop the run
        return ReadError(path=shown, reason=f"unexpected error while reading: {type(e).__name__}: {e}")


def _dispatch(path: Path, ext: str, data: bytes, limits: ReadLimits) -> Document:
    if ext == ".pdf":
        from corpus.readers.pdf import read_pdf

        return read_pdf(path, data, limits)
    if ext == ".docx":
        from corpus.readers.docx import read_docx

        return read_docx(path, data, limits)
    if ext == ".xml":
        from corpus.readers.xmlfile import read_xml

        return read_xml(path, data)
    from corpus.readers.text import read_text

    # Every encoding needs at least one byte per character and none more than four: a file that holds
    # too much text for certain is refused before decoding (encoding repair is slow on megabytes).
    check_text_chars(len(data) // 4, limits, what="text is at least")
    text = decode_bytes(data)
    check_text_chars(len(text), limits)
    return read_text(path, text)


_HANDELINGEN_ITEM = re.compile(r"^(a?h-(?:tk|ek)-\d{8}-\d+)-\d+$")


class _MeetingDates:
    """Handelingen items carry no date; the opening item of the same vergadering does ("Donderdag 5 april
    2018"). Borrow it from the sibling ``…-1.xml`` when that file is there."""

    def __init__(self, rules: FileRules) -> None:
        self._dates: dict[Path, str | None] = {}
        self._rules = rules

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
                r = _read_file(opening, self._rules)
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


def load_paths(paths: Sequence[Path], settings: Settings | None = None) -> Iterator[Document | ReadError]:
    """Every document under ``paths``, or a ``ReadError`` naming the file and the reason."""
    rules = FileRules(settings or get_settings())
    seen: dict[str, str] = {}
    sidecars = SidecarResolver()
    dates = _MeetingDates(rules)
    for item in _iter_files(paths, rules):
        if isinstance(item, ReadError):
            yield item
            continue
        try:
            result = _load_one(item, rules, sidecars, dates, seen)
        except Exception as e:  # noqa: BLE001 - e.g. a regex time limit on a pathological text: this file only
            result = ReadError(
                path=_shown(item), reason=f"unexpected error while reading: {type(e).__name__}: {e}"
            )
        if isinstance(result, Document):
            seen[result.id] = result.path
        yield result


def _load_one(
    path: Path, rules: FileRules, sidecars: SidecarResolver, dates: _MeetingDates, seen: dict[str, str]
) -> Document | ReadError:
    result = _read_file(path, rules)
    if isinstance(result, ReadError):
        return result
    try:
        result = apply_overrides(result, sidecars.overrides_for(path), source=f"sidecar of {path.name}")
    except SidecarError as e:
        return ReadError(path=result.path, reason=str(e))
    dates.remember(result)
    result = complete_units(_with_default_citation(dates.fill(result)))
    if result.id in seen:
        if _is_parlamint_twin(result, seen[result.id]):
            return ReadError(
                path=result.path, reason=f"{DUPLICATE_TWIN} {seen[result.id]} (same session; kept the XML)"
            )
        return ReadError(
            path=result.path,
            reason=f"duplicate document id {result.id} (already read from {seen[result.id]})",
        )
    return result
