"""Hybrid search: the query embedded (dense) and BM25-encoded (sparse), fused with RRF in the store.

Also home of the per-process ``Index`` (store + BM25 encoder + lazily loaded embedder): the app searches
many times and ingests uploads in the same process, and an embedded store must be opened only once.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from corpus.settings import Settings
from index.store.base import Filters, Hit, RetrievalMode

# User-facing filter keys -> payload keys.
FILTER_KEYS = {
    "kind": "kind",
    "dossier": "dossier",
    "access": "access",
    "doc_id": "doc_id",
    "language": "language",
    "kamerstuk": "kamerstukken",
    "kamerstukken": "kamerstukken",
    "speaker": "speaker",
}
DATE_KEYS = ("date_from", "date_to")


class SearchHit(BaseModel):
    """One retrieved chunk. ``to_json`` is the `briefing search --json` contract."""

    chunk_id: str
    doc_id: str
    title: str = ""
    kind: str = ""
    date: str | None = None
    access: str = ""
    page: int | None = None
    section: str | None = None
    speaker: str | None = None
    citation: str = ""  # display form of the document ("Kamerstukken II 2017/18, 33763, nr. 141")
    kamerstukken: list[str] = Field(default_factory=list)  # the document's own id + ids cited in the chunk
    score: float = 0.0
    text: str = ""
    language: str = "nl"

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "kind": self.kind,
            "date": self.date,
            "access": self.access,
            "page": self.page,
            "citation": self.citation,
            "kamerstukken": self.kamerstukken,
            "score": self.score,
            "text": self.text,
        }

    @classmethod
    def from_hit(cls, hit: Hit) -> SearchHit:
        p = hit.payload
        return cls(
            chunk_id=str(hit.id),
            doc_id=p.get("doc_id", ""),
            title=p.get("title") or "",
            kind=p.get("kind") or "",
            date=p.get("date"),
            access=p.get("access") or "",
            page=p.get("page"),
            section=p.get("section"),
            speaker=p.get("speaker"),
            citation=p.get("citation") or p.get("title") or p.get("doc_id", ""),
            kamerstukken=list(p.get("kamerstukken") or []),
            score=float(hit.score),
            text=p.get("text") or "",
            language=p.get("language") or "nl",
        )


# --- one index per process ----------------------------------------------------------------------------------


class Index:
    """Store, BM25 encoder and embedder for one settings configuration. The model loads on first use."""

    def __init__(self, settings: Settings) -> None:
        from index.store import bm25_encoder, open_store

        self.settings = settings
        self.store = open_store(settings)
        self.bm25 = bm25_encoder()
        self._embedder: Any = None
        self.lock = threading.RLock()

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from index.embeddings import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def model_id(self) -> str:
        # Recorded in the manifest: a different model means every vector must be recomputed. The embedder
        # derives it from the weights' hash without loading the model.
        return str(self.embedder.model_id)

    def close(self) -> None:
        self.store.close()


_INDEXES: dict[tuple, Index] = {}
_INDEXES_LOCK = threading.Lock()


def _index_key(settings: Settings) -> tuple:
    return (
        str(settings.home.resolve()),
        settings.store,
        settings.qdrant_url,
        str(settings.qdrant_path) if settings.qdrant_path else None,
        settings.collection,
        settings.embedding_model,
        str(settings.models),
        settings.embedding_dim,
        settings.embedding_dtype,
        str(settings.embedding_cache) if settings.embedding_cache else None,
    )


def get_index(settings: Settings) -> Index:
    key = _index_key(settings)
    with _INDEXES_LOCK:
        idx = _INDEXES.get(key)
        if idx is None:
            idx = _INDEXES[key] = Index(settings)
        return idx


@atexit.register
def close_indexes() -> None:
    """Close every open store (tests call it before reopening a store from another process)."""
    with _INDEXES_LOCK:
        while _INDEXES:
            _, idx = _INDEXES.popitem()
            with contextlib.suppress(Exception):  # closing at exit must never mask the real error
                idx.close()


# --- filters -------------------------------------------------------------------------------------------------


def _values(key: str, value: str | Sequence[str]) -> list[str]:
    raw = [value] if isinstance(value, str) else list(value)
    out = [v.strip() for item in raw for v in str(item).split(",") if v.strip()]
    if key == "kamerstuk":
        # Accept "kst-33763-141" or "Kamerstukken II 2017/18, 33763, nr. 141" as well as "33763-141". Commas
        # inside a display form were split above, so normalise the whole value first.
        from corpus.citations import normalise_id

        whole = normalise_id(value) if isinstance(value, str) else None
        out = [whole] if whole else [normalise_id(v) or v for v in out]
    return out


def build_filters(
    filters: dict[str, Any] | Filters | None, access: Sequence[str] | None = None
) -> Filters | None:
    """User filters (CLI/app keys) plus the role's access levels -> store ``Filters``.

    Returns None when the filters cannot match anything (e.g. access=intern for a public-only role).
    Raises ValueError on an unknown key.
    """
    if isinstance(filters, Filters):
        out = filters.model_copy(deep=True)
    else:
        out = Filters()
        for key, value in (filters or {}).items():
            if value is None or value == "":
                continue
            if key in DATE_KEYS:
                setattr(out, key, str(value).strip())
                continue
            if key not in FILTER_KEYS:
                known = ", ".join([*FILTER_KEYS, *DATE_KEYS])
                raise ValueError(f"unknown filter {key!r}; known filters: {known}")
            vals = _values(key, value)
            if vals:
                out.match[FILTER_KEYS[key]] = vals[0] if len(vals) == 1 else vals
    if access is not None:
        allowed = list(dict.fromkeys(access))
        asked = out.match.get("access")
        if asked is not None:
            asked_list = [asked] if isinstance(asked, str) else asked
            allowed = [a for a in asked_list if a in allowed]
        if not allowed:
            return None
        out.match["access"] = allowed[0] if len(allowed) == 1 else allowed
    return out


# --- searcher -------------------------------------------------------------------------------------------------


class Searcher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index = get_index(settings)

    def search(
        self,
        query: str,
        k: int = 8,
        filters: dict[str, Any] | Filters | None = None,
        mode: RetrievalMode | None = None,
        access: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """Top-k chunks for QUERY. ``access`` (the user's role) is enforced inside the store query."""
        query = query.strip()
        if not query:
            return []
        built = build_filters(filters, access)
        if built is None:
            return []
        mode = mode or self.settings.retrieval_mode
        # Only compute what the mode uses: BM25-only search never loads the model.
        dense = self.index.embedder.embed_query(query) if mode in ("hybrid", "dense") else None
        sparse = self.index.bm25.encode_query(query) if mode in ("hybrid", "bm25") else None
        with self.index.lock:
            hits = self.index.store.query(
                dense=dense,
                sparse=sparse,
                limit=k,
                filters=None if built.is_empty() else built,
                mode=mode,
                prefetch=max(self.settings.prefetch_k, k),
            )
        return [SearchHit.from_hit(h) for h in hits]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 8,
        filters: dict[str, Any] | Filters | None = None,
        mode: RetrievalMode | None = None,
        access: Sequence[str] | None = None,
    ) -> list[list[SearchHit]]:
        return [self.search(q, k=k, filters=filters, mode=mode, access=access) for q in queries]
