"""The thin functions the web app calls. No retrieval logic lives here: each function forwards to the
library the CLI uses (``assistant.answer``, ``assistant.draft``, ``index.ingest``, ``index.status``) and
adds only what a multi-user web front needs: the caller's access levels, upload hygiene, one shared
``Assistant`` per process (the embedding model is loaded once and serves every session).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.settings import Settings

# What the readers understand; anything else is refused before it touches the disk under uploads_path.
ALLOWED_SUFFIXES = (".pdf", ".docx", ".xml", ".txt")
MAX_NAME_CHARS = 120

_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(ValueError):
    """An upload that is refused (type, size, name); the message is shown to the user (Dutch)."""


# --- shared engine ----------------------------------------------------------------------------------------

_assistants: dict[int, Any] = {}
_assistants_lock = threading.Lock()


def get_assistant(settings: Settings) -> Any:
    """One ``Assistant`` per settings object: the model and store handle are shared by all sessions."""
    from assistant.answer import Assistant

    with _assistants_lock:
        a = _assistants.get(id(settings))
        if a is None:
            a = _assistants[id(settings)] = Assistant(settings)
        return a


def _filters(filters: dict[str, str] | None) -> dict[str, str]:
    # Empty fields from the form mean "no filter"; "access" is never taken from the form (see ``access``).
    return {k: v.strip() for k, v in (filters or {}).items() if v and v.strip() and k != "access"}


def ask_stream(
    settings: Settings,
    question: str,
    *,
    access: list[str],
    filters: dict[str, str] | None = None,
    history: Any = None,
    engine: str | None = None,
) -> Iterator[Any]:
    """Text deltas, then the final ``Answer`` (the contract of ``Assistant.ask_stream``)."""
    yield from get_assistant(settings).ask_stream(
        question, engine=engine, filters=_filters(filters), history=history, access=list(access)
    )


def ask(
    settings: Settings,
    question: str,
    *,
    access: list[str],
    filters: dict[str, str] | None = None,
    history: Any = None,
    engine: str | None = None,
) -> Any:
    return get_assistant(settings).ask(
        question, engine=engine, filters=_filters(filters), history=history, access=list(access)
    )


def draft(
    settings: Settings,
    topic: str,
    *,
    access: list[str],
    filters: dict[str, str] | None = None,
    engine: str | None = None,
) -> Any:
    from assistant.draft import draft_letter

    return draft_letter(
        topic,
        settings,
        engine=engine,
        filters=_filters(filters),
        access=list(access),
        assistant=get_assistant(settings),
    )


_NOTE_MARK = re.compile(r"\[\^(\d+)\]")
_NOTE_DEF = re.compile(r"^\[\^(\d+)\]:\s*(.*)$")


def letter_from_markdown(text: str, original: Any) -> Any:
    """The ``Letter`` an official sees after editing ``original.render_markdown()`` in the app.

    The inverse of ``Letter.render_markdown``: ``##`` headings are sections, blank-line separated blocks
    are paragraphs with their ``[^n]`` notes, and the Noten/Bronnen/Weggelaten sections are read back,
    so the DOCX keeps its official layout while carrying the edits.
    """
    from assistant.draft import BOUWSTENEN_LABEL, Letter, LetterSection, Paragraph

    sections: list[LetterSection] = []
    notes: dict[int, str] = {}
    sources: list[str] = []
    unsupported: list[str] = []
    current: str | None = None
    block: list[str] = []
    any_prose = False

    def flush() -> None:
        nonlocal any_prose
        para = " ".join(line.strip() for line in block).strip()
        block.clear()
        if not para or current is None:
            return
        if para.strip("_") == BOUWSTENEN_LABEL or para == "(Geen passages gevonden voor dit onderdeel.)":
            return
        is_item = para.startswith(("- ", "* "))
        body = para[2:].strip() if is_item else para
        if current == "Noten":
            for line in para.split("[^")[1:]:
                m = _NOTE_DEF.match("[^" + line.strip())
                if m:
                    notes[int(m.group(1))] = m.group(2).strip()
        elif current == "Bronnen":
            sources.extend(x.strip() for x in re.split(r"(?:^|\s)- ", para) if x.strip())
        elif current.startswith("Weggelaten"):
            unsupported.extend(x.strip() for x in re.split(r"(?:^|\s)- ", para) if x.strip())
        else:
            any_prose = any_prose or not is_item
            refs = [int(n) for n in _NOTE_MARK.findall(body)]
            sections[-1].paragraphs.append(Paragraph(_NOTE_MARK.sub("", body).strip(), refs))

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("## "):
            flush()
            current = stripped[3:].strip()
            if current not in ("Noten", "Bronnen") and not current.startswith("Weggelaten"):
                sections.append(LetterSection(current))
        elif stripped.startswith("# ") and current is None:
            continue  # the title: rebuilt from the topic
        elif not stripped or (current in ("Noten", "Bronnen") and stripped.startswith(("[^", "- "))):
            flush()
            if stripped:
                block.append(stripped)
                flush()
        elif current is None and stripped.strip("_") == BOUWSTENEN_LABEL:
            continue
        else:
            if current is None:
                current = ""  # text before the first heading: keep it in an untitled opening section
                sections.append(LetterSection(""))
            block.append(stripped)
    flush()

    sections = [sec for sec in sections if sec.heading or sec.paragraphs]
    by_display = {src.get("display"): src for src in getattr(original, "sources", [])}
    max_note = max(notes, default=0)
    return Letter(
        topic=original.topic,
        mode="tekst" if any_prose else original.mode,
        engine=original.engine,
        sections=sections,
        notes=[notes.get(n, "") for n in range(1, max_note + 1)],
        sources=[by_display.get(d, {"display": d}) for d in sources],
        unsupported=unsupported,
        warnings=list(original.warnings),
        created=original.created,
    )


def write_docx(letter: Any, path: Path) -> Path:
    from assistant.docx_export import write_docx as _write

    path.parent.mkdir(parents=True, exist_ok=True)
    _write(letter, path)
    return path


# --- documents --------------------------------------------------------------------------------------------


def list_documents(settings: Settings, access: Sequence[str]) -> list[Any]:
    """Indexed documents the caller may see (the store lists all; the caller's levels select)."""
    from index.search import get_index

    allowed = set(access)
    docs = get_index(settings).store.list_documents()
    return [d for d in docs if d.access in allowed]


def delete_documents(settings: Settings, doc_ids: Sequence[str], access: Sequence[str]) -> dict[str, Any]:
    """Delete only documents the caller can see; ids outside that set are reported as not found, so a
    public user cannot even learn that an internal id exists."""
    from index.ingest import delete_documents as _delete

    visible = {d.doc_id for d in list_documents(settings, access)}
    wanted = [i for i in doc_ids if i in visible]
    paths = _indexed_paths(settings, wanted)
    result = _delete(wanted, settings) if wanted else {"deleted": {}, "not_found": [], "chunks": 0}
    result["not_found"] = list(result.get("not_found", [])) + [i for i in doc_ids if i not in visible]
    # An uploaded file goes with its document; otherwise re-ingesting the uploads folder would revive it.
    # Files elsewhere (the user's own document folders) are never touched.
    uploads = settings.uploads_path.resolve()
    removed: list[str] = []
    for doc_id in result["deleted"]:
        p = paths.get(doc_id)
        if p is not None and p.parent == uploads:
            for f in (p, p.with_name(p.name + ".meta.toml")):
                f.unlink(missing_ok=True)
            removed.append(p.name)
    result["files_removed"] = removed
    return result


def _indexed_paths(settings: Settings, doc_ids: Sequence[str]) -> dict[str, Path]:
    from contextlib import closing

    from index.ingest import open_manifest
    from index.search import get_index

    with closing(open_manifest(settings, get_index(settings).store)) as manifest:
        recorded = manifest.all()
    return {
        i: Path(recorded[i]["path"]).resolve() for i in doc_ids if i in recorded and recorded[i].get("path")
    }


def status(settings: Settings) -> dict[str, Any]:
    from index.status import index_status

    return dict(index_status(settings))


# --- uploads ----------------------------------------------------------------------------------------------


def safe_upload_name(name: str) -> str:
    """A file name safe to create under ``uploads_path``: no directories, ASCII letters, digits, ``._-``.

    Raises UploadError for types the readers do not handle or names with nothing left after cleaning.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = base.replace("\x00", "")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        raise UploadError(
            f"Bestandstype niet toegestaan: {name!r} (toegestaan: {', '.join(ALLOWED_SUFFIXES)})"
        )
    suffix = "." + suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(
            f"Bestandstype niet toegestaan: {suffix} (toegestaan: {', '.join(ALLOWED_SUFFIXES)})"
        )
    stem = _SAFE_CHARS.sub("_", stem)
    stem = re.sub(r"_+", "_", stem).strip("._-")
    if not stem:
        raise UploadError(f"Ongeldige bestandsnaam: {name!r}")
    return stem[: MAX_NAME_CHARS - len(suffix)] + suffix


def save_upload(src: Path, original_name: str, settings: Settings) -> Path:
    """Copy an uploaded temp file to ``uploads_path`` under a sanitised name.

    A file with the same name is replaced: re-uploading a document is how a user supplies a new version,
    and the incremental ingest then replaces (or skips, if unchanged) the indexed copy.
    """
    name = safe_upload_name(original_name)
    size = Path(src).stat().st_size
    if size > settings.upload_max_mb * 1024 * 1024:
        raise UploadError(f"Bestand te groot: {size / 1e6:.1f} MB (maximaal {settings.upload_max_mb} MB)")
    folder = settings.uploads_path.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / name).resolve()
    if target.parent != folder:  # belt and braces: the name is already stripped of separators
        raise UploadError(f"Ongeldige bestandsnaam: {original_name!r}")
    tmp = target.with_name(f".{name}.part")
    shutil.copyfile(src, tmp)
    tmp.replace(target)
    return target


def write_upload_sidecar(path: Path, access_level: str, user: str | None) -> Path:
    """Record the uploader's access choice beside the file (``NAME.meta.toml``, see corpus/sidecar.py), so
    that a later ``briefing ingest`` of the uploads folder keeps it instead of the reader's own guess."""
    if access_level not in ("openbaar", "intern"):
        raise UploadError(f"Ongeldig toegangsniveau: {access_level!r}")
    lines = [f'access = "{access_level}"']
    if user:
        lines.append(f"uploaded_by = {json.dumps(user, ensure_ascii=False)}")  # JSON strings are TOML strings
    sidecar = path.with_name(path.name + ".meta.toml")
    sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sidecar


def ingest_upload(
    path: Path, settings: Settings, access_level: str, user: str | None = None
) -> dict[str, Any]:
    """Index one saved upload with the uploader's chosen access level.

    Returns a per-file result: {"file", "status": "geïndexeerd"|"ongewijzigd"|"overgeslagen", "reason",
    "doc_ids", "chunks"}.
    """
    from corpus.loader import load_paths
    from corpus.models import ReadError
    from index.ingest import ingest_documents

    write_upload_sidecar(path, access_level, user)
    items = list(load_paths([path]))
    for item in items:
        if not isinstance(item, ReadError) and item.access != access_level:
            # The sidecar should have set it; never index an upload under another level than was chosen.
            item.access = access_level  # type: ignore[assignment]
    docs = [i for i in items if not isinstance(i, ReadError)]
    summary = ingest_documents(items, settings, progress=False)
    result: dict[str, Any] = {"file": path.name, "doc_ids": [d.id for d in docs], "chunks": summary.chunks}
    if summary.skipped or not docs:
        reasons = [s["reason"] for s in summary.skipped] or ["geen tekst gevonden"]
        result.update(status="overgeslagen", reason="; ".join(reasons))
    elif summary.chunks == 0:
        result.update(status="overgeslagen", reason="geen tekst gevonden (gescande PDF zonder tekstlaag?)")
    elif summary.unchanged == len(docs):
        result.update(status="ongewijzigd", reason="al geïndexeerd, inhoud ongewijzigd")
    else:
        result.update(status="geïndexeerd", reason="")
    return result


def upload_and_ingest(
    files: Sequence[tuple[Path, str]],
    settings: Settings,
    access_level: str,
    user: str | None = None,
    on_file: Any = None,
) -> list[dict[str, Any]]:
    """Save and index uploaded files one by one; ``on_file(i, n, name)`` reports progress per file."""
    results: list[dict[str, Any]] = []
    for i, (src, original) in enumerate(files):
        if on_file is not None:
            on_file(i, len(files), original)
        try:
            saved = save_upload(src, original, settings)
        except UploadError as e:
            results.append(
                {"file": Path(original).name, "status": "overgeslagen", "reason": str(e), "doc_ids": []}
            )
            continue
        try:
            results.append(ingest_upload(saved, settings, access_level, user))
        except Exception as e:  # a broken file must not stop the other uploads
            results.append(
                {
                    "file": saved.name,
                    "status": "overgeslagen",
                    "reason": f"{type(e).__name__}: {e}",
                    "doc_ids": [],
                }
            )
    return results
