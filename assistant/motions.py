"""Answers about motions and amendments, built from the indexed units (``index/units.py``).

A question that names motions ("welke moties", "is de motie aangenomen", "wie diende de motie in") is
answered from the motion points found by meaning: each motion with its number, indieners and outcome as
a label (structured data read from the source), followed by the source's own sentences: the dictum, the
chair's "voorgesteld door" and number lines, and the chair's vote line where a vote is indexed. Every
sentence is quoted from the passage it cites, so the support check holds as for any extractive answer.

When the question asks what became of a motion and no vote or announcement on it is indexed, the answer
says the stukken give no direct answer (and shows the motion): it does not guess an outcome.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from corpus.dutch import question_type
from corpus.sentences import split_sentences
from corpus.units import mentioned as mentioned_names
from corpus.units import names_with_fracties
from index.search import SearchHit, UnitHit

# Also compounds ("brexitmotie", "statiegeldmoties"), but not "emotie" or "promotie".
_ABOUT_MOTIONS = re.compile(
    r"(?<!e)(?<!pro)moties?\b|amendement(?:en)?\b|\bmotions?\b|\bamendments?\b", re.IGNORECASE
)
_ASKS_OUTCOME = re.compile(
    r"\b(?:aangenomen|verworpen|gestemd|stemden|stemde|stemming|uitslag|aangehouden|ingetrokken|vervallen|"
    r"afgelopen|liep|gebeurd|steunden|steunde|haalde|kreeg\s+(?:de\s+)?meerderheid|adopted|rejected|vote)\b",
    re.IGNORECASE,
)
_ASKS_LIST = re.compile(
    r"\b(?:welke|alle|overzicht|which)\s+(?:\w+\s+)?(?:moties|amendementen|motions|voorstellen)\b", re.I
)
_NAMED = re.compile(
    r"\b(?:motie|amendement)-([A-Z\u00c0-\u024f][\w\u00c0-\u024f'-]*(?:/[A-Z\u00c0-\u024f][\w\u00c0-\u024f'-]*)*)"
)
_TURN_PREFIX = re.compile(r"^(?:De\s+voorzitter|Voorzitter|[A-Z][^.:\n]{1,60}\([^)]{1,20}\)):\s+")
FINAL_STATUSES = ("aangenomen", "verworpen", "ingetrokken", "vervallen")
_PLURAL = re.compile(
    r"(?<!e)(?<!pro)moties\b|amendementen\b|\bmotions\b|\bamendments\b|\bvoorstellen\b", re.IGNORECASE
)
_OTHER_STUK = re.compile(
    r"\b(?:welke|welk|wat\s+voor)\s+(?:\w+\s+){0,3}?(?:brief|brieven|kamerbrief|stuk|stukken|document|"
    r"documenten|reactie|nota|rapport|letter|document)\b|\bingekomen\b",
    re.IGNORECASE,
)
_CHAIR_LINES = re.compile(r"voorgesteld\s+door|krijgt\s+nr\.", re.IGNORECASE)


def about_motions(question: str) -> bool:
    return bool(_ABOUT_MOTIONS.search(question))


# "het voorstel van Kops", "welke voorstellen": whole words only, so "wetsvoorstel" and "begrotingsvoorstel"
# (one word in Dutch) never match.
_PROPOSAL = re.compile(r"\bvoorstel(?:len)?\b", re.IGNORECASE)


def speaks_of_proposal(question: str) -> bool:
    """The question says "voorstel" where it may mean a motion; the evidence decides (``proposal_gap``)."""
    return bool(_PROPOSAL.search(question)) and not about_motions(question)


def asks_outcome(question: str) -> bool:
    return bool(_ASKS_OUTCOME.search(question))


def asks_list(question: str) -> bool:
    """ "Welke moties ...", "de twee PVV-moties", "amendementen": more than one motion is asked for."""
    return (
        bool(_ASKS_LIST.search(question) or _PLURAL.search(question))
        or question_type(question) == "list"
        and about_motions(question)
    )


def asks_other_stuk(question: str) -> bool:
    """The question asks for another stuk that concerns a motion ("welke brief gaat over de motie ..."):
    the motion is context, not the answer."""
    return bool(_OTHER_STUK.search(question))


@dataclass
class MotionLine:
    text: str
    chunk_id: str
    label: str | None = None
    unit_id: str = ""


@dataclass
class MotionAnswer:
    lines: list[MotionLine] = field(default_factory=list)
    motions: list[UnitHit] = field(default_factory=list)
    outcome_unknown: bool = False  # the question asks for an outcome the index does not hold


def label(u: UnitHit) -> str:
    """'Motie-Jansen c.s. (Kamerstukken II 2019/20, 12345, nr. 67; ingediend door ...; aangenomen)'."""
    title = u.title[:1].upper() + u.title[1:] if u.title else u.kind.capitalize()
    if u.onderwerp and not u.dictum:
        title += f" over {u.onderwerp}"
    parts = [u.citation]
    if u.indieners:
        parts.append(f"ingediend door {names_with_fracties(u.indieners, u.fractie_van)}")
    if u.status:
        parts.append(u.status)
    return f"{title} ({'; '.join(parts)})"


def _in_span(chunk: SearchHit, u: UnitHit) -> list[tuple[str, bool]]:
    """The chunk's sentences inside the unit's span, flagged when they are the chair's lines."""
    if u.start is None or u.end is None:
        return []
    out = []
    for s in split_sentences(chunk.text):
        if s.end > u.start and s.start < u.end:
            # A chunk of several turns prefixes each with its speaker ("De voorzitter: ..."); the label says
            # what the line is about, so quote the line itself.
            text = _TURN_PREFIX.sub("", s.text)
            out.append((text, bool(_CHAIR_LINES.search(text))))
    return out


def _verbatim(text: str, passage: str) -> bool:
    words = text.split()
    return bool(words) and re.search(r"\s+".join(re.escape(w) for w in words), passage) is not None


def _dictum_sentences(chunk: SearchHit, u: UnitHit) -> list[str]:
    # The dictum as the motion states it ("verzoekt de regering ..."), without the considerations.
    if u.dictum and _verbatim(u.dictum, chunk.text):
        return [u.dictum.rstrip(" ,;")]
    probe = re.sub(r"\s+", " ", u.dictum).strip()[:40]
    inside = _in_span(chunk, u)
    hits = [t for t, _ in inside if probe and probe[:25] in re.sub(r"\s+", " ", t)]
    if hits:
        return hits[:1]
    return [t for t, chair in inside if t.lower().startswith(("verzoekt", "spreekt", "roept"))][:1]


def _vote_sentence(chunk: SearchHit, vote: UnitHit) -> str | None:
    for t, _ in _in_span(chunk, vote):
        if re.search(
            r"zodat\s+(?:zij|hij|het)\s+is|algemene\s+stemmen|aan\s+te\s+houden|ingetrokken|vervallen", t
        ):
            return t
    return None


def choose(
    question: str, found: Sequence[UnitHit], margin: float, max_list: int
) -> tuple[list[UnitHit], bool]:
    """The motions the question is about: the best match, and for a list question every motion of the
    same debate within ``margin`` of its similarity. The flag says whether the question named them (by
    number or as "motie-Jansen") and they were found by that name."""
    if not found:
        return [], False
    # A question that names the motion (its number, "motie-Jansen") is about that one; when it is not
    # among the motions found, the ordinary answer stands.
    numbers = set(re.findall(r"\bnr\.?\s*(\d{1,4})\b", question)) | {
        m.group(2) for m in re.finditer(r"\b(\d{5})(?:-[A-Z0-9]+)?-(\d{1,4})\b", question)
    }
    if numbers:
        found = [
            u
            for u in found
            if u.id.rsplit("-", 1)[-1] in numbers or (u.was or "-").rsplit("-", 1)[-1] in numbers
        ]
    names = [n.lower() for m in _NAMED.finditer(question) for n in m.group(1).split("/")]
    if names:
        found = [u for u in found if any(n in (i.lower() for i in u.indieners) for n in names)]
    if not found:
        return [], False
    named = bool(numbers or names)
    # "de moties van Jansen", "welke moties diende Jansen in", "de PVV-moties": the members and fracties
    # the question mentions, among those of the motions found, narrow the motions down.
    people = mentioned(question, {i for u in found for i in u.indieners})
    parties = mentioned(question, {f for u in found for f in u.fracties}) if not people else set()
    if people:
        found = [u for u in found if people & {i.lower() for i in u.indieners}] or found
    elif parties:
        found = [u for u in found if parties & {f.lower() for f in u.fracties}] or found
    best = found[0]
    if not asks_list(question):
        return [best], named
    if people:  # every motion of the member, whatever debate it was in
        return found[:max_list], named
    near = [u for u in found if u.doc_id == best.doc_id and (u.score or 0) >= (best.score or 0) - margin]
    return near[:max_list], named


def mentioned(question: str, names: set[str]) -> set[str]:
    """The names (lower case) that stand in ``question`` as words ("PVV-moties" mentions PVV)."""
    return {n.lower() for n in mentioned_names(question, names, min_len=2)}


def motion_answer(
    question: str,
    chosen: Sequence[UnitHit],
    chunks: dict[str, SearchHit],
    votes: dict[str, UnitHit],
    named: bool = False,
) -> MotionAnswer:
    """The lines of the answer for ``chosen`` motions; ``chunks`` by id, ``votes`` by motion id.

    Only when the question ``named`` the motion does a missing vote make the outcome "not in the stukken":
    a motion found by meaning alone may not be the one meant."""
    out = MotionAnswer(motions=list(chosen))
    single = len(chosen) == 1
    for u in chosen:
        chunk = chunks.get(u.chunk_id)
        if chunk is None:
            continue
        if u.kind == "stemming":  # a vote on a motion that is not indexed itself: the vote line
            line = _vote_sentence(chunk, u)
            if line:
                out.lines.append(MotionLine(line, chunk.chunk_id, label(u), u.id))
            continue
        first = True
        for text in _dictum_sentences(chunk, u):
            out.lines.append(MotionLine(text, chunk.chunk_id, label(u) if first else None, u.id))
            first = False
        if single:
            for text, chair in _in_span(chunk, u):
                if chair:
                    out.lines.append(MotionLine(text, chunk.chunk_id, label(u) if first else None, u.id))
                    first = False
        vote = votes.get(u.id) or (votes.get(u.was) if u.was else None)
        vote_chunk = chunks.get(vote.chunk_id) if vote else None
        line = _vote_sentence(vote_chunk, vote) if vote and vote_chunk else None
        if line and vote is not None and vote_chunk is not None:
            out.lines.append(MotionLine(line, vote_chunk.chunk_id, f"Stemming over de {u.title}", u.id))
    if named and asks_outcome(question) and not any(u.status for u in chosen):
        out.outcome_unknown = True
    if asks_outcome(question) and single:
        # "Is de motie aangenomen?": the vote answers it; the motion itself supports.
        votes_first = [ln for ln in out.lines if ln.label and ln.label.startswith("Stemming")]
        out.lines = votes_first + [ln for ln in out.lines if ln not in votes_first]
    return out
