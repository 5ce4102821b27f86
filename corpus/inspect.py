"""``briefing corpus inspect``: what the readers make of each file, as plain records (the JSON contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.loader import load_paths
from corpus.models import Document, ParliamentaryUnit, ReadError
from corpus.settings import Settings


def _record(doc: Document) -> dict[str, Any]:
    from corpus.citations import find_citations

    text = doc.text
    return {
        "id": doc.id,
        "path": doc.path,
        "kind": doc.kind,
        "title": doc.title,
        "date": doc.date,
        "access": doc.access,
        "pages": doc.pages,
        "chars": len(text),
        "citations": sorted({c.id for c in find_citations(text)}),
        "errors": [],
        "citation": doc.citation,
        "language": doc.language,
        "units": [_unit(u) for u in doc.units],
    }


def _unit(u: ParliamentaryUnit) -> dict[str, Any]:
    """A motion, amendment, toezegging or stemming as ``corpus inspect --json`` lists it."""
    return u.model_dump(mode="json", exclude={"document_id"})


def _error_record(err: ReadError) -> dict[str, Any]:
    return {
        "id": Path(err.path).stem,
        "path": err.path,
        "kind": None,
        "title": None,
        "date": None,
        "access": None,
        "pages": None,
        "chars": None,
        "citations": [],
        "errors": [err.reason],
        "citation": None,
        "language": None,
        "units": [],
    }


def inspect_paths(paths: list[Path], settings: Settings | None = None) -> list[dict[str, Any]]:
    """One record per file under ``paths``: the document's metadata and the citations in its text.
    ``settings`` decide the limits and which folders are the assistant's own (never read)."""
    return [_record(r) if isinstance(r, Document) else _error_record(r) for r in load_paths(paths, settings)]
