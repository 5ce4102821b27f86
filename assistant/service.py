"""The thin functions the web app calls. No retrieval logic lives here: each function forwards to the
library the CLI uses (``assistant.answer``, ``assistant.draft``, ``index.ingest``, ``index.status``) and
adds only what a multi-user web front needs: the caller's access levels, upload hygiene, one shared
``Assistant`` per process (the embedding model is loaded once and serves every session).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import unicodedata
import uuid
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


def delete_documents(
    settings: Settings, doc_ids: Sequence[str], access: Sequence[str], user: str | None = None
) -> dict[str, Any]:
    """Delete only documents the caller can see; ids outside that set are reported as not found, so a
    public user cannot even learn that an internal id exists. Each deletion goes into the audit log."""
    from index.ingest import delete_documents as _delete

    visible = {d.doc_id: d for d in list_documents(settings, access)}
    wanted = [i for i in doc_ids if i in visible]
    paths = _indexed_paths(settings, wanted)
    if wanted:
        from index.search import get_index

        with get_index(settings).write_lock:
            result = _delete(wanted, settings)
    else:
        result = {"deleted": {}, "not_found": [], "chunks": 0}
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
    for doc_id, chunks in result["deleted"].items():
        p = paths.get(doc_id)
        audit(
            settings,
            user=user,
            action="delete",
            status="verwijderd",
            doc_id=doc_id,
            doc_hash=visible[doc_id].doc_hash or None,
            access=visible[doc_id].access,
            file=p.name if p is not None else None,
            chunks=chunks,
        )
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
#
# An upload never replaces another document silently: the file is read in a private staging folder
# (``uploads/.incoming``, hidden, so `briefing ingest uploads` never sees it), its document id is compared
# with the index, and only then is it placed in ``uploads`` under a free file name. An id already in use gets
# a suffix (``nota-4730561-2``) unless the uploader asks to replace it and may delete documents. The id is
# written into the file's sidecar, so a later `briefing ingest` of the uploads folder gives the same id.
# A refused upload leaves no file behind. Every upload, replacement, refusal and deletion is appended to the
# audit log (``Settings.audit_path``).

INCOMING = ".incoming"
# File systems allow 255 bytes per name; keep room for a "-NN" suffix and the ".meta.toml" of the sidecar.
MAX_NAME_BYTES = 180

_upload_lock = threading.Lock()
_audit_lock = threading.Lock()


def _name_char(ch: str) -> str:
    """One character of a file name: ASCII letters, digits and ``._-`` as they are; Latin letters with
    accents folded to ASCII (as before); letters, digits and marks of other scripts kept; the rest "_"."""
    if ch.isascii():
        return ch if ch.isalnum() or ch in "._-" else "_"
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    if folded:
        return _SAFE_CHARS.sub("_", folded)
    # Letters, digits and combining marks only: no separators, controls, bidi overrides or invisible format
    # characters, which could disguise a name ("factuur\u202efdp.exe").
    return ch if unicodedata.category(ch)[0] in "LNM" else "_"


def safe_upload_name(name: str) -> str:
    """A file name safe to create under ``uploads_path``: no directories, no control or invisible
    characters; letters and digits of any script (Cyrillic, Greek, Arabic, Chinese ...), ``._-``.

    Raises UploadError for types the readers do not handle or names with nothing left after cleaning.
    """
    base = re.split(r"[\\/]", name)[-1].replace("\x00", "")
    base = unicodedata.normalize("NFC", base)
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
    stem = "".join(_name_char(ch) for ch in stem)
    stem = re.sub(r"_+", "_", stem).strip("._-")
    if not stem:
        raise UploadError(f"Ongeldige bestandsnaam: {name!r}")
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip("._-") + suffix


def _check_upload(src: Path, original_name: str, settings: Settings) -> str:
    """The safe name, or UploadError for a name, type or size that is refused before anything is written."""
    name = safe_upload_name(original_name)
    size = Path(src).stat().st_size
    if size > settings.upload_max_mb * 1024 * 1024:
        raise UploadError(f"Bestand te groot: {size / 1e6:.1f} MB (maximaal {settings.upload_max_mb} MB)")
    if size > settings.max_file_bytes:  # the loader would refuse it too; say so before anything is written
        raise UploadError(
            f"Bestand te groot: {size / 1e6:.1f} MB (maximaal {settings.max_file_bytes / 1e6:.1f} MB, "
            "max_file_bytes)"
        )
    return name


def save_upload(src: Path, original_name: str, settings: Settings) -> Path:
    """Copy an uploaded temp file to ``uploads_path`` under a sanitised name, replacing a file of that name.

    A file-level primitive: ``upload_and_ingest`` (what the app calls) never lets an upload replace another
    document or its file; it picks a free name and id instead (see above).
    """
    name = _check_upload(src, original_name, settings)
    folder = settings.uploads_path.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / name).resolve()
    if target.parent != folder:  # belt and braces: the name is already stripped of separators
        raise UploadError(f"Ongeldige bestandsnaam: {original_name!r}")
    tmp = target.with_name(f".{name}.part")
    try:
        shutil.copyfile(src, tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _toml_string(value: str) -> str:
    # TOML basic string: escape the quote, the backslash and every control character (DEL included, which
    # json.dumps leaves raw); other characters, any script, stand as they are.
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_upload_sidecar(path: Path, access_level: str, user: str | None, doc_id: str | None = None) -> Path:
    """Record the uploader's access choice (and the document id given on upload) beside the file
    (``NAME.meta.toml``, see corpus/sidecar.py), so that a later ``briefing ingest`` of the uploads folder
    keeps them instead of the reader's own guess."""
    if access_level not in ("openbaar", "intern"):
        raise UploadError(f"Ongeldig toegangsniveau: {access_level!r}")
    lines = [f"access = {_toml_string(access_level)}"]
    if doc_id:
        lines.append(f"id = {_toml_string(doc_id)}")
    if user:
        lines.append(f"uploaded_by = {_toml_string(user)}")
    sidecar = path.with_name(path.name + ".meta.toml")
    sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sidecar


# --- audit log ------------------------------------------------------------------------------------------


def audit(settings: Settings, *, user: str | None, action: str, **details: Any) -> dict[str, Any]:
    """Append one record (who, when, what) to the audit log and return it.

    Opened in append mode for every record, never rewritten: a record is one ``write`` of one line, so
    records of concurrent writers do not interleave, and nothing in the product edits or shortens the file.
    """
    from datetime import UTC, datetime

    record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "user": user, "action": action}
    record.update(details)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path = settings.audit_path
    with _audit_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    return record


def read_audit(settings: Settings) -> list[dict[str, Any]]:
    """All audit records, oldest first (a torn last line from a crash is skipped)."""
    path = settings.audit_path
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines: see assistant/feedback.py
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


# --- upload and index -------------------------------------------------------------------------------------


def _indexed(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every indexed document id -> {"path", "doc_hash", "access"}: the store's list (what users see) with
    the manifest's paths."""
    from contextlib import closing

    from index.ingest import open_manifest
    from index.search import get_index

    store = get_index(settings).store
    with closing(open_manifest(settings, store)) as manifest:
        recorded = manifest.all()
    out: dict[str, dict[str, Any]] = {
        i: {"path": r.get("path"), "doc_hash": r.get("doc_hash"), "access": None} for i, r in recorded.items()
    }
    for d in store.list_documents():
        rec = out.setdefault(d.doc_id, {"path": None, "doc_hash": d.doc_hash})
        rec["access"] = d.access
    return out


def _free_id(doc_id: str, taken: set[str]) -> str:
    n = 2
    while f"{doc_id}-{n}" in taken:
        n += 1
    return f"{doc_id}-{n}"


def _free_name(folder: Path, name: str) -> str:
    """``name``, or ``stem-2.ext`` ... : a name no file (or sidecar) in ``folder`` has."""
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while (folder / candidate).exists() or (folder / f"{candidate}.meta.toml").exists():
        n += 1
        candidate = f"{stem}-{n}.{suffix}"
    return candidate


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _refused(file: str, reason: str) -> dict[str, Any]:
    return {"file": file, "status": "overgeslagen", "reason": reason, "doc_ids": [], "chunks": 0}


def _read_one(path: Path, settings: Settings) -> Any:
    """The one document in ``path``, or the reason it cannot be indexed."""
    from corpus.loader import load_paths
    from corpus.models import ReadError

    items = list(load_paths([path], settings))
    reasons = [i.reason for i in items if isinstance(i, ReadError)]
    docs = [i for i in items if not isinstance(i, ReadError)]
    if reasons or len(docs) != 1:
        return "; ".join(reasons) or "geen tekst gevonden"
    return docs[0]


def _index_staged(
    staged: Path,
    settings: Settings,
    access_level: str,
    user: str | None,
    replace: bool,
) -> dict[str, Any]:
    """Decide the id of the staged upload, place it in ``uploads_path`` and index it (see above)."""
    from assistant import auth
    from index.ingest import ingest_documents

    name = staged.name
    write_upload_sidecar(staged, access_level, user)
    doc = _read_one(staged, settings)
    if isinstance(doc, str):
        return _refused(name, doc)
    if doc.access != access_level:  # the sidecar sets it; never index under another level than was chosen
        doc = doc.model_copy(update={"access": access_level})

    indexed = _indexed(settings)
    old = indexed.get(doc.id)
    action, doc_id, note = "upload", doc.id, ""
    if old is not None:
        visible = old.get("access") in auth.access_for(settings, user)
        if replace:
            if not (auth.can_delete(settings, user) and visible):
                return _refused(
                    name,
                    f"document {doc.id} bestaat al; vervangen mag alleen een gebruiker met verwijderrecht",
                )
            action, note = "replace", f"vervangt het bestaande document {doc.id}"
        elif old.get("doc_hash") == doc.content_hash:
            return {
                "file": name,
                "status": "ongewijzigd",
                "reason": "al geïndexeerd, inhoud ongewijzigd",
                "doc_ids": [doc.id],
                "chunks": 0,
                "action": "upload",
                "doc_hash": doc.content_hash,
            }
        else:
            doc_id = _free_id(doc.id, set(indexed))
            # Never say more about a document the uploader may not see than that the id is taken.
            note = f"document-id {doc.id} bestond al; opgeslagen als {doc_id}"

    folder = settings.uploads_path.resolve()
    final = folder / _free_name(folder, name)
    os.replace(staged, final)
    try:
        write_upload_sidecar(final, access_level, user, doc_id)
        if doc_id == doc.id and final.name == name:
            doc = doc.model_copy(update={"path": str(final)})
        else:
            # Read again where it now lives, with the sidecar's id: what `briefing ingest uploads` will read.
            doc = _read_one(final, settings)
            if isinstance(doc, str) or doc.id != doc_id:
                raise _Refusal(
                    doc if isinstance(doc, str) else f"document-id {doc.id} in plaats van {doc_id}"
                )
        summary = ingest_documents([doc], settings, progress=False)
        if summary.skipped or summary.documents != 1:
            raise _Refusal("; ".join(s["reason"] for s in summary.skipped) or "geen tekst gevonden")
        if summary.chunks == 0:
            if action == "upload":
                from index.ingest import delete_documents as _delete

                _delete([doc.id], settings)
            raise _Refusal("geen tekst gevonden (gescande PDF zonder tekstlaag?)")
    except _Refusal as e:
        _remove_with_sidecar(final)
        return _refused(name, str(e))
    except BaseException:
        _remove_with_sidecar(final)
        raise

    removed: list[str] = []
    old_path = Path(old["path"]).resolve() if old is not None and old.get("path") else None
    if action == "replace" and old_path is not None and old_path.parent == folder and old_path != final:
        # The replaced upload's own file would otherwise come back as a second copy of this id on the next
        # `briefing ingest` of the uploads folder. Files outside uploads are the user's; never touched.
        _remove_with_sidecar(old_path)
        removed.append(old_path.name)
    return {
        "file": name,
        "saved_as": final.name,
        "status": "geïndexeerd",
        "reason": note,
        "doc_ids": [doc.id],
        "chunks": summary.chunks,
        "action": action,
        "replaced": doc.id if action == "replace" else None,
        "replaced_hash": old.get("doc_hash") if action == "replace" and old else None,
        "doc_hash": doc.content_hash,
        "files_removed": removed,
    }


def _remove_with_sidecar(path: Path) -> None:
    for f in (path, path.with_name(path.name + ".meta.toml")):
        f.unlink(missing_ok=True)


class _Refusal(Exception):
    """An upload refused after it was placed: its files are removed again."""


def _upload_one(
    src: Path,
    original: str,
    settings: Settings,
    access_level: str,
    user: str | None,
    replace: bool,
    *,
    move: bool = False,
) -> dict[str, Any]:
    """``move``: ``src`` is already in ``uploads_path`` (``save_upload``); take it out rather than copy it."""
    try:
        name = _check_upload(src, original, settings)
    except UploadError as e:
        if move:
            _remove_with_sidecar(src)
        return _refused(Path(original).name, str(e))
    incoming = settings.uploads_path / INCOMING
    with _upload_lock:
        # Anything still in the staging folder is from an upload killed midway (uploads run one at a time).
        shutil.rmtree(incoming, ignore_errors=True)
        staging = incoming / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            staged = staging / name
            if move:
                os.replace(src, staged)
                _remove_with_sidecar(src)
            else:
                shutil.copyfile(src, staged)
            sha = _sha256(staged)
            result = _index_staged(staged, settings, access_level, user, replace)
            result["sha256"] = sha
            return result
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                incoming.rmdir()  # only if empty: the uploads folder holds uploads and nothing else


def _audit_upload(
    settings: Settings, user: str | None, access_level: str, replace: bool, result: dict[str, Any]
) -> None:
    action = result.get("action") or ("replace" if replace else "upload")
    audit(
        settings,
        user=user,
        action=action,
        status=result["status"],
        file=result["file"],
        saved_as=result.get("saved_as"),
        doc_id=(result.get("doc_ids") or [None])[0],
        sha256=result.get("sha256"),
        doc_hash=result.get("doc_hash"),
        access=access_level,
        replaced_hash=result.get("replaced_hash"),
        reason=result.get("reason") or None,
    )


def ingest_upload(
    path: Path, settings: Settings, access_level: str, user: str | None = None, *, replace: bool = False
) -> dict[str, Any]:
    """Index one saved upload (``save_upload``) with the uploader's chosen access level, under the rules
    of ``upload_and_ingest``: the file is taken out of ``uploads_path`` and placed back under a free name,
    or not at all if it is refused.

    Returns a per-file result: {"file", "status": "geïndexeerd"|"ongewijzigd"|"overgeslagen", "reason",
    "doc_ids", "chunks", ...}.
    """
    saved = Path(path)
    try:
        result = _upload_one(saved, saved.name, settings, access_level, user, replace, move=True)
    except Exception as e:  # noqa: BLE001 - reported per file, like upload_and_ingest
        result = _refused(saved.name, f"{type(e).__name__}: {e}")
    _audit_upload(settings, user, access_level, replace, result)
    return result


def upload_and_ingest(
    files: Sequence[tuple[Path, str]],
    settings: Settings,
    access_level: str,
    user: str | None = None,
    on_file: Any = None,
    *,
    replace: bool = False,
) -> list[dict[str, Any]]:
    """Save and index uploaded files one by one; ``on_file(i, n, name)`` reports progress per file.

    ``replace`` asks to replace an indexed document with the same id; it is honoured only for a user who
    may delete documents (``auth.can_delete``), and recorded in the audit log either way.
    """
    from index.search import get_index

    results: list[dict[str, Any]] = []
    write_lock = get_index(settings).write_lock
    for i, (src, original) in enumerate(files):
        if on_file is not None:
            on_file(i, len(files), original)
        try:
            # One write run at a time: an ingest the CLI sent to the app must not interleave with this one
            # (its reconcile would take a half-written upload for debris of a killed run).
            with write_lock:
                result = _upload_one(Path(src), original, settings, access_level, user, replace)
        except Exception as e:  # a broken file must not stop the other uploads
            result = _refused(Path(original).name, f"{type(e).__name__}: {e}")
        _audit_upload(settings, user, access_level, replace, result)
        results.append(result)
    return results
