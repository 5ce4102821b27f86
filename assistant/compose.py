"""The compose stage of the extractive engine: a direct answer, then the supporting points.

The direct answer is the sentence most likely to hold the answer (and a second one when it is nearly as
likely). The points follow from the rest, best first, as long as they are likely enough, add something
(a sentence that repeats a chosen one is skipped) and fit the length: about ``words`` words, or
``words_long`` when the question asks for a list, a history or reasons. Points are ordered the way an
official reads them: chronologically for why and history questions (the year a sentence names, else the
year of the sentence before it in its passage, else the document's date), in document order for lists,
by likelihood otherwise. The question type steers order and length, never whether an answer may be given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.config import ComposeConfig
from assistant.select import Candidate, year_of
from corpus.dutch import question_type
from index.search import SearchHit

LONG_TYPES = ("list", "history", "reason")


@dataclass
class Composition:
    direct: list[Candidate] = field(default_factory=list)
    points: list[Candidate] = field(default_factory=list)

    @property
    def all(self) -> list[Candidate]:
        return [*self.direct, *self.points]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _repeats(c: Candidate, chosen: Sequence[Candidate], limit: float) -> bool:
    return any(
        _jaccard(c.stems, o.stems) > limit or _containment(c.stems, o.stems) > 0.8 or c.text == o.text
        for o in chosen
    )


MAX_LIST_ITEMS = 4


def _passages(ranked: Sequence[Candidate]) -> dict[int, list[Candidate]]:
    """The candidates of each passage (by hit index), in the order they stand in it."""
    out: dict[int, list[Candidate]] = {}
    for c in sorted(ranked, key=lambda c: c.sentence.start):
        out.setdefault(c.hit, []).append(c)
    return out


def _with_list_items(out: Composition, by_chunk: dict[int, list[Candidate]], room: int) -> None:
    """A chosen sentence that introduces a list ("... onvoldoende meerwaarde biedt:") says nothing without
    its items: the list items that follow it in its passage join it (at most ``MAX_LIST_ITEMS``, and only as
    many words as ``room`` leaves)."""
    chosen = {id(c) for c in out.all}
    for part in (out.direct, out.points):
        expanded: list[Candidate] = []
        for c in part:
            expanded.append(c)
            if not c.text.rstrip().endswith(":"):
                continue
            after = [o for o in by_chunk[c.hit] if o.sentence.start > c.sentence.start]
            for item in after[:MAX_LIST_ITEMS]:
                if not item.sentence.bullet:
                    break
                if id(item) not in chosen and item.n_words <= room:
                    expanded.append(item)
                    chosen.add(id(item))
                    room -= item.n_words
        part[:] = expanded


def compose(
    question: str, ranked: Sequence[Candidate], hits: Sequence[SearchHit], config: ComposeConfig
) -> Composition:
    """Choose and order sentences from ``ranked`` (most likely first); ``hits`` are the evidence chunks."""
    if not ranked:
        return Composition()
    qtype = question_type(question)
    budget = config.words_long if qtype in LONG_TYPES else config.words
    best = ranked[0]
    out = Composition(direct=[best])
    used = best.n_words
    for c in ranked[1:]:
        if len(out.direct) >= config.direct_max or c.p < config.direct_ratio * best.p:
            break
        if not _repeats(c, out.direct, config.redundancy) and used + c.n_words <= budget:
            out.direct.append(c)
            used += c.n_words
    floor = max(config.point_min, config.point_ratio * best.p)
    if qtype in ("history", "reason"):
        # A why or history question is answered by the record too: the stukken that the direct answer's
        # documents cite on the way (a kabinetsreactie, a motie, a Kamerbrief), in order of likelihood.
        docs = {hits[c.hit].doc_id for c in out.direct}
        record = [
            c for c in ranked if c.sentence.citations and hits[c.hit].doc_id in docs and c not in out.direct
        ]
        for c in record:
            if len(out.points) >= config.record_points:
                break
            # The record is the backbone of a why/history answer: its stukken are named even when the direct
            # answer already used most of the words (the budget still bounds the other points).
            if not _repeats(c, out.all, config.redundancy):
                out.points.append(c)
                used += c.n_words
    pool = [c for c in ranked[len(out.direct) :] if c.p >= floor]
    for c in pool:
        if len(out.points) >= config.max_points:
            break
        if (
            c in out.direct
            or c in out.points
            or _repeats(c, out.all, config.redundancy)
            or used + c.n_words > budget
        ):
            continue
        out.points.append(c)
        used += c.n_words
    by_chunk = _passages(ranked)
    _with_list_items(out, by_chunk, room=budget + budget // 4 - used)
    if qtype in ("history", "reason"):
        # The record is told in order: a direct sentence that is itself a step of the record (it names a
        # Kamerstuk) joins the chronological points, and the direct answer is the best sentence that states
        # the outcome or reason without being a step; when there is none, the answer stays as chosen.
        steps = [c for c in out.direct if c.sentence.citations]
        if steps:
            rest = [c for c in out.direct if c not in steps]
            if not rest:
                alt = next(
                    (
                        c
                        for c in ranked
                        if not c.sentence.citations
                        and c.p >= floor
                        and c not in out.points
                        and not _repeats(c, out.all, config.redundancy)
                    ),
                    None,
                )
                rest = [alt] if alt is not None else []
            if rest:
                out.points = [c for c in out.points if c not in rest]
                out.direct = rest
                out.points.extend(steps)

        def when(c: Candidate) -> tuple[int, int, int]:
            before = [o for o in by_chunk[c.hit] if o.sentence.start < c.sentence.start]
            return (year_of(c, hits[c.hit], before), c.hit, c.sentence.start)

        out.points.sort(key=when)
    elif qtype == "list":
        out.points.sort(key=lambda c: (c.hit, c.sentence.start))
    return out
