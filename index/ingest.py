"""Incremental, idempotent, crash-safe ingest: files -> documents -> chunks -> vectors -> store.

Bookkeeping, per document, in this order:
1. chunk and embed (the slow part; the store is untouched, so a kill here loses nothing);
2. delete the document's old points, upsert the new ones, flush the store;
3. only then record (doc_id, path, doc_hash, n_chunks, model) in a small SQLite manifest.

On start, every document whose store state disagrees with the manifest (chunk count, doc hash, or not in the
manifest at all) is deleted from the store and forgotten, so the run re-ingests it. Point ids are
deterministic, so a killed run plus a rerun ends with exactly the points of a clean run.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus.models import Document, ReadError
from corpus.readers.common import LimitExceeded, ReadLimits, check_text_chars, over_limit
from corpus.settings import Settings
from index.chunking import CHUNK, SENTENCE, document_units, node_payload
from index.progress import ProgressListener, _listener, _start_progress, progress_bar
from index.store.base import ChunkRecord, VectorStore
from index.units import MOTION_KINDS, join_statuses

MANIFEST_NAME = "manifest.sqlite"
# Recorded with the model id: a document indexed under another layout of points (before sentence units)
# is re-indexed by the next ingest, as if the model had changed.
INDEX_FORMAT = "units-4"  # units-4: moties, amendementen, toezeggingen, stemmingen as points
# Points written in one run after which the store's index is rebuilt (Qdrant Edge: HNSW + segment merge).
OPTIMIZE_AFTER = 5000


@dataclass
class IngestSummary:
    documents: int = 0  # read OK in this run
    chunks: int = 0  # chunks of those documents
    sentences: int = 0  # sentence units of those documents (points besides the chunks)
    units: int = 0  # parliamentary units (moties, amendementen, toezeggingen, stemmingen) of those documents
    joined: list[str] = field(default_factory=list)  # motions whose status a vote in this run changed
    embedded: int = 0  # texts (chunks and sentences) the model actually embedded (embedding cache misses)
    unchanged: int = 0
    added: int = 0
    replaced: int = 0
    deleted: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # left half-written by an earlier, killed run
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "sentences": self.sentences,
            "units": self.units,
            "joined": self.joined,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "added": self.added,
            "replaced": self.replaced,
            "deleted": self.deleted,
            "repaired": self.repaired,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        lines = [
            f"{self.documents} documents, {self.chunks} chunks, {self.sentences} sentences "
            f"({self.embedded} embedded) in {self.seconds:.1f} s",
            f"  new {self.added}, replaced {self.replaced}, unchanged {self.unchanged}, deleted {len(self.deleted)}",
        ]
        if self.repaired:
            lines.append(f"  repaired after an interrupted run: {', '.join(self.repaired)}")
        if self.deleted:
            lines.append(f"  deleted: {', '.join(self.deleted)}")
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)}:")
            lines.extend(f"    {s['path']}: {s['reason']}" for s in self.skipped)
        return "\n".join(lines)


# --- manifest ---------------------------------------------------------------------------------------------


class Manifest:
    """What was completely written, per store: (doc_id, path, doc_hash, n_chunks, model).

    ``n_chunks`` counts every point written for the document (chunks and sentences), ``model`` is the
    embedding model id with the index format: either changing means the document is indexed again."""

    def __init__(self, path: Path, store_key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.store_key = store_key
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS documents (store TEXT, doc_id TEXT, path TEXT, doc_hash TEXT,"
            " n_chunks INTEGER, model TEXT, updated REAL, PRIMARY KEY (store, doc_id))"
        )
        self.db.commit()
        from index.units import UnitTable

        self.units = UnitTable(self.db, store_key)

    def all(self) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc_id, path, doc_hash, n_chunks, model FROM documents WHERE store = ?", (self.store_key,)
        )
        return {r[0]: {"path": r[1], "doc_hash": r[2], "n_chunks": r[3], "model": r[4]} for r in rows}

    def put(self, doc_id: str, path: str, doc_hash: str, n_chunks: int, model: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.store_key, doc_id, path, doc_hash, n_chunks, model, time.time()),
        )
        self.db.commit()

    def remove(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM documents WHERE store = ? AND doc_id = ?", (self.store_key, doc_id))
        self.db.execute("DELETE FROM units WHERE store = ? AND doc_id = ?", (self.store_key, doc_id))
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def open_manifest(settings: Settings, store: VectorStore) -> Manifest:
    # Keyed by store description (kind + location) and collection: switching stores must not trust
    # bookkeeping made for another one.
    return Manifest(settings.home / MANIFEST_NAME, f"{store.description}#{settings.collection}")


def reconcile(store: VectorStore, manifest: Manifest) -> list[str]:
    """Make store and manifest agree; return the ids deleted because an earlier run was interrupted."""
    recorded = manifest.all()
    repaired: list[str] = []
    in_store = {d.doc_id: d for d in store.list_documents()}
    for doc_id, info in in_store.items():
        rec = recorded.get(doc_id)
        if (
            rec is None
            or rec["n_chunks"] != info.points
            or (info.doc_hash and rec["doc_hash"] != info.doc_hash)
        ):
            store.delete_document(doc_id)
            manifest.remove(doc_id)
            repaired.append(doc_id)
    for doc_id in recorded:
        if doc_id not in in_store:
            manifest.remove(doc_id)
    manifest.units.keep_only(set(manifest.all()))
    if repaired:
        store.flush()
    return repaired


# --- ingest -----------------------------------------------------------------------------------------------


def _abs(path: str) -> str:
    # Absolute, links kept: a document is recorded under the path it was ingested from, so that removing a
    # link (not its target) and pruning removes the document.
    return os.path.abspath(path)


def _is_under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def ingest_documents(
    items: Iterable[Document | ReadError],
    settings: Settings,
    *,
    progress: bool = True,
    prune_roots: list[Path] | None = None,
    on_progress: ProgressListener | None = None,
) -> IngestSummary:
    """Ingest already-read documents (the app's uploads use this too); see the module docstring.

    ``progress`` shows a bar on stderr; ``on_progress`` (or, without it, the listener of an enclosing
    ``reporting_progress``) is called with an ``IngestProgress`` at the start, at each document, after
    each slice the model embeds, and once at the end (with everything done)."""
    from index.search import get_index

    listener = on_progress or _listener.get()

    started = time.monotonic()
    summary = IngestSummary()
    idx = get_index(settings)
    store = idx.store
    with closing(open_manifest(settings, store)) as manifest:
        summary.repaired = reconcile(store, manifest)
        recorded = manifest.all()
        model = f"{idx.model_id}|{INDEX_FORMAT}|{settings.chunk_vectors}"

        # Chunk everything first (cheap) so the progress bar can show chunks to embed and a real rate.
        todo: list[tuple[Document, list]] = []
        seen: dict[str, str] = {}
        for item in items:
            if isinstance(item, ReadError):
                summary.skipped.append({"path": item.path, "reason": item.reason})
                continue
            doc = item
            if doc.id in seen:
                summary.skipped.append(
                    {"path": doc.path, "reason": f"document id {doc.id!r} is also used by {seen[doc.id]}"}
                )
                continue
            seen[doc.id] = doc.path
            nodes_or_reason = _units_within_limits(doc, settings)
            if isinstance(nodes_or_reason, str):
                # Refused before any embedding; an earlier indexed version of the document stays as it was.
                summary.skipped.append({"path": doc.path, "reason": nodes_or_reason})
                continue
            nodes = nodes_or_reason
            summary.documents += 1
            n_chunks = sum(1 for n in nodes if n.metadata["unit"] == CHUNK)
            n_sentences = sum(1 for n in nodes if n.metadata["unit"] == SENTENCE)
            summary.chunks += n_chunks
            summary.sentences += n_sentences
            summary.units += len(nodes) - n_chunks - n_sentences
            rec = recorded.get(doc.id)
            if (
                rec
                and rec["doc_hash"] == doc.content_hash
                and rec["model"] == model
                and rec["n_chunks"] == len(nodes)
            ):
                summary.unchanged += 1
                if rec["path"] != _abs(doc.path):  # moved, not changed: just remember the new place
                    manifest.put(doc.id, _abs(doc.path), rec["doc_hash"], rec["n_chunks"], model)
                continue
            todo.append((doc, nodes))

        # Smallest first: a large document (within the limits) must not keep the small ones after it waiting.
        todo.sort(key=lambda t: len(t[1]))
        bar = progress_bar(sum(len(n) for _, n in todo), progress and bool(todo))  # chunks and sentences
        tracker = _start_progress(todo, idx, listener, started) if listener is not None else None
        try:
            for doc, nodes in todo:
                bar.set_postfix_str(doc.id[:40], refresh=False)
                if tracker is not None:
                    tracker.begin(doc)
                done = 0

                def advance(part: Sequence[Any], by_model: bool) -> None:
                    nonlocal done
                    done += len(part)
                    bar.update(len(part))
                    if tracker is not None:
                        tracker.advance(part, by_model)

                try:
                    embedded = _write_document(doc, nodes, idx, manifest, model, advance)
                except Exception as e:  # one bad document must not stop the run or lose other documents
                    summary.skipped.append(
                        {"path": doc.path, "reason": f"indexing failed: {type(e).__name__}: {e}"}
                    )
                    bar.update(len(nodes) - done)
                    if tracker is not None:
                        tracker.end(nodes, failed=True)
                    continue
                summary.embedded += embedded
                if doc.id in recorded:
                    summary.replaced += 1
                else:
                    summary.added += 1
                if tracker is not None:
                    tracker.end(nodes, failed=False)
        finally:
            bar.close()

        written = summary.added + summary.replaced
        idx.changed()
        optimize = getattr(store, "optimize", None)
        if optimize is not None and sum(len(n) for _, n in todo) >= OPTIMIZE_AFTER and written:
            # Many new points sit in plain segments that every query scans; build the HNSW index once now.
            with idx.lock:
                optimize()

        if prune_roots is not None:
            summary.deleted = _prune(store, manifest, settings, prune_roots, seen, summary.skipped)
            if summary.deleted:
                store.flush()

        # A vote ingested (or pruned) now may decide a motion indexed in an earlier run, or the other way round.
        summary.joined = join_statuses(idx, manifest.units)
        if summary.joined:
            idx.changed()

        if tracker is not None:
            tracker.finish()

    summary.seconds = time.monotonic() - started
    return summary


def _units_within_limits(doc: Document, settings: Settings) -> list | str:
    """The document's points, or the reason it is refused: too much text or too many chunks (checked before
    anything is embedded), or a failure while splitting it (a regular expression's time limit on a
    pathological text must cost this document, not the run)."""
    try:
        check_text_chars(sum(len(s.text) for s in doc.sections), ReadLimits.from_settings(settings))
        nodes = document_units(doc, settings.chunk_tokens, settings.chunk_overlap)
    except LimitExceeded as e:
        return e.reason
    except Exception as e:  # noqa: BLE001 - one document must never stop the run
        return f"cannot split into chunks: {type(e).__name__}: {e}"
    n_chunks = sum(1 for n in nodes if n.metadata["unit"] == CHUNK)
    if n_chunks > settings.max_chunks_per_document:
        limit = f"{settings.max_chunks_per_document:,}"
        return over_limit("document has", f"{n_chunks:,} chunks", limit, "max_chunks_per_document").reason
    return nodes


def _prune(
    store: VectorStore,
    manifest: Manifest,
    settings: Settings,
    prune_roots: list[Path],
    seen: dict[str, str],
    skipped: list[dict[str, str]],
) -> list[str]:
    """Delete documents recorded under ``prune_roots`` that this run did not read: their file is gone (a
    removed link counts, not its target), or it is now refused by rule (a link out of the folder, the
    assistant's own data). Matched by the path as ingested; a manifest written before links were kept
    recorded targets, so real paths are compared too."""
    from corpus.loader import FileRules, refused_by_rule

    rules = FileRules(settings)

    roots = [Path(os.path.abspath(r)) for r in prune_roots if r.is_dir()]
    real_roots = [r.resolve() for r in roots]
    refused: set[str] = set()
    for s in skipped:
        if refused_by_rule(s["reason"]):
            refused |= {os.path.abspath(s["path"]), os.path.realpath(s["path"])}
    deleted: list[str] = []
    for doc_id, rec in manifest.all().items():
        if doc_id in seen:
            continue
        p = Path(rec["path"])
        under = _is_under(p, roots) or _is_under(Path(os.path.realpath(p)), real_roots)
        # The assistant's own files are never documents, whichever folder they were once read from.
        own = rules.protected_reason(p) is not None
        if (under and not p.exists()) or str(p) in refused or own:
            store.delete_document(doc_id)
            manifest.remove(doc_id)
            deleted.append(doc_id)
    return deleted


def _derived_chunks(nodes: list) -> dict[int, list[int]]:
    """Chunk node index -> indexes of its sentence nodes, for chunks that have any."""
    by_chunk: dict[str, list[int]] = {}
    for j, n in enumerate(nodes):
        if n.metadata["unit"] == SENTENCE:
            by_chunk.setdefault(n.metadata["chunk_id"], []).append(j)
    return {
        i: by_chunk[n.node_id]
        for i, n in enumerate(nodes)
        if n.metadata["unit"] == CHUNK and by_chunk.get(n.node_id)
    }


def _embedding_slices(nodes: list, settings: Settings) -> tuple[dict[int, list[int]], list[list[int]]]:
    """The chunks whose vector derives from their sentences' (chunk node index -> its sentences' indexes),
    and the slices of node indexes that are embedded, in this order."""
    # With chunk_vectors = "sentences" a chunk's vector is the mean of its sentences' (length-weighted):
    # the model reads each text once. Chunks without sentences of their own are embedded as themselves.
    derived = _derived_chunks(nodes) if settings.chunk_vectors == "sentences" else {}
    todo = [i for i in range(len(nodes)) if i not in derived]
    # Embed in slices so the progress bar moves within long documents (a debate has ~1,500 units), in
    # order of length so that each slice batches texts of about one size (sentences with sentences).
    order = sorted(todo, key=lambda i: len(nodes[i].text))
    step = max(64, 4 * settings.embedding_batch_size)
    return derived, [order[start : start + step] for start in range(0, len(order), step)]


def _write_document(
    doc: Document,
    nodes: list,
    idx: Any,
    manifest: Manifest,
    model: str,
    advance: Callable[[Sequence[Any], bool], Any],
) -> int:
    """Embed, replace in the store, flush, then record. Returns how many texts the model embedded.

    ``advance(nodes, by_model)`` is told of each slice of nodes that has its vector: through the embedder
    (``by_model``; from its cache or the model) or derived from other vectors."""
    misses_before = idx.embedder.misses
    dense: list[list[float]] = [[] for _ in nodes]
    derived, slices = _embedding_slices(nodes, idx.settings)
    for part in slices:
        vecs = idx.embedder.embed_documents(
            [nodes[i].text for i in part], titles=[nodes[i].metadata["embed_title"] for i in part]
        )
        for i, v in zip(part, vecs, strict=True):
            dense[i] = v
        advance([nodes[i] for i in part], True)
    for i, parts in derived.items():
        weights = np.array([len(nodes[j].text.split()) for j in parts], dtype=np.float32)
        mean = (np.asarray([dense[j] for j in parts], dtype=np.float32) * weights[:, None]).sum(axis=0)
        dense[i] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist()
    advance([nodes[i] for i in derived], False)
    embedded = idx.embedder.misses - misses_before
    # Motions voted on in documents indexed earlier get their status now (the join covers later votes).
    units = [n for n in nodes if n.metadata["unit"] not in (CHUNK, SENTENCE)]
    motions = any(n.metadata["unit"] in MOTION_KINDS for n in units)
    outcomes = manifest.units.outcomes([n.metadata for n in units]) if motions else {}
    for n in units:
        vote = outcomes.get(n.metadata["unit_id"]) or outcomes.get(n.metadata.get("was") or "")
        if n.metadata["unit"] in MOTION_KINDS and vote:
            n.metadata.update(status=vote["status"], voor=vote.get("voor", []), tegen=vote.get("tegen", []))
    records = [
        ChunkRecord(
            id=n.node_id,
            dense=vec,
            # Sentences have their own BM25 length normalisation (see index/store: bm25_encoder).
            sparse=idx.bm25_for(n.metadata["unit"]).encode_document(n.text),
            payload=node_payload(n),
        )
        for n, vec in zip(nodes, dense, strict=True)
    ]
    # Forget the document before touching the store: if we die in between, the next run's reconcile
    # sees store-without-manifest and rebuilds it.
    with idx.lock:
        manifest.remove(doc.id)
        idx.store.delete_document(doc.id)
        if records:
            idx.store.add(records)
        idx.store.flush()
        manifest.units.replace(doc.id, units, commit=False)
        manifest.put(doc.id, _abs(doc.path), doc.content_hash, len(records), model)
    return embedded


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    progress: bool = True,
    prune: bool = False,
    on_progress: ProgressListener | None = None,
) -> IngestSummary:
    """Read PATHS (files or folders) and ingest them incrementally; ``prune`` deletes documents whose files
    under the given folders are gone. ``on_progress``: see ``ingest_documents``."""
    from corpus.loader import load_paths

    missing = [p for p in paths if not Path(p).exists()]
    items: list[Document | ReadError] = [
        ReadError(path=str(p), reason="file or folder does not exist") for p in missing
    ]
    present = [Path(p) for p in paths if Path(p).exists()]
    if present:
        items.extend(load_paths(present, settings))
    return ingest_documents(
        items, settings, progress=progress, prune_roots=present if prune else None, on_progress=on_progress
    )


def delete_documents(ids: list[str], settings: Settings) -> dict[str, Any]:
    """Remove documents by id from store and manifest. Returns {"deleted": {id: chunks}, "not_found": [...]}."""
    from index.search import get_index

    idx = get_index(settings)
    store = idx.store
    deleted: dict[str, int] = {}
    not_found: list[str] = []
    with closing(open_manifest(settings, store)) as manifest:
        known = manifest.all()
        for doc_id in ids:
            manifest.remove(doc_id)  # its units too: a motion loses the status a deleted vote gave it
            n = store.delete_document(doc_id)
            if n or doc_id in known:
                deleted[doc_id] = n
            else:
                not_found.append(doc_id)
        store.flush()
        join_statuses(idx, manifest.units)
    idx.changed()
    return {"deleted": deleted, "not_found": not_found, "chunks": sum(deleted.values())}
