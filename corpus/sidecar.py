"""Metadata next to a file: ``NAME.meta.toml`` sidecars and ``_folder.meta.toml`` folder manifests.

Precedence, highest first: the file's own sidecar, its ``[files."name.pdf"]`` table in the folder
manifest, the manifest's top-level keys, and finally what the reader found in the file itself.
Keys that are not document fields (``kenmerk``, ``organisation``) go into ``Document.metadata``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from corpus.models import Document

SIDECAR_SUFFIX = ".meta.toml"
FOLDER_MANIFEST = "_folder.meta.toml"
MAX_SIDECAR_BYTES = 1_000_000  # a folder manifest lists many files; a sidecar is a few lines
DOCUMENT_FIELDS = {
    "id",
    "title",
    "date",
    "kind",
    "access",
    "language",
    "dossier",
    "ondernummer",
    "vergaderjaar",
    "kamer",
    "citation",
    "kamerstuk_id",
}
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


class SidecarError(ValueError):
    pass


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def sidecar_for(path: Path) -> Path | None:
    """``nota.meta.toml`` (stem) or ``nota.pdf.meta.toml`` (full name) beside ``nota.pdf``."""
    for candidate in (path.with_name(path.stem + SIDECAR_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    # A sidecar is a few lines written beside a document. Through a link it could be any TOML file, e.g. the
    # assistant's own briefing.toml, whose values would then become document metadata.
    if path.is_symlink():
        raise SidecarError(f"sidecar {path.name} is a symbolic link; not read")
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise SidecarError(f"sidecar {path.name} is over {MAX_SIDECAR_BYTES // 1_000_000} MB; not read")
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SidecarError(f"invalid sidecar {path.name}: {e}") from e
    except OSError as e:
        raise SidecarError(f"cannot read sidecar {path.name}: {e}") from e


class SidecarResolver:
    """Finds and merges the overrides for a file; folder manifests are read once per folder."""

    def __init__(self) -> None:
        self._manifests: dict[Path, dict[str, Any] | SidecarError] = {}

    def _manifest(self, folder: Path) -> dict[str, Any]:
        if folder not in self._manifests:
            path = folder / FOLDER_MANIFEST
            try:
                self._manifests[folder] = _load_toml(path) if path.is_file() else {}
            except SidecarError as e:
                self._manifests[folder] = e
        m = self._manifests[folder]
        if isinstance(m, SidecarError):
            raise m
        return m

    def overrides_for(self, path: Path) -> dict[str, Any]:
        manifest = self._manifest(path.parent)
        merged = {k: v for k, v in manifest.items() if k != "files"}
        files = manifest.get("files", {})
        if isinstance(files, dict):
            per_file = files.get(path.name) or files.get(path.stem) or {}
            if isinstance(per_file, dict):
                merged.update(per_file)
        own = sidecar_for(path)
        if own is not None:
            merged.update(_load_toml(own))
        return merged


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def apply_overrides(doc: Document, overrides: dict[str, Any], source: str = "sidecar") -> Document:
    """A new ``Document`` with ``overrides`` applied; raises ``SidecarError`` on invalid values."""
    if not overrides:
        return doc
    update: dict[str, Any] = {}
    metadata = dict(doc.metadata)
    for key, value in overrides.items():
        if isinstance(value, dict):
            continue  # tables other than [files] mean nothing for one document
        if key == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            value = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
            if not _DATE.match(value):
                raise SidecarError(f"{source}: date {value!r} is not yyyy-mm-dd, yyyy-mm or yyyy")
            update["date"] = value
        elif key == "access":
            if value not in ("openbaar", "intern"):
                raise SidecarError(f"{source}: access must be 'openbaar' or 'intern', not {value!r}")
            update["access"] = value
        elif key == "kamer":
            if str(value) not in ("I", "II"):
                raise SidecarError(f"{source}: kamer must be 'I' or 'II', not {value!r}")
            update["kamer"] = str(value)
        elif key in DOCUMENT_FIELDS:
            text = _text(value).strip()
            if key == "id" and not text:
                raise SidecarError(f"{source}: id must not be empty")
            update[key] = text
        else:
            metadata[key] = _text(value)
    update["metadata"] = metadata
    return Document.model_validate({**doc.model_dump(), **update})
