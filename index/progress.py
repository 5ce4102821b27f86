"""How far a running ingest is, and how long it will still take: for the app's upload and the CLI's bar.

``ingest_documents`` reports to a listener; ``IngestProgress`` is what it reports. The estimate counts only
the texts the model still has to read (cached vectors are free) and weighs them by padded words, the way
the embedder batches them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from corpus.models import Document
from corpus.settings import Settings


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest stands, for a progress display (the app's upload, the CLI through the app).

    ``units`` are the texts written as points: chunks, sentences and parliamentary units. The time left is
    estimated from the model's measured speed over the texts the model still has to read: texts already in
    the embedding cache cost the model nothing, and counting them would make the estimate far too short."""

    document: str  # path of the document being indexed; "" before the first and after the last
    doc_id: str  # its id, or ""
    documents_done: int
    documents_total: int  # documents this run (re)indexes: unchanged and refused ones are not counted
    units_done: int
    units_total: int
    model_units_done: int  # of the units, those the model read (they were not in the embedding cache)
    model_units_total: int
    elapsed_seconds: float  # since the ingest started
    rate: float | None  # texts the model embedded per second since it started; None before the first
    # From the model's recent speed per (padded) word, not from ``rate``: a chunk costs the model as much as
    # ~7 sentences. None until the model has read its first slice; 0.0 when it has nothing left to read.
    eta_seconds: float | None

    @property
    def finished(self) -> bool:
        return self.documents_done == self.documents_total and self.units_done == self.units_total

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "doc_id": self.doc_id,
            "documents_done": self.documents_done,
            "documents_total": self.documents_total,
            "units_done": self.units_done,
            "units_total": self.units_total,
            "model_units_done": self.model_units_done,
            "model_units_total": self.model_units_total,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
            "rate": None if self.rate is None else round(self.rate, 3),
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
        }


ProgressListener = Callable[[IngestProgress], None]

# The listener of ingests run in this context when the caller passes none: the app's upload reaches
# ingest_documents through the upload service, which has no parameter to carry one.
_listener: ContextVar[ProgressListener | None] = ContextVar("ingest_progress_listener", default=None)


@contextmanager
def reporting_progress(listener: ProgressListener | None) -> Iterator[None]:
    """Ingests run inside this block (same thread or task) report to ``listener`` unless given their own."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


class _Progress:
    """Counts for ``IngestProgress`` and the estimate of the time left, reported to one listener."""

    # Keys looked up in the embedding cache at a time: bounds the vectors held while planning.
    _LOOKUP = 4000
    # The estimate follows the model's speed over about the last minute, not the whole run: these machines
    # are shared and their load changes within minutes (measured here: the same 16 sentences took 2.4 s to
    # 11 s from one minute to the next).
    _HALF_LIFE = 60.0

    def __init__(
        self, todo: list[tuple[Document, list]], idx: Any, listener: ProgressListener, started: float
    ):
        self.listener = listener
        self.started = started
        self.embedder = idx.embedder
        self.documents_total = len(todo)
        self.units_total = sum(len(nodes) for _, nodes in todo)
        self.documents_done = 0
        self.units_done = 0
        self.document = self.doc_id = ""
        self.units_before = 0
        # What the model still has to read: (prompt + text) keys not in the cache, each with its cost. A text
        # in several documents is read once; after that it is in the cache.
        self.pending = self._uncached(todo, idx.settings)
        self.model_units_total = len(self.pending)
        self.work_total = sum(self.pending.values())
        self.model_units_done = 0
        self.work_done = 0
        self.clock: float | None = None  # when the model started; its loading is no part of the rate
        self.last = 0.0  # when the model last finished a slice
        self.recent_seconds = 0.0  # time and work of the slices, each weighed down by the time since
        self.recent_work = 0.0
        self.broken = False

    def _keys(self, nodes: Sequence[Any]) -> list[tuple[bytes, str]]:
        """Each node's embedding cache key, with the prompt the embedder gives it."""
        from index.embeddings import EmbeddingCache

        prompt_for = self.embedder.embedder.document_prompt
        keyed = []
        for n in nodes:
            prompt = prompt_for(n.metadata["embed_title"])
            keyed.append((EmbeddingCache.key(prompt, n.text), prompt))
        return keyed

    def _uncached(self, todo: list[tuple[Document, list]], settings: Settings) -> dict[bytes, int]:
        """The texts the model will read, each with its share of the model's work, in padded words.

        The model's time is about proportional to the words it reads (bench/bench_batch.py, 5 Handelingen
        items, 2026-12-02: chunks of 138 words 114 ms, sentences of 16 words 16 ms; 0.8 ms per word with the
        prompt's 4), padding included: a batch reads each text at the length of its longest. So the run's
        batches are laid out here as the embedder will make them: per slice, the texts not in the cache (nor
        earlier in the run), per prompt, in ``_token_batches``. Counting texts instead makes the estimate
        after a slice of sentences several times too short for the chunks after it; counting words without
        padding, too long after a small document's mixed batch (one cold 3-document run here: the first
        estimate 2.8x the time it took, against 0.8x with padding)."""
        from index.embeddings import _token_batches
        from index.ingest import _embedding_slices  # the ingest's own slicing (imported late: it imports us)

        model_id = self.embedder.model_id
        work: dict[bytes, int] = {}
        for _, nodes in todo:  # one document at a time: only the texts the model reads are kept
            _, slices = _embedding_slices(nodes, settings)
            keyed = self._keys(nodes)
            keys = list(dict.fromkeys(k for k, _ in keyed))
            cached: set[bytes] = set()
            for start in range(0, len(keys), self._LOOKUP):
                cached.update(self.embedder.cache.get_many(model_id, keys[start : start + self._LOOKUP]))
            for part in slices:
                groups: dict[str, list[int]] = {}  # prompt -> node indexes the model reads, in order
                for i in part:
                    key, prompt = keyed[i]
                    if key not in cached and key not in work:
                        work[key] = 0
                        groups.setdefault(prompt, []).append(i)
                for prompt, members in groups.items():
                    words = [len(nodes[i].text.split()) for i in members]
                    for batch in _token_batches(
                        [nodes[i].text for i in members], settings.embedding_batch_size
                    ):
                        width = len(prompt.split()) + max(words[j] for j in batch)
                        for j in batch:
                            work[keyed[members[j]][0]] = width
        return work

    def start_model(self) -> None:
        """Load the model now if it will be needed, so that the first slice's rate is the model's own."""
        model = self.embedder.embedder
        if self.pending and not model.loaded:
            # A model that cannot load fails each document's embedding instead, reported per document.
            with contextlib.suppress(Exception):
                # One short text after loading: the first forward pass carries about a second of one-off
                # set-up (measured here), which would be charged to the first slice's speed.
                model.encode(["opwarmen"], [model.document_prompt(None)], "document")
        self.clock = self.last = time.monotonic()

    def begin(self, doc: Document) -> None:
        self.document, self.doc_id = doc.path, doc.id
        self.units_before = self.units_done
        self.report()

    def advance(self, nodes: Sequence[Any], by_model: bool) -> None:
        if not nodes:
            return
        self.units_done += len(nodes)
        work = 0
        if by_model:
            for key, _ in self._keys(nodes):
                cost = self.pending.pop(key, None)
                if cost is not None:
                    self.model_units_done += 1
                    work += cost
        if work:
            # Everything since the model's last slice is this slice's cost: store writes and cached texts
            # in between are part of what the remaining work will take too.
            now = time.monotonic()
            seconds, self.last = now - self.last, now
            decay = 0.5 ** (seconds / self._HALF_LIFE)
            self.recent_seconds = self.recent_seconds * decay + seconds
            self.recent_work = self.recent_work * decay + work
            self.work_done += work
        self.report()

    def end(self, nodes: Sequence[Any], failed: bool) -> None:
        self.documents_done += 1
        self.units_done = self.units_before + len(nodes)  # a failed document counts as done, like the bar
        if failed:
            # What it did not reach is no longer work for the model in this run.
            for key, _ in self._keys(nodes):
                cost = self.pending.pop(key, None)
                if cost is not None:
                    self.model_units_total -= 1
                    self.work_total -= cost
        self.report()

    def finish(self) -> None:
        self.document = self.doc_id = ""
        self.report()

    def snapshot(self) -> IngestProgress:
        now = time.monotonic()
        model_seconds = now - self.clock if self.clock is not None else 0.0
        rate = self.model_units_done / model_seconds if self.model_units_done and model_seconds > 0 else None
        left = self.work_total - self.work_done
        if left <= 0 or self.documents_done == self.documents_total:
            eta: float | None = 0.0
        elif self.recent_work > 0:
            eta = left * self.recent_seconds / self.recent_work
        else:
            eta = None
        return IngestProgress(
            document=self.document,
            doc_id=self.doc_id,
            documents_done=self.documents_done,
            documents_total=self.documents_total,
            units_done=self.units_done,
            units_total=self.units_total,
            model_units_done=self.model_units_done,
            model_units_total=self.model_units_total,
            elapsed_seconds=now - self.started,
            rate=rate,
            eta_seconds=eta,
        )

    def report(self) -> None:
        if self.broken:
            return
        try:
            self.listener(self.snapshot())
        except Exception:  # a failing display must not fail the ingest (or count as a failed document)
            self.broken = True
            logging.getLogger(__name__).warning(
                "ingest progress listener failed; not called again", exc_info=True
            )


def _start_progress(
    todo: list[tuple[Document, list]], idx: Any, listener: ProgressListener, started: float
) -> _Progress | None:
    try:
        tracker = _Progress(todo, idx, listener, started)
    except Exception:  # e.g. the cache unreadable: the ingest reports its own errors; it runs without display
        logging.getLogger(__name__).warning("ingest progress cannot be estimated", exc_info=True)
        return None
    tracker.report()
    tracker.start_model()
    return tracker


def progress_bar(total: int, enabled: bool = True) -> Any:
    """The CLI's bar on stderr: texts (chunks, sentences, units) embedded of ``total``."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="chunk",
        desc="ingest",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )
