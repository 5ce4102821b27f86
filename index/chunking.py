"""Cut a ``Document`` into chunks that follow its structure, as llama-index ``TextNode``s.

Rules (issue 3):
- a chunk never spans two documents (we chunk one document at a time);
- consecutive sections (paragraphs, speaker turns, PDF pages) are merged while they fit the token budget and
  share heading, speaker and page; a structural boundary only starts a new chunk once the current one is
  big enough to stand on its own, so one-line turns ("Dank u wel.") do not become useless chunks;
- a section longer than the budget is split by llama-index's ``SentenceSplitter`` with modest overlap;
- every node carries the payload the store and the answer layer need (see ``PAYLOAD_KEYS``).

Besides the chunks, every sentence becomes a unit of its own ("small-to-big"): a question retrieves the
sentences that answer it directly, and the sentence's chunk gives the context and the source. A sentence
carries its own speaker, heading and page (a chunk may hold several turns), its character span in the
chunk's text (to highlight it), and the Kamerstukken it names. Sentences repeated by the chunk overlap, or
cut in half by it, are indexed once.

Node ids are the store's point ids: uuid5 of (doc id, chunk index, chunk hash) for chunks and of (chunk id,
sentence span, sentence text) for sentences, so re-running an ingest writes the same points and a killed
run can never leave duplicates behind.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import TextNode

from corpus.citations import canonical_ids
from corpus.models import Document
from corpus.sentences import split_sentences

# Dutch text runs ~1.3 model tokens per word; close enough for sizing and free to compute.
TOKENS_PER_WORD = 1.3
# Fixed namespace so point ids are stable across machines and versions.
POINT_NAMESPACE = uuid.UUID("6b1f7a52-3c1e-5d2b-9a41-0c7e9f2d4b11")

# What every point of a document carries: the document's identity and where the point sits.
DOCUMENT_KEYS = (
    "doc_id",
    "title",
    "kind",
    "date",
    "access",
    "language",
    "path",
    "dossier",
    "kamerstuk_id",
    "citation",
    "doc_hash",
    "chunk_index",
    "embed_title",
    "unit",
    "chunk_id",
    "page",
    "section",
    "speaker",
    "citations",
    "kamerstukken",
)
PAYLOAD_KEYS = (*DOCUMENT_KEYS, "pages", "speakers", "chunk_hash", "n_chunks")
# A sentence's own: its position, its span in the chunk's text, whether it is a list item (its speaker,
# section, page and citations are its own too, not the chunk's).
SENTENCE_KEYS = (*DOCUMENT_KEYS, "sentence_index", "bullet", "start", "end")
CHUNK, SENTENCE = "chunk", "sentence"
# Shorter sentences ("Dank u wel.", "Ja.") answer nothing on their own; they stay in their chunk.
MIN_SENTENCE_WORDS = 3

_WORD = re.compile(r"\S+")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(_WORD.findall(text)) * TOKENS_PER_WORD)


def _token_list(text: str) -> list[str]:
    # SentenceSplitter only needs len(tokenizer(text)); a list of the estimated size is enough.
    return [""] * estimate_tokens(text)


def point_id(doc_id: str, index: int, chunk_hash: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}\x00{index}\x00{chunk_hash}"))


def chunk_hash(text: str, embed_title: str) -> str:
    """Hash of exactly what is embedded: a change here means a new vector, nothing else does."""
    return hashlib.sha256(f"{embed_title}\x00{text}".encode()).hexdigest()


@dataclass
class _Unit:
    text: str
    heading: str | None
    page: int | None
    speaker: str | None
    section_no: int  # index of the source section; pieces of one split section share it
    tokens: int


def _units(doc: Document, budget: int, overlap: int) -> list[_Unit]:
    splitter = SentenceSplitter(
        chunk_size=budget,
        chunk_overlap=min(overlap, budget // 2),
        tokenizer=_token_list,
        paragraph_separator="\n\n",
        include_metadata=False,
        include_prev_next_rel=False,
    )
    units: list[_Unit] = []
    for no, sec in enumerate(doc.sections):
        text = sec.text.strip()
        if not text:
            continue
        pieces = [text] if estimate_tokens(text) <= budget else splitter.split_text(text)
        for piece in pieces:
            piece = piece.strip()
            if piece:
                units.append(_Unit(piece, sec.heading, sec.page, sec.speaker, no, estimate_tokens(piece)))
    return units


def _group(units: list[_Unit], budget: int, min_tokens: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    cur: list[_Unit] = []
    size = 0
    for u in units:
        if cur:
            last = cur[-1]
            boundary = (u.heading, u.speaker, u.page) != (last.heading, last.speaker, last.page)
            if (
                u.section_no == last.section_no  # pieces of a split section already overlap: keep apart
                or size + u.tokens > budget
                or (boundary and size >= min_tokens)
            ):
                groups.append(cur)
                cur, size = [], 0
        cur.append(u)
        size += u.tokens
    if cur:
        groups.append(cur)
    return groups


def _main(values: list[tuple[str | None, int]]) -> str | None:
    """The value carrying most tokens (first on ties): the chunk's speaker or section."""
    weights: Counter[str] = Counter()
    order: list[str] = []
    for v, n in values:
        if v:
            if v not in weights:
                order.append(v)
            weights[v] += n
    if not order:
        return None
    return max(order, key=lambda v: (weights[v], -order.index(v)))


def _group_text(group: list[_Unit]) -> tuple[str, list[int]]:
    """The chunk's text, and where each unit's own text starts in it (after a speaker prefix)."""
    voices = {u.speaker for u in group}  # None = narration ("De vergadering wordt geschorst.")
    prefixed = not (len(voices) <= 1 or voices == {None})
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    prev: str | None = None
    for u in group:
        # Several voices in one chunk: say who speaks, or a quote could be put in the wrong mouth.
        prefix = f"{u.speaker}: " if prefixed and u.speaker and u.speaker != prev else ""
        starts.append(pos + len(prefix))
        parts.append(prefix + u.text)
        pos += len(prefix) + len(u.text) + 2
        prev = u.speaker
    return "\n\n".join(parts), starts


def chunk_document(doc: Document, chunk_tokens: int = 300, chunk_overlap: int = 40) -> list[TextNode]:
    """Chunk one document into ``TextNode``s whose ``metadata`` is the store payload (minus ``text``)."""
    return document_units(doc, chunk_tokens, chunk_overlap, sentences=False)


def document_units(
    doc: Document, chunk_tokens: int = 300, chunk_overlap: int = 40, sentences: bool = True
) -> list[TextNode]:
    """Chunks, each followed by its new sentences (``unit`` "chunk" / "sentence" in the metadata), then the
    document's parliamentary units (``unit`` "motie", "amendement", "toezegging", "stemming"; see
    ``index/units.py``)."""
    budget = max(32, chunk_tokens)
    min_tokens = max(24, budget // 4)
    groups = _group(_units(doc, budget, chunk_overlap), budget, min_tokens)
    doc_hash = doc.content_hash
    own = [doc.kamerstuk_id] if doc.kamerstuk_id else []
    nodes: list[TextNode] = []
    chunks: list[TextNode] = []
    held: list[set[int]] = []  # the document sections each chunk holds
    seen: set[str] = set()  # sentences already indexed for this document (normalised)
    for index, group in enumerate(groups):
        text, starts = _group_text(group)
        speaker = _main([(u.speaker, u.tokens) for u in group])
        section = _main([(u.heading, u.tokens) for u in group])
        pages = sorted({u.page for u in group if u.page is not None})
        # The model's document prompt takes a title: give it where the passage sits, not only the doc title.
        embed_title = " | ".join(x for x in (doc.title or doc.id, section, speaker) if x)
        h = chunk_hash(text, embed_title)
        pid = point_id(doc.id, index, h)
        cited = canonical_ids(text)
        metadata = {
            "doc_id": doc.id,
            "title": doc.title,
            "kind": doc.kind,
            "date": doc.date,
            "access": doc.access,
            "language": doc.language,
            "path": doc.path,
            "dossier": doc.dossier,
            "kamerstuk_id": doc.kamerstuk_id,
            "citation": doc.display_citation,
            "page": pages[0] if pages else None,
            "pages": pages,
            "section": section,
            "speaker": speaker,
            "speakers": list(dict.fromkeys(u.speaker for u in group if u.speaker)),
            "citations": cited,
            "kamerstukken": list(dict.fromkeys(own + cited)),
            "doc_hash": doc_hash,
            "chunk_hash": h,
            "chunk_index": index,
            "n_chunks": len(groups),
            "embed_title": embed_title,
            "unit": CHUNK,
            "chunk_id": pid,
        }
        nodes.append(_node(pid, text, metadata))
        chunks.append(nodes[-1])
        held.append({u.section_no for u in group})
        if sentences:
            nodes.extend(_sentence_nodes(group, text, starts, metadata, own, seen))
    if sentences and doc.units:
        from index.units import unit_nodes

        nodes.extend(unit_nodes(doc, chunks, held))
    return nodes


def _node(node_id: str, text: str, metadata: dict) -> TextNode:
    node = TextNode(id_=node_id, text=text, metadata=metadata)
    # We embed text + embed_title ourselves; keep llama-index from folding metadata into the text.
    node.excluded_embed_metadata_keys = list(metadata)
    node.excluded_llm_metadata_keys = list(metadata)
    return node


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _sentence_nodes(
    group: list[_Unit], text: str, starts: list[int], chunk: dict, own: list[str], seen: set[str]
) -> list[TextNode]:
    out: list[TextNode] = []
    for u, base in zip(group, starts, strict=True):
        for s in split_sentences(u.text):
            key = _key(s.text)
            if len(key.split()) < MIN_SENTENCE_WORDS or key in seen:
                continue
            # The chunk overlap may start a piece mid-sentence: the tail of a sentence already indexed.
            if s.text[:1].islower() and any(k.endswith(key) for k in seen):
                continue
            seen.add(key)
            start, end = base + s.start, base + s.end
            cited = canonical_ids(s.text)
            meta = {k: chunk[k] for k in SENTENCE_KEYS if k in chunk}
            meta.update(
                unit=SENTENCE,
                sentence_index=len(seen) - 1,
                bullet=s.bullet,
                start=start,
                end=end,
                page=u.page,
                section=u.heading,
                speaker=u.speaker,
                citations=cited,
                kamerstukken=list(dict.fromkeys(own + cited)),
            )
            sid = str(uuid.uuid5(POINT_NAMESPACE, f"{chunk['chunk_id']}\x00{start}\x00{s.text}"))
            out.append(_node(sid, s.text, meta))
    return out


def node_payload(node: TextNode) -> dict:
    """The full store payload of a chunk node: its metadata plus the text."""
    return {**node.metadata, "text": node.text}
