"""A first-pass Kamerbrief on a topic, from the indexed stukken.

The structure is the one a Kamerbrief of this kind has: aanleiding, eerdere besluitvorming (chronological),
nieuwe ontwikkelingen, conclusie; each statement carries a numbered note with the official citation of
what it rests on, and the letter ends with its sources. Two modes:
- with a language model (engine "llm"): prose per section, every sentence checked against the passage it
  cites by the same support check as answers; unsupported sentences are left out and listed;
- without one (default): clearly labelled "bouwstenen": the evidence sentences themselves, verbatim, for
  the official to rewrite. Nothing is generated, so nothing can be wrong that is not in the sources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.answer import Assistant, finalize, parse_generated
from assistant.compose import _repeats
from assistant.select import Candidate, select, year_of
from assistant.support import SupportChecker
from corpus.settings import Settings
from index.search import SearchHit

BOUWSTENEN_LABEL = (
    "Bouwstenen: letterlijke passages uit de bronnen, geordend per onderdeel van de brief. "
    "Nog te herschrijven tot lopende tekst."
)

# (heading, question used to select evidence, instruction for the language model)
SECTIONS: list[tuple[str, str, str]] = [
    (
        "Aanleiding",
        "Wat is de aanleiding voor een brief over {topic}: welke toezegging, motie of vraag van de Kamer?",
        "Beschrijf de aanleiding voor deze brief: de toezegging, motie of vraag van de Kamer.",
    ),
    (
        "Eerdere besluitvorming",
        "Hoe is de eerdere besluitvorming over {topic} verlopen, met welke Kamerstukken?",
        "Vat de eerdere besluitvorming in chronologische volgorde samen, met de Kamerstukken.",
    ),
    (
        "Nieuwe ontwikkelingen",
        "Welke nieuwe ontwikkelingen zijn er sindsdien rond {topic}?",
        "Beschrijf de nieuwe ontwikkelingen sinds de eerdere besluitvorming.",
    ),
    (
        "Conclusie",
        "Wat is de conclusie van het kabinet over {topic} en waarom?",
        "Formuleer de conclusie van het kabinet en de redenen daarvoor.",
    ),
]
SENTENCES_PER_SECTION = 4
HITS_PER_SECTION = 8


@dataclass
class Paragraph:
    text: str
    notes: list[int] = field(default_factory=list)  # numbers into Letter.notes


@dataclass
class LetterSection:
    heading: str
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Letter:
    topic: str
    mode: str  # "bouwstenen" | "tekst"
    engine: str
    sections: list[LetterSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # note n is notes[n - 1]: official citation form
    sources: list[dict[str, Any]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: date.today().isoformat())

    @property
    def title(self) -> str:
        return f"Kamerbrief over {self.topic}"

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "topic": self.topic,
            "mode": self.mode,
            "engine": self.engine,
            "created": self.created,
            "sections": [
                {
                    "heading": s.heading,
                    "paragraphs": [{"text": p.text, "notes": p.notes} for p in s.paragraphs],
                }
                for s in self.sections
            ],
            "notes": [{"n": i, "text": t} for i, t in enumerate(self.notes, 1)],
            "sources": self.sources,
            "unsupported": self.unsupported,
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Letter:
        """The letter ``to_json`` describes (the CLI gets a draft made by the running app this way)."""
        return cls(
            topic=data["topic"],
            mode=data["mode"],
            engine=data["engine"],
            created=data["created"],
            sections=[
                LetterSection(
                    heading=s["heading"],
                    paragraphs=[Paragraph(text=p["text"], notes=list(p["notes"])) for p in s["paragraphs"]],
                )
                for s in data["sections"]
            ],
            notes=[n["text"] for n in sorted(data["notes"], key=lambda n: n["n"])],
            sources=list(data["sources"]),
            unsupported=list(data["unsupported"]),
            warnings=list(data["warnings"]),
        )

    def _body(self, heading: str, note: str) -> list[str]:
        lines = [heading.format(title=self.title), ""]
        if self.mode == "bouwstenen":
            lines += [f"_{BOUWSTENEN_LABEL}_" if note == "md" else BOUWSTENEN_LABEL, ""]
        for s in self.sections:
            lines += [("## " if note == "md" else "") + s.heading, ""]
            if not s.paragraphs:
                lines += ["(Geen passages gevonden voor dit onderdeel.)", ""]
            for p in s.paragraphs:
                marks = "".join(f"[^{n}]" if note == "md" else f"[{n}]" for n in p.notes)
                lines += [("- " if self.mode == "bouwstenen" else "") + p.text + marks, ""]
        if self.notes:
            lines += [("## " if note == "md" else "") + "Noten", ""]
            for n, t in enumerate(self.notes, 1):
                lines.append(f"[^{n}]: {t}" if note == "md" else f"{n}. {t}")
            lines.append("")
        lines += [("## " if note == "md" else "") + "Bronnen", ""]
        for src in self.sources:
            lines.append(("- " if note == "md" else "") + src["display"])
        if self.unsupported:
            lines += ["", ("## " if note == "md" else "") + "Weggelaten (niet gesteund door de bronnen)", ""]
            lines += [f"- {u}" for u in self.unsupported]
        return lines

    def render_text(self) -> str:
        return "\n".join(self._body("{title}", "text")).rstrip() + "\n"

    def render_markdown(self) -> str:
        return "\n".join(self._body("# {title}", "md")).rstrip() + "\n"

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)


class _NoteBook:
    """Numbers notes and collects sources, each once."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.sources: dict[str, dict[str, Any]] = {}

    def note(self, text: str) -> int:
        if text not in self.notes:
            self.notes.append(text)
        return self.notes.index(text) + 1

    def source(self, hit: SearchHit) -> None:
        self.sources.setdefault(
            hit.doc_id,
            {
                "doc_id": hit.doc_id,
                "title": hit.title,
                "kind": hit.kind,
                "date": hit.date,
                "citation": hit.citation,
                "kamerstukken": [],
                "display": hit.citation or hit.title or hit.doc_id,
            },
        )

    def kamerstuk(self, canonical: str, display: str, via: SearchHit) -> None:
        entry = self.sources.setdefault(
            f"ks:{canonical}",
            {"doc_id": None, "title": "", "kind": "Kamerstuk", "date": None, "citation": display,
             "kamerstukken": [canonical], "display": display, "cited_in": []},
        )  # fmt: skip
        cited_in = via.citation or via.doc_id
        if cited_in not in entry.setdefault("cited_in", []):
            entry["cited_in"].append(cited_in)


def _notes_for(text: str, hit: SearchHit, book: _NoteBook) -> list[int]:
    """Notes for one statement: each Kamerstuk it names (official form), else the document it comes from."""
    from corpus.citations import find_citations

    book.source(hit)
    cites = find_citations(text)
    numbers = []
    for c in cites:
        book.kamerstuk(c.id, c.display, hit)
        numbers.append(book.note(c.display))
    if not cites:
        where = f", p. {hit.page}" if hit.page else ""
        numbers.append(book.note(f"{hit.citation or hit.title or hit.doc_id}{where}"))
    return list(dict.fromkeys(numbers))


def _bouwstenen(
    topic: str,
    assistant: Assistant,
    filters: dict[str, Any] | None,
    access: list[str] | None,
    letter: Letter,
    book: _NoteBook,
) -> None:
    """Evidence sentences per part of the letter, each part's chosen by meaning for its own question (the
    same retrieval and selection as answers); a sentence is used in one part only."""
    taken: list[Candidate] = []
    floor = assistant.config.compose.point_min
    redundancy = assistant.config.compose.redundancy
    for section, (heading, question, _) in zip(letter.sections, SECTIONS, strict=True):
        q = question.format(topic=topic)
        evidence = assistant.retrieve(q, filters, access)
        hits = evidence.chunks
        chosen: list[Candidate] = []
        for c in select(q, evidence, assistant.config.select):
            if len(chosen) >= SENTENCES_PER_SECTION or c.p < floor:
                break
            if not _repeats(c, [*taken, *chosen], redundancy):
                chosen.append(c)
        if heading == "Eerdere besluitvorming":
            chosen.sort(key=lambda c: (year_of(c, hits[c.hit]), c.hit, c.sentence.start))
        taken.extend(chosen)
        for c in chosen:
            section.paragraphs.append(Paragraph(c.text, _notes_for(c.text, hits[c.hit], book)))


def _llm_sections(
    topic: str,
    assistant: Assistant,
    filters: dict[str, Any] | None,
    access: list[str] | None,
    letter: Letter,
    book: _NoteBook,
) -> None:
    """Prose per section from the language model, every sentence support-checked. On a transport error the
    whole letter falls back to bouwstenen (a half-generated letter would mix two registers)."""
    from assistant.llm_engine import LLMError

    for section, (heading, question, instruction) in zip(letter.sections, SECTIONS, strict=True):
        q = question.format(topic=topic)
        hits = assistant.searcher.search(q, k=HITS_PER_SECTION, filters=filters, access=access)
        if not hits:
            continue
        try:
            raw = assistant.llm.draft_section(topic, heading, instruction, hits)
        except LLMError as e:
            letter.warnings.append(f"{e}; bouwstenen in plaats van tekst")
            letter.mode = "bouwstenen"
            for s in letter.sections:
                s.paragraphs.clear()
            return
        answer = finalize(q, hits, parse_generated(raw, len(hits)), SupportChecker(assistant.embedder), "llm")
        letter.unsupported.extend(answer.unsupported)
        by_chunk = {h.chunk_id: h for h in hits}
        for s in answer.sentences:
            hit = by_chunk[answer.sources[s.source - 1].chunk_id]
            section.paragraphs.append(Paragraph(s.text, _notes_for(s.text, hit, book)))


def draft_letter(
    topic: str,
    settings: Settings,
    engine: str | None = None,
    filters: dict[str, Any] | None = None,
    access: list[str] | None = None,
    assistant: Assistant | None = None,
) -> Letter:
    assistant = assistant or Assistant(settings)
    engine = engine or settings.engine
    use_llm = engine == "llm"
    letter = Letter(topic=topic, mode="tekst" if use_llm else "bouwstenen", engine=engine)
    book = _NoteBook()
    letter.sections = [LetterSection(heading) for heading, _, _ in SECTIONS]
    if use_llm:
        _llm_sections(topic, assistant, filters, access, letter, book)
    if not use_llm or letter.mode == "bouwstenen":
        book = _NoteBook()  # notes of a failed LLM attempt must not linger
        _bouwstenen(topic, assistant, filters, access, letter, book)
    letter.notes = book.notes
    # Documents first (in order of use), then the Kamerstukken they cite.
    letter.sources = sorted(book.sources.values(), key=lambda s: s["doc_id"] is None)
    return letter
