"""`briefing status`: what is indexed where, with which model. Never loads the embedding model."""

from __future__ import annotations

from contextlib import closing
from typing import Any

from corpus.settings import Settings


def index_status(settings: Settings) -> dict[str, Any]:
    from index.ingest import open_manifest
    from index.search import get_index

    store = get_index(settings).store
    kind, _, location = store.description.partition(":")
    docs = store.list_documents()
    with closing(open_manifest(settings, store)) as manifest:
        recorded = manifest.all()
    by_kind: dict[str, int] = {}
    for d in docs:
        by_kind[d.kind or "?"] = by_kind.get(d.kind or "?", 0) + 1
    try:
        from index.models_install import resolve_model_path

        model_path: str | None = str(resolve_model_path(settings))
    except Exception:  # status must work before the model is installed
        model_path = None
    return {
        "store": kind or settings.store,
        "location": location or store.description,
        "collection": settings.collection,
        "model": settings.embedding_model,
        "model_path": model_path,
        "dim": settings.embedding_dim,
        "dtype": settings.embedding_dtype,
        "documents": len(docs),
        "chunks": store.count(),
        "by_kind": by_kind,
        # Documents in the store but not (completely) recorded: an interrupted ingest; the next one repairs.
        "incomplete": sorted(d.doc_id for d in docs if d.doc_id not in recorded),
        "home": str(settings.home),
    }
