"""Answers with verifiable citations: the answer path as typed stages.

``Assistant.ask`` runs, for one question:
1. **retrieve** (``index.search.Searcher.evidence``): the passages (hybrid chunk search), the dense and BM25
   rankings, and every sentence of the passages and of the chunks holding the best sentence hits, each with
   its similarity to the question: two batched store calls, nothing embedded but the question;
2. **select** (``select.py``): each sentence's probability of holding the answer;
3. **decide** (``decide.py``): answer, "de stukken geven geen direct antwoord" (with the closest passages),
   or "niets gevonden";
4. **compose**: the extractive engine (``compose.py``) picks a direct answer and supporting points from the
   selected sentences; the LLM engine writes from the passages;
5. **support** (``support.py``): every sentence is checked against the passage its marker points to;
   unsupported sentences are dropped and listed under ``unsupported``; a marker that points to no passage
   cannot reach the output.
Sources are renumbered 1..n in order of first citation, so every marker in the output has a source. Each
stage has its own configuration object (``config.py``), fitted on the dev split by ``eval/calibrate.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.compose import compose
from assistant.config import AnswerConfig, answer_config
from assistant.conversation import Conversation
from assistant.decide import Decision, decide
from assistant.injection import flags as passage_flags
from assistant.models import ANSWER_TEXT, Answer, AnswerSentence, Source
from assistant.motions import (
    FINAL_STATUSES,
    about_motions,
    asks_other_stuk,
    choose,
    motion_answer,
    speaks_of_proposal,
)
from assistant.select import Candidate, select
from assistant.support import Support, SupportChecker
from corpus.dutch import question_type
from corpus.sentences import split_sentences, split_with_markers
from corpus.settings import Settings
from index.search import Evidence, SearchHit, SentenceHit, UnitHit

# Kept for callers of the first release: the text of an answer that is not given.
ABSTAIN_TEXT = ANSWER_TEXT["indirect"]
NO_INDEX_TEXT = ANSWER_TEXT["none"]
CLOSEST_PASSAGES = 3


@dataclass
class Proposal:
    """What an engine proposes: sentences with the (0-based) indexes of the hits their markers point to."""

    sentences: list[tuple[str, list[int]]]
    raw: str = ""
    invalid_markers: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "direct" / "point" per sentence (default: by position)
    speakers: list[str | None] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)


def parse_generated(text: str, n_hits: int) -> Proposal:
    """Generated text -> sentences with 0-based hit indexes; markers outside 1..n_hits are discarded."""
    out: list[tuple[str, list[int]]] = []
    invalid: list[int] = []
    for sentence, markers in split_with_markers(text):
        valid = [m - 1 for m in markers if 1 <= m <= n_hits]
        invalid.extend(m for m in markers if not 1 <= m <= n_hits)
        out.append((sentence, valid))
    return Proposal(out, raw=text, invalid_markers=invalid)


_STUK_NR = re.compile(
    r"\b(?:motie|moties|amendement|stuk|stukken)\s+(?:op\s+stuk\s+)?nrs?\.\s*(\d{1,4})\b", re.I
)


def _own_ids(hit: SearchHit) -> list[str]:
    """The document's own canonical id when it is a parliamentary paper (doc id "kst-33763-141", ...)."""
    return [k for k in hit.kamerstukken if hit.doc_id == k or hit.doc_id.endswith("-" + k)]


def _source(n: int, hit: SearchHit, spans: Sequence[tuple[int, int]] = ()) -> Source:
    return Source(
        n=n,
        doc_id=hit.doc_id,
        title=hit.title,
        kind=hit.kind,
        date=hit.date,
        page=hit.page,
        citation=hit.citation,
        kamerstukken=hit.kamerstukken,
        passage=hit.text,
        score=round(float(hit.score), 4),
        chunk_id=hit.chunk_id,
        section=hit.section,
        speaker=hit.speaker,
        spans=list(spans),
        flags=passage_flags(hit.text),
    )


def _span(sentence: str, passage: str) -> tuple[int, int] | None:
    """Where a (verbatim) sentence stands in its passage, whitespace-insensitively."""
    words = sentence.rstrip(".;:,").split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), passage)
    return (m.start(), m.end()) if m else None


def _said_by(sentence: AnswerSentence) -> str:
    """The sentence as shown: with its label (a motion), or with its speaker when the passage is a turn
    that does not name them."""
    if sentence.label:
        return f"{sentence.label}: {sentence.text}"
    speaker = sentence.speaker
    if not speaker:
        return sentence.text
    name = re.sub(r"\(.*?\)", "", speaker).split()[-1] if speaker.split() else ""
    if name and name.lower() in sentence.text.lower():
        return sentence.text
    return f"{speaker}: {sentence.text}"


def finalize(
    question: str,
    hits: Sequence[SearchHit],
    proposal: Proposal,
    checker: SupportChecker,
    engine: str,
    decision: Decision | None = None,
    closest: Sequence[SearchHit] = (),
    units: Sequence[UnitHit] = (),
) -> Answer:
    """The shared end of both engines: support check, renumbering, sources, the abstained form.

    ``units``: the motions, amendments and votes in the passages; a sentence quoted from inside one cites
    it by its own Kamerstuk number (besides the passage's document)."""
    pairs: list[tuple[str, str]] = []
    index: list[tuple[int, int]] = []  # (sentence i, hit j)
    for i, (text, cited) in enumerate(proposal.sentences):
        for j in cited:
            pairs.append((text, hits[j].text))
            index.append((i, j))
    results = checker.check_many(pairs) if pairs else []
    support_of: dict[int, tuple[int, Support]] = {}
    for (i, j), res in zip(index, results, strict=True):
        if res.supported and i not in support_of:
            support_of[i] = (j, res)
    kept = [i for i in range(len(proposal.sentences)) if i in support_of]
    unsupported = [t for i, (t, _) in enumerate(proposal.sentences) if i not in support_of]
    abstention = decision.to_json() if decision is not None else {}

    if decision is not None and decision.outcome != "answer" or not kept:
        outcome = decision.outcome if decision is not None and decision.outcome != "answer" else "indirect"
        if not hits and not closest:
            outcome = "none"
        shown = list(closest or hits[:CLOSEST_PASSAGES]) if outcome == "indirect" else []
        if abstention and outcome != abstention.get("outcome"):
            abstention = {
                **abstention,
                "abstain": True,
                "outcome": outcome,
                "reason": "geen gesteunde zinnen",
            }
        return Answer(
            question=question,
            answer=ANSWER_TEXT[outcome],
            abstained=True,
            engine=engine,
            sources=[_source(n, h) for n, h in enumerate(shown, 1)],
            unsupported=unsupported,
            abstention=abstention,
            outcome=outcome,
        )

    # Renumber the cited passages 1..n in order of first use.
    number: dict[int, int] = {}
    for i in kept:
        number.setdefault(support_of[i][0], len(number) + 1)
    sentences: list[AnswerSentence] = []
    spans: dict[int, list[tuple[int, int]]] = {}
    for pos, i in enumerate(kept):
        j, res = support_of[i]
        text = proposal.sentences[i][0]
        span = _span(text, hits[j].text)
        if span:
            spans.setdefault(j, []).append(span)
        role = proposal.roles[i] if i < len(proposal.roles) else ("direct" if pos == 0 else "point")
        sentences.append(
            AnswerSentence(
                text=text,
                source=number[j],
                support=res,
                role=role,  # type: ignore[arg-type]
                speaker=proposal.speakers[i] if i < len(proposal.speakers) else None,
                span=span,
                score=proposal.scores[i] if i < len(proposal.scores) else None,
                label=proposal.labels[i] if i < len(proposal.labels) else None,
            )
        )
    if not any(s.role == "direct" for s in sentences):
        sentences[0].role = "direct"
    direct = " ".join(f"{_said_by(s)} [{s.source}]" for s in sentences if s.role == "direct")
    points = [f"{_said_by(s)} [{s.source}]" for s in sentences if s.role == "point"]
    answer_text = direct + ("\n\n" + "\n".join(f"- {p}" for p in points) if points else "")
    # The units each sentence stands in: a motion quoted is cited by its own number.
    by_chunk: dict[str, list[UnitHit]] = {}
    for u in units:
        if u.start is not None and u.end is not None and u.kind != "toezegging":
            by_chunk.setdefault(u.chunk_id, []).append(u)
    cited_units: dict[int, dict[str, UnitHit]] = {}  # hit j -> unit id -> unit
    sentence_units: list[list[UnitHit]] = []
    for s, i in zip(sentences, kept, strict=True):
        j = support_of[i][0]
        inside = [
            u
            for u in by_chunk.get(hits[j].chunk_id, [])
            if s.span is not None and s.span[1] > (u.start or 0) and s.span[0] < (u.end or 0)
        ]
        sentence_units.append(inside)
        for u in inside:
            cited_units.setdefault(j, {}).setdefault(u.id + "|" + u.kind, u)
    sources = [
        _source(n, hits[j], spans.get(j, [])).model_copy(
            update={"units": [u.to_json() for u in cited_units.get(j, {}).values()]}
        )
        for j, n in sorted(number.items(), key=lambda x: x[1])
    ]

    # The Kamerstukken the answer relies on: named in its sentences, the motions it quotes, or the cited
    # document itself.
    from corpus.citations import display_for, find_citations

    # A quoted sentence that refers to a motion of the same debate by its number only ("de motie op stuk
    # nr. 67", "motie nr. 67") cites that motion.
    in_doc: dict[tuple[str, str], UnitHit] = {}
    for u in units:
        if u.kind in ("motie", "amendement"):
            in_doc.setdefault((u.doc_id, u.id.rsplit("-", 1)[-1]), u)
    cited: dict[str, str] = {}
    for s, i, inside in zip(sentences, kept, sentence_units, strict=True):
        doc_id = hits[support_of[i][0]].doc_id
        for nr in _STUK_NR.findall(s.text):
            u = in_doc.get((doc_id, nr))
            if u is not None:
                cited.setdefault(u.id, u.citation or display_for(u.id))
        for u in inside:
            cited.setdefault(u.id, u.citation or display_for(u.id))
        for c in find_citations(s.text):
            cited.setdefault(c.id, c.display)
    for j in number:
        for k in _own_ids(hits[j]):
            cited.setdefault(k, hits[j].citation or display_for(k))
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
        abstention=abstention,
        outcome="answer",
        direct=direct,
        points=points,
    )


def evidence_from_passages(
    question: str, hits: Sequence[SearchHit], embedder: Any, task: str | None
) -> Evidence:
    """Evidence for given passages without the store (drafts, tests, the LLM fallback): their sentences are
    split and embedded here; the share of the question's salient terms stands in for BM25."""
    import numpy as np

    from corpus.dutch import coverage, salient_terms

    rows: list[tuple[int, Any]] = [(j, s) for j, h in enumerate(hits) for s in split_sentences(h.text)]
    if not rows:
        return Evidence(question=question, passages=list(hits))
    q = np.asarray(embedder.embed_query(question, task=task), dtype=np.float32)
    vecs = np.asarray(embedder.embed_documents([s.text for _, s in rows]), dtype=np.float32)
    chunk_vecs = np.asarray(embedder.embed_documents([h.text for h in hits]), dtype=np.float32)
    terms = salient_terms(question)
    sentences = [
        SentenceHit(
            id=f"{hits[j].chunk_id}:{s.start}",
            chunk_id=hits[j].chunk_id,
            doc_id=hits[j].doc_id,
            text=s.text,
            start=s.start,
            end=s.end,
            speaker=hits[j].speaker,
            section=hits[j].section,
            page=hits[j].page,
            dense=float(v @ q),
            bm25=coverage(terms, [s.text])[0],
        )
        for (j, s), v in zip(rows, vecs, strict=True)
    ]
    return Evidence(
        question=question,
        passages=list(hits),
        chunk_similarity={h.chunk_id: float(v @ q) for h, v in zip(hits, chunk_vecs, strict=True)},
        sentences=sentences,
    )


def _closest(evidence: Evidence, ranked: Sequence[Candidate]) -> list[SearchHit]:
    """The passages to show when there is no answer: those of the best sentences, then the best passages."""
    chunks = evidence.chunks
    order = list(
        dict.fromkeys([c.hit for c in ranked[:CLOSEST_PASSAGES]] + list(range(len(evidence.passages))))
    )
    return [chunks[i] for i in order[:CLOSEST_PASSAGES]]


class Assistant:
    def __init__(
        self,
        settings: Settings,
        embedder: Any | None = None,
        llm: Any | None = None,
        config: AnswerConfig | None = None,
    ) -> None:
        self.settings = settings
        self.config = config or answer_config(str(settings.answer_config) if settings.answer_config else None)
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

    # --- stage 1 -----------------------------------------------------------------------------------------

    def retrieve(self, question: str, filters: dict[str, Any] | None, access: list[str] | None) -> Evidence:
        evidence = self._evidence(question, filters, access)
        named, proposal = about_motions(question), speaks_of_proposal(question)
        if (named or proposal) and not asks_other_stuk(question):
            c = self.config.compose
            motions, votes, chunks = self.searcher.motion_evidence(
                question, k=c.motion_candidates, filters=filters, access=access
            )
            best_passage = max(evidence.chunk_similarity.values(), default=0.0)
            best_motion = max((m.score for m in motions), default=0.0)
            if named or best_motion >= best_passage - c.proposal_gap:
                evidence = evidence.model_copy(
                    update={"motions": motions, "votes": votes, "motion_chunks": chunks}
                )
        return evidence

    def _evidence(self, question: str, filters: dict[str, Any] | None, access: list[str] | None) -> Evidence:
        r = self.config.retrieve
        return self.searcher.evidence(
            question,
            k=r.passages,
            filters=filters,
            access=access,
            agreement_k=r.agreement_k,
            sentences=r.sentences,
            parents=r.parents,
            sentence_task=r.sentence_task,
        )

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
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ValueError(
                f"the question is {len(question)} characters long; the limit is {limit} (max_question_chars)"
            )
        resolved, filt = history.resolve(question, filters) if history else (question, dict(filters or {}))
        evidence = self.retrieve(resolved, filt, access)
        yield from self._run(question, resolved, evidence, engine, filt, history, started)

    def answer_from_hits(self, question: str, hits: Sequence[SearchHit], engine: str | None = None) -> Answer:
        """Answer from given passages (no retrieval): for tests, the eval and the drafting module."""
        final = None
        for item in self.stream_from_hits(question, hits, engine=engine):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream_from_hits(
        self, question: str, hits: Sequence[SearchHit], engine: str | None = None
    ) -> Iterator[str | Answer]:
        started = time.perf_counter()
        evidence = evidence_from_passages(question, hits, self.embedder, self.config.retrieve.sentence_task)
        yield from self._run(question, question, evidence, engine, {}, None, started)

    # --- stages 2-5 ---------------------------------------------------------------------------------------

    def _run(
        self,
        question: str,
        resolved: str,
        evidence: Evidence,
        engine: str | None,
        filters: dict[str, Any],
        history: Conversation | None,
        started: float,
    ) -> Iterator[str | Answer]:
        engine = engine or self.settings.engine
        ranked = select(resolved, evidence, self.config.select)
        decision = decide(resolved, evidence, ranked, self.config.decide)
        if not self.settings.abstention and ranked and decision.outcome != "answer":
            decision = decision.model_copy(update={"outcome": "answer", "reason": "afzien uitgeschakeld"})
        hits = evidence.chunks
        closest = _closest(evidence, ranked)
        warnings: list[str] = []
        if decision.outcome != "answer":
            proposal = Proposal([])
        elif engine == "llm":
            from assistant.llm_engine import LLMError

            passages = evidence.passages or hits
            parts: list[str] = []
            try:
                for delta in self.llm.answer_stream(resolved, passages):
                    parts.append(delta)
                    yield delta
                proposal = parse_generated("".join(parts), len(passages))
            except LLMError as e:
                # A broken endpoint must not leave the user without an answer: fall back, and say so.
                warnings.append(f"{e}; antwoord zonder taalmodel (extractief) gegeven")
                engine = "extractive"
                proposal = self._extractive(resolved, ranked, hits)
        else:
            proposal = self._extractive(resolved, ranked, hits)
        units = [*evidence.units, *evidence.motions, *evidence.votes]
        if engine == "extractive" and evidence.motions and question_type(resolved) != "reason":
            hits, proposal, decision, closest = self._motions(
                resolved, evidence, hits, proposal, decision, closest
            )
        checker = SupportChecker(self.embedder if engine == "llm" else None, self.config.support)
        answer = finalize(
            resolved, hits, proposal, checker, engine, decision=decision, closest=closest, units=units
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
            history.add(question, resolved, filters, answer)
        if engine == "extractive":
            yield answer.answer
        yield answer

    def _motions(
        self,
        question: str,
        evidence: Evidence,
        hits: Sequence[SearchHit],
        proposal: Proposal,
        decision: Decision,
        closest: Sequence[SearchHit],
    ) -> tuple[list[SearchHit], Proposal, Decision, list[SearchHit]]:
        """A question about motions is answered from the motion units (``motions.py``) when the motion it
        names is indexed; otherwise the ordinary answer stands."""
        c = self.config.compose
        chosen, named = choose(question, evidence.motions, c.motion_margin, c.motion_list_max)
        # Without a motion named in the question, the fitted decision says whether there is an answer at all.
        if not chosen or (decision.outcome != "answer" and not named):
            return list(hits), proposal, decision, list(closest)
        if decision.outcome != "answer":
            why = "de motie die de vraag noemt staat in de geïndexeerde stukken"
            decision = decision.model_copy(update={"outcome": "answer", "reason": why})
        all_hits = list(hits) + [
            h for h in evidence.motion_chunks if h.chunk_id not in {x.chunk_id for x in hits}
        ]
        by_id = {h.chunk_id: h for h in all_hits}
        votes: dict[str, UnitHit] = {}
        for v in sorted(evidence.votes, key=lambda v: (v.date or "", v.status in FINAL_STATUSES)):
            votes[v.id] = v  # the latest (and decided) vote wins
        found = motion_answer(question, chosen, by_id, votes, named=named)
        if found.outcome_unknown:
            shown = [by_id[u.chunk_id] for u in chosen if u.chunk_id in by_id][:CLOSEST_PASSAGES]
            why = "de uitslag van de motie staat niet in de geïndexeerde stukken"
            return (
                all_hits,
                Proposal([]),
                decision.model_copy(update={"outcome": "indirect", "reason": why}),
                shown,
            )
        if not found.lines:
            return list(hits), proposal, decision, list(closest)
        index = {h.chunk_id: j for j, h in enumerate(all_hits)}
        first_motion = found.lines[0].unit_id
        return (
            all_hits,
            Proposal(
                [(line.text, [index[line.chunk_id]]) for line in found.lines],
                roles=["direct" if line.unit_id == first_motion else "point" for line in found.lines],
                labels=[line.label for line in found.lines],
            ),
            decision,
            list(closest),
        )

    def _extractive(self, question: str, ranked: Sequence[Candidate], hits: Sequence[SearchHit]) -> Proposal:
        comp = compose(question, ranked, hits, self.config.compose)
        chosen = comp.all
        return Proposal(
            [(c.text, [c.hit]) for c in chosen],
            roles=["direct"] * len(comp.direct) + ["point"] * len(comp.points),
            speakers=[c.sentence.speaker for c in chosen],
            scores=[c.p for c in chosen],
        )


def ask(question: str, settings: Settings, **kw: Any) -> Answer:
    """Convenience: one question, one answer."""
    return Assistant(settings).ask(question, **kw)
