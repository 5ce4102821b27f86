"""The store interface every vector store implements, and the records that cross it.

Kept deliberately small (add, delete by document, hybrid query with filters, count, list documents) so
that the embedded engine (Qdrant Edge) and qdrant-client (server, cluster or local mode) can be checked
against each other by one conformance suite (``tests/test_store_conformance.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

RetrievalMode = Literal["hybrid", "dense", "bm25"]


class SparseVector(BaseModel):
    indices: list[int]
    values: list[float]


class ChunkRecord(BaseModel):
    """One chunk ready to store: a stable point id, both vectors, and the payload shown with a hit."""

    id: str  # a UUID string, derived deterministically from (doc_id, chunk position, chunk hash)
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]  # must hold doc_id, text, chunk_hash, access, kind, ... (see index/chunking.py)


class Filters(BaseModel):
    """Payload filters. Every field set must hold (AND); list values mean any-of (OR)."""

    match: dict[str, str | list[str]] = Field(default_factory=dict)  # e.g. {"access": "openbaar"}
    date_from: str | None = None  # ISO date, inclusive, compared on payload "date"
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not self.match and not self.date_from and not self.date_to


class QuerySpec(BaseModel):
    """One query of a batch: the same arguments as ``VectorStore.query``."""

    dense: list[float] | None = None
    sparse: SparseVector | None = None
    limit: int = 10
    filters: Filters | None = None
    mode: RetrievalMode = "hybrid"
    prefetch: int = 50
    # Exact (brute-force) dense search instead of the HNSW index: reproducible results, affordable up to
    # some 100k points (``Settings.exact_search_points``).
    exact: bool = False


class Hit(BaseModel):
    id: str
    score: float
    payload: dict[str, Any]


class DocumentInfo(BaseModel):
    doc_id: str
    title: str = ""
    kind: str = ""
    access: str = ""
    date: str | None = None
    doc_hash: str = ""
    chunks: int = 0  # chunk points (what a user calls the document's passages)
    points: int = 0  # every point of the document: chunks and their sentences


@runtime_checkable
class VectorStore(Protocol):
    def add(self, chunks: Sequence[ChunkRecord]) -> None: ...

    def delete_document(self, doc_id: str) -> int:
        """Remove every point of a document; returns how many were removed."""
        ...

    def query(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        limit: int = 10,
        filters: Filters | None = None,
        mode: RetrievalMode = "hybrid",
        prefetch: int = 50,
    ) -> list[Hit]: ...

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        """Several queries in one engine call; one list of hits per spec, in order, each exactly what
        ``query(**spec)`` returns."""
        ...

    def count(self, filters: Filters | None = None) -> int: ...

    def list_documents(self) -> list[DocumentInfo]: ...

    def flush(self) -> None: ...

    def optimize(self) -> bool:
        """Housekeeping after a large batch of writes or deletes (Qdrant Edge: build HNSW, refresh BM25
        statistics); a no-op where the engine does it itself. Returns whether anything was done."""
        ...

    def close(self) -> None: ...

    @property
    def description(self) -> str:
        """Kind and location, e.g. ``qdrant-edge:/home/u/.local/share/briefing-assistant/store``."""
        ...


# --- Shared by every implementation (added with the stores) ---------------------------------------------

DENSE_VECTOR = "dense"  # named dense vector, cosine, size settings.embedding_dim
SPARSE_VECTOR = "bm25"  # named sparse vector, BM25 term weights; IDF applied by the engine (Modifier.IDF)
RRF_K = 60  # the usual reciprocal-rank-fusion constant; the same in every store so they rank alike

# Engines order equal scores arbitrarily (by internal offsets that change on reopen and differ between
# engines). Stores fetch a few extra hits and break ties by point id, so results are reproducible.
TIE_MARGIN = 4

# Payload fields with a keyword index in every store; `Filters.match` is meant for these.
KEYWORD_INDEX_FIELDS: tuple[str, ...] = (
    "doc_id",
    "access",
    "kind",
    "dossier",
    "kamerstukken",
    "language",
    "speaker",
    "unit",  # "chunk", "sentence" (index/chunking.py) or a unit kind: "motie", "stemming", ... (index/units.py)
    "chunk_id",  # a sentence's chunk; a chunk's own id
    # Parliamentary units (index/units.py): the motion's own Kamerstuk id, its status, who submitted it.
    "unit_id",
    "status",
    "indieners",
    "fracties",
)
# Integer yyyymmdd derived from payload "date" inside each store's add(), so that date ranges are a numeric
# range filter in every engine (string dates cannot be range-filtered; datetime indexes reject "2018").
DATE_INT_FIELD = "date_int"
# Payload fields aggregated by list_documents().
DOCUMENT_FIELDS: tuple[str, ...] = ("doc_id", "title", "kind", "access", "date", "doc_hash", "unit")


class QueriesInBatches:
    """``VectorStore.query`` for stores whose engine call is ``query_batch``: one query is a batch of one."""

    def query_batch(self, specs: Sequence[QuerySpec]) -> list[list[Hit]]:
        raise NotImplementedError

    def query(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        limit: int = 10,
        filters: Filters | None = None,
        mode: RetrievalMode = "hybrid",
        prefetch: int = 50,
    ) -> list[Hit]:
        spec = QuerySpec(
            dense=None if dense is None else list(dense),
            sparse=sparse,
            limit=limit,
            filters=filters,
            mode=mode,
            prefetch=prefetch,
        )
        return self.query_batch([spec])[0]


class StoreConfigError(ValueError):
    """An existing store does not match the configuration (e.g. another embedding size)."""


class StoreBusyError(RuntimeError):
    """An embedded store is open in another process (or twice in this one); it allows one writer.

    ``holder`` says who holds it, when the holder took the store's lock (``StoreLock``)."""

    def __init__(self, message: str, holder: LockHolder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


def date_to_int(value: object, *, upper: bool = False) -> int | None:
    """ISO ``yyyy[-mm[-dd]]`` (anything after the date is ignored) as ``yyyymmdd``.

    A partial date is padded so that a range stays inclusive: as a lower bound "2018" means 20180000, as an
    upper bound (``upper=True``) 20189999. Returns None for anything that is not such a date.
    """
    if not isinstance(value, str):
        return None
    parts = value.strip()[:10].split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4:
        return None
    digits = parts[0]
    for p in parts[1:3]:
        if not (p.isdigit() and len(p) == 2):
            break
        digits += p
    pad = "9" if upper else "0"
    return int(digits.ljust(8, pad))


class NoMatch(Exception):
    """A filter that can match nothing (an empty any-of list): skip the engine call."""


def public_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as the caller added it: internal fields the store derived are removed."""
    out = dict(payload or {})
    out.pop(DATE_INT_FIELD, None)
    return out


def date_bounds(filters: Filters) -> tuple[int | None, int | None]:
    """The inclusive ``date_int`` range of a filter; ValueError for a bound that is not an ISO date."""
    lo = date_to_int(filters.date_from) if filters.date_from else None
    hi = date_to_int(filters.date_to, upper=True) if filters.date_to else None
    if filters.date_from and lo is None:
        raise ValueError(f"date_from is not an ISO date: {filters.date_from!r}")
    if filters.date_to and hi is None:
        raise ValueError(f"date_to is not an ISO date: {filters.date_to!r}")
    return lo, hi


def rank(hits: list[Hit], limit: int) -> list[Hit]:
    """Best first, equal scores by point id; then cut to ``limit``."""
    return sorted(hits, key=lambda h: (-h.score, h.id))[:limit]


def documents_from_payloads(payloads: Sequence[dict[str, Any]]) -> list[DocumentInfo]:
    """One DocumentInfo per doc_id, chunks counted; the first chunk seen supplies the metadata."""
    docs: dict[str, DocumentInfo] = {}
    for p in payloads:
        doc_id = p.get("doc_id")
        if not doc_id:
            continue
        info = docs.get(doc_id)
        if info is None:
            info = docs[doc_id] = DocumentInfo(
                doc_id=doc_id,
                title=p.get("title") or "",
                kind=p.get("kind") or "",
                access=p.get("access") or "",
                date=p.get("date"),
                doc_hash=p.get("doc_hash") or "",
            )
        info.points += 1
        if p.get("unit", "chunk") == "chunk":
            info.chunks += 1
    return sorted(docs.values(), key=lambda d: d.doc_id)


# --- one process per embedded store ---------------------------------------------------------------------------

# The lock file in an embedded store's folder. An exclusive flock on it is taken before the engine is called
# at all: Qdrant Edge 0.9 refuses a second process only after it has started opening the shard's files, and
# that half-open already corrupts the holder (its next flush fails: "tracker_journal.dat is shorter than
# expected"). The file is never deleted: removing a lock file while others wait on it would let two
# processes each lock a different inode.
LOCK_NAME = ".briefing.lock"

# What this process does with a store it holds ("serve", "ingest", "search", ...), written into the lock
# file so that a refused opener can say who is in the way. Set with ``set_store_role``.
_role: str | None = None
_held: weakref.WeakSet[StoreLock] = weakref.WeakSet()
_held_guard = threading.Lock()


@dataclass(frozen=True)
class LockHolder:
    """Who holds a store, as its holder wrote it into the lock file (either field may be unknown)."""

    pid: int | None = None
    role: str | None = None

    def describe(self) -> str:
        """A clause for messages: "another ingest is running (pid 123)"."""
        pid = f" (pid {self.pid})" if self.pid else ""
        if self.role == "ingest":
            return f"another ingest is running{pid}"
        if self.role == "serve":
            return f"the app (briefing serve) is running{pid}"
        if self.role:
            return f"`briefing {self.role}` is running{pid}"
        return f"another process holds it{pid}"


def set_store_role(role: str | None) -> None:
    """Name what this process does with the stores it holds; updates the lock files it holds already
    (the app may have opened its store before it knew it would serve)."""
    global _role
    with _held_guard:
        _role = role
        for lock in list(_held):
            lock.record()


def read_holder(folder: Path | str) -> LockHolder | None:
    """The holder recorded in ``folder``'s lock file; None when nothing was ever recorded there."""
    try:
        raw = (Path(folder) / LOCK_NAME).read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid, role = data.get("pid"), data.get("role")
    return LockHolder(pid=pid if isinstance(pid, int) else None, role=role if isinstance(role, str) else None)


class StoreLock:
    """An exclusive advisory lock (``flock``) on ``<folder>/.briefing.lock``, held while a store is open.

    ``flock`` locks belong to the open file, so a second ``StoreLock`` in the same process is refused too
    (the engine allows one opener, not one per process), and the kernel drops the lock when the holder
    dies, even by SIGKILL: no stale lock is ever left behind. The descriptor is a Python file object so that
    a store dropped without ``close()`` frees its lock when it is collected, as the engine frees its shard.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock now or raise ``StoreBusyError`` (with the holder); never blocks."""
        if self._file is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # 0600: the file names the holder's pid; nothing else in it, but nobody else needs to write it.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        f = os.fdopen(fd, "r+b", buffering=0)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            holder = read_holder(self.folder)
            raise StoreBusyError(
                f"the store at {self.folder} is in use: {(holder or LockHolder()).describe()}", holder
            ) from None
        except BaseException:
            f.close()
            raise
        self._file = f
        with _held_guard:
            _held.add(self)
            self.record()

    @classmethod
    def taken(cls, folder: Path | str, engine: str) -> StoreLock:
        """The lock on ``folder``, held; a busy store raises ``StoreBusyError`` saying that ``engine`` allows
        one process at a time. Stores take it before their engine touches the folder."""
        lock = cls(folder)
        try:
            lock.acquire()
        except StoreBusyError as e:
            raise StoreBusyError(f"{e}; {engine} allows one process at a time", e.holder) from None
        return lock

    def record(self) -> None:
        """Write this process's pid and role into the lock file (only while holding it)."""
        if self._file is None:
            return
        data = json.dumps({"pid": os.getpid(), "role": _role}).encode()
        with contextlib.suppress(OSError):  # the record is a courtesy for messages; the lock is what counts
            self._file.seek(0)
            self._file.truncate()
            self._file.write(data)

    def release(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        with _held_guard:
            _held.discard(self)
        with contextlib.suppress(OSError):
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()
