"""Answers with verifiable citations: retrieval, one of two engines, the support check, abstention.

Flow of ``Assistant.ask``:
1. resolve a follow-up against the conversation (``conversation.py``) and apply this question's filters;
2. retrieve (hybrid), plus dense-only and BM25-only top-5 for the agreement signal of the abstention scorer;
3. the engine proposes sentences with markers: extractive (sentences of the passages) or LLM (generated);
4. ``support.py`` checks every sentence against the passage its marker points to; markers that point to
   no passage are removed; sentences without support are dropped and listed under ``unsupported``;
5. ``abstain.py`` decides whether the supported sentences actually answer the question; if not, the answer
   says so and shows the closest passages.
Sources are renumbered 1..n in order of first citation, so every marker in the output has a source.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant import abstain as abstain_mod
from assistant.conversation import Conversation
from assistant.sentences import split_with_markers
from assistant.support import Support, SupportChecker
from corpus.loader import dutch_date
from corpus.settings import Settings
from index.search import SearchHit

ABSTAIN_TEXT = "De geïndexeerde stukken geven geen antwoord op deze vraag."
NO_INDEX_TEXT = "Er zijn (nog) geen stukken geïndexeerd die bij deze vraag passen."
CLOSEST_PASSAGES = 3


def _find_citations(text: str) -> list[Any]:
    from corpus.citations import find_citations

    return find_citations(text)


def _display_for(canonical_id: str) -> str:
    from corpus.citations import display_for

    return display_for(canonical_id)


@dataclass
class AnswerSentence:
    text: str
    source: int | None  # n of the source it rests on; None when unsupported
    support: Support | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "support": self.support.to_json() if self.support else None,
        }


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    engine: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    cited_kamerstukken: list[str] = field(default_factory=list)
    cited_display: dict[str, str] = field(default_factory=dict)  # canonical id -> display form
    unsupported: list[str] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    resolved_question: str = ""
    latency_ms: int = 0
    abstention: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "engine": self.engine,
            "sources": self.sources,
            "cited_kamerstukken": self.cited_kamerstukken,
            "unsupported": self.unsupported,
            "sentences": [s.to_json() for s in self.sentences],
            "cited_display": self.cited_display,
            "resolved_question": self.resolved_question,
            "latency_ms": self.latency_ms,
            "abstention": self.abstention,
            "warnings": self.warnings,
        }

    def render_text(self) -> str:
        lines = [self.answer, ""]
        if self.cited_kamerstukken:
            lines.append(
                "Kamerstukken: " + "; ".join(self.cited_display.get(i, i) for i in self.cited_kamerstukken)
            )
            lines.append("")
        if self.sources:
            lines.append("Dichtstbijzijnde passages:" if self.abstained else "Bronnen:")
            for s in self.sources:
                where = f", p. {s['page']}" if s.get("page") else ""
                date = f" ({s['date']})" if s.get("date") else ""
                lines.append(f"[{s['n']}] {s['citation'] or s['title'] or s['doc_id']}{date}{where}")
                if self.abstained:
                    lines.append("    " + re.sub(r"\s+", " ", s["passage"])[:300])
        if self.unsupported:
            lines.append("")
            lines.append("Weggelaten (niet gesteund door de geciteerde passage):")
            lines.extend(f"  - {u}" for u in self.unsupported)
        for w in self.warnings:
            lines.append(f"Let op: {w}")
        return "\n".join(lines).rstrip()


def _source_json(n: int, hit: SearchHit) -> dict[str, Any]:
    return {
        "n": n,
        "doc_id": hit.doc_id,
        "title": hit.title,
        "kind": hit.kind,
        "date": hit.date,
        "page": hit.page,
        "citation": hit.citation,
        "kamerstukken": hit.kamerstukken,
        "passage": hit.text,
        "score": round(float(hit.score), 4),
        "chunk_id": hit.chunk_id,
        "section": hit.section,
        "speaker": hit.speaker,
    }


def _own_ids(hit: SearchHit) -> list[str]:
    """The document's own canonical id when it is a parliamentary paper (doc id "kst-33763-141", ...)."""
    return [
        k
        for k in hit.kamerstukken
        if hit.doc_id == k or hit.doc_id.endswith("-" + k) or hit.doc_id.endswith(k)
    ]


@dataclass
class Proposal:
    """What an engine proposes: sentences with the (0-based) hit indexes their markers point to."""

    sentences: list[tuple[str, list[int]]]
    raw: str = ""
    invalid_markers: list[int] = field(default_factory=list)


def finalize(
    question: str,
    hits: Sequence[SearchHit],
    proposal: Proposal,
    checker: SupportChecker,
    engine: str,
    dense_ids: Sequence[str] = (),
    bm25_ids: Sequence[str] = (),
    use_abstention: bool = True,
) -> Answer:
    """The shared end of both engines: support check, renumbering, abstention, sources."""
    # 1. Check each sentence against each passage it cites; keep the first passage that supports it.
    pairs: list[tuple[str, str]] = []
    index: list[tuple[int, int]] = []  # (sentence i, hit j)
    for i, (text, cited) in enumerate(proposal.sentences):
        for j in cited:
            pairs.append((text, hits[j].text))
            index.append((i, j))
    results = checker.check_many(pairs) if pairs else []
    support_of: dict[int, tuple[int, Support]] = {}
    best_failed: dict[int, Support] = {}
    for (i, j), res in zip(index, results, strict=True):
        if res.supported and i not in support_of:
            support_of[i] = (j, res)
        elif not res.supported:
            best_failed.setdefault(i, res)

    kept: list[tuple[str, int, Support]] = []
    unsupported: list[str] = []
    for i, (text, _cited) in enumerate(proposal.sentences):
        if i in support_of:
            j, res = support_of[i]
            kept.append((text, j, res))
        else:
            unsupported.append(text)

    # 2. Abstention on the supported sentences only: an unsupported sentence is no evidence.
    used = {j for _, j, _ in kept}
    context = [
        " ".join(filter(None, [hits[j].title, dutch_date(hits[j].date), hits[j].speaker, hits[j].citation]))
        for j in used
    ]
    decision = abstain_mod.decide(question, [t for t, _, _ in kept], dense_ids, bm25_ids, context=context)
    abstained = use_abstention and (decision.abstain or not kept)
    if not kept:
        abstained = True

    if abstained:
        sources = [_source_json(n, h) for n, h in enumerate(hits[:CLOSEST_PASSAGES], 1)]
        text = ABSTAIN_TEXT if hits else NO_INDEX_TEXT
        return Answer(
            question=question,
            answer=text,
            abstained=True,
            engine=engine,
            sources=sources,
            unsupported=unsupported,
            abstention=decision.to_json(),
        )

    # 3. Renumber cited passages 1..n in order of first use.
    number: dict[int, int] = {}
    for _, j, _ in kept:
        number.setdefault(j, len(number) + 1)
    sentences = [AnswerSentence(t, number[j], s) for t, j, s in kept]
    answer_text = " ".join(f"{s.text} [{s.source}]" for s in sentences)
    sources = [_source_json(n, hits[j]) for j, n in sorted(number.items(), key=lambda x: x[1])]

    # 4. The Kamerstukken the answer relies on: cited in its sentences, or the cited document itself.
    cited: dict[str, str] = {}
    for s in sentences:
        for c in _find_citations(s.text):
            cited.setdefault(c.id, c.display)
    for j in number:
        for k in _own_ids(hits[j]):
            cited.setdefault(k, hits[j].citation or _display_for(k))
    return Answer(
        question=question,
        answer=answer_text,
        abstained=False,
        engine=engine,
        sources=sources,
        cited_kamerstukken=list(cited),
        cited_display=cited,
        unsupported=unsupported,
        sentences=sentences,
        abstention=decision.to_json(),
    )


def parse_generated(text: str, n_hits: int) -> Proposal:
    """Generated text -> sentences with 0-based hit indexes; markers outside 1..n_hits are discarded."""
    out: list[tuple[str, list[int]]] = []
    invalid: list[int] = []
    for sentence, markers in split_with_markers(text):
        valid = [m - 1 for m in markers if 1 <= m <= n_hits]
        invalid.extend(m for m in markers if not 1 <= m <= n_hits)
        out.append((sentence, valid))
    return Proposal(out, raw=text, invalid_markers=invalid)


class Assistant:
    def __init__(self, settings: Settings, embedder: Any | None = None, llm: Any | None = None) -> None:
        self.settings = settings
        self._searcher: Any = None
        self._embedder = embedder  # tests and the app may share one loaded model
        self._llm = llm

    @property
    def searcher(self) -> Any:
        if self._searcher is None:
            from index.search import Searcher

            self._searcher = Searcher(self.settings)
        return self._searcher

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = self.searcher.index.embedder
        return self._embedder

    @property
    def llm(self) -> Any:
        if self._llm is None:
            from assistant.llm_engine import LLMEngine

            self._llm = LLMEngine(self.settings)
        return self._llm

    # --- retrieval ---------------------------------------------------------------------------------

    def retrieve(
        self, query: str, filters: dict[str, Any] | None, access: list[str] | None
    ) -> tuple[list[SearchHit], list[str], list[str]]:
        hits = self.searcher.search(query, k=self.settings.top_k, filters=filters, access=access)
        if not hits:
            return [], [], []
        dense = self.searcher.search(query, k=5, filters=filters, mode="dense", access=access)
        bm25 = self.searcher.search(query, k=5, filters=filters, mode="bm25", access=access)
        return hits, [h.doc_id for h in dense], [h.doc_id for h in bm25]

    def _prepare(
        self,
        question: str,
        filters: dict[str, Any] | None,
        history: Conversation | None,
        access: list[str] | None,
    ) -> tuple[str, dict[str, Any], list[SearchHit], list[str], list[str]]:
        resolved, filt = history.resolve(question, filters) if history else (question, dict(filters or {}))
        hits, dense_ids, bm25_ids = self.retrieve(resolved, filt, access)
        return resolved, filt, hits, dense_ids, bm25_ids

    def _extractive(self, question: str, hits: Sequence[SearchHit]) -> Proposal:
        from assistant.extractive import select

        chosen = select(question, hits, embedder=self.embedder)
        return Proposal([(c.text, [c.hit_index]) for c in chosen])

    def _finish(
        self,
        question: str,
        resolved: str,
        filt: dict[str, Any],
        hits: Sequence[SearchHit],
        proposal: Proposal,
        engine: str,
        dense_ids: Sequence[str],
        bm25_ids: Sequence[str],
        history: Conversation | None,
        started: float,
        warnings: list[str],
    ) -> Answer:
        checker = SupportChecker(self.embedder if engine == "llm" else None)
        # The salient terms of a follow-up live in the resolved question.
        answer = finalize(
            resolved,
            hits,
            proposal,
            checker,
            engine,
            dense_ids,
            bm25_ids,
            use_abstention=self.settings.abstention,
        )
        answer.question = question
        answer.resolved_question = resolved
        if proposal.invalid_markers:
            warnings.append(
                "verwijzing naar niet-bestaande passage(s) verwijderd: "
                + ", ".join(f"nr. {m}" for m in proposal.invalid_markers)
            )
        answer.warnings.extend(warnings)
        answer.latency_ms = int((time.perf_counter() - started) * 1000)
        if history is not None:
            history.add(question, resolved, filt, answer)
        return answer

    # --- public API -------------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        engine: str | None = None,
        filters: dict[str, Any] | None = None,
        history: Conversation | None = None,
        access: list[str] | None = None,
    ) -> Answer:
        final: Answer | None = None
        for item in self.ask_stream(question, engine=engine, filters=filters, history=history, access=access):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def ask_stream(
        self,
        question: str,
        engine: str | None = None,
        filters: dict[str, Any] | None = None,
        history: Conversation | None = None,
        access: list[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas as they are produced, then the checked ``Answer`` (always last).

        The deltas are a preview: the final Answer may drop sentences the support check rejects, so a UI
        must replace the streamed text by ``Answer.answer`` at the end.
        """
        started = time.perf_counter()
        resolved, filt, hits, dense_ids, bm25_ids = self._prepare(question, filters, history, access)
        yield from self.stream_from_hits(
            question,
            hits,
            engine=engine,
            resolved=resolved,
            filters=filt,
            dense_ids=dense_ids,
            bm25_ids=bm25_ids,
            history=history,
            started=started,
        )

    def answer_from_hits(self, question: str, hits: Sequence[SearchHit], engine: str | None = None) -> Answer:
        """Answer from given passages (no retrieval): for tests, the eval and the drafting module."""
        final = None
        for item in self.stream_from_hits(question, hits, engine=engine):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream_from_hits(
        self,
        question: str,
        hits: Sequence[SearchHit],
        engine: str | None = None,
        resolved: str | None = None,
        filters: dict[str, Any] | None = None,
        dense_ids: Sequence[str] = (),
        bm25_ids: Sequence[str] = (),
        history: Conversation | None = None,
        started: float | None = None,
    ) -> Iterator[str | Answer]:
        started = started if started is not None else time.perf_counter()
        engine = engine or self.settings.engine
        resolved = resolved or question
        hits = list(hits)
        warnings: list[str] = []
        if not hits:
            proposal = Proposal([])
        elif engine == "llm":
            from assistant.llm_engine import LLMError

            parts: list[str] = []
            try:
                for delta in self.llm.answer_stream(resolved, hits):
                    parts.append(delta)
                    yield delta
                proposal = parse_generated("".join(parts), len(hits))
            except LLMError as e:
                # A broken endpoint must not leave the user without an answer: fall back, and say so.
                warnings.append(f"{e}; antwoord zonder taalmodel (extractief) gegeven")
                engine = "extractive"
                proposal = self._extractive(resolved, hits)
        else:
            proposal = self._extractive(resolved, hits)
        answer = self._finish(
            question,
            resolved,
            filters or {},
            hits,
            proposal,
            engine,
            dense_ids,
            bm25_ids,
            history,
            started,
            warnings,
        )
        if engine == "extractive":
            yield answer.answer
        yield answer


def ask(question: str, settings: Settings, **kw: Any) -> Answer:
    """Convenience: one question, one answer."""
    return Assistant(settings).ask(question, **kw)
