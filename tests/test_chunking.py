"""Chunking on real documents (Handelingen, the nota, a generated PDF) and on small built documents.

No embedding model needed: these run in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.loader import load_paths
from corpus.models import HANDELINGEN, Document, ReadError, Section
from index.chunking import PAYLOAD_KEYS, chunk_document, estimate_tokens, node_payload, point_id

REPO = Path(__file__).resolve().parents[1]
NOTA = REPO / "corpus" / "documents" / "nota-4730561.txt"


def _load_one(path: Path) -> Document:
    items = list(load_paths([path]))
    docs = [d for d in items if isinstance(d, Document)]
    errors = [e for e in items if isinstance(e, ReadError)]
    assert len(docs) == 1 and not errors, items
    return docs[0]


def _strip_speaker(part: str, speakers: list[str]) -> str:
    for s in speakers:
        if part.startswith(f"{s}: "):
            return part[len(s) + 2 :]
    return part


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def brexit(shared_corpus: Path) -> Document:
    return _load_one(shared_corpus / "handelingen" / "h-tk-20172018-70-12.xml")


def test_handelingen_chunks_follow_speaker_turns(brexit: Document) -> None:
    assert brexit.kind == HANDELINGEN
    turns = [s for s in brexit.sections if s.speaker]
    assert len({s.speaker for s in turns}) >= 3, "the reader should give speaker turns"
    nodes = chunk_document(brexit, chunk_tokens=300, chunk_overlap=40)
    assert len(nodes) > 3
    speakers_seen = {n.metadata["speaker"] for n in nodes if n.metadata["speaker"]}
    assert len(speakers_seen) >= 3
    texts_by_speaker: dict[str, str] = {}
    for s in turns:
        texts_by_speaker[s.speaker] = texts_by_speaker.get(s.speaker, "") + " " + _norm(s.text)
    for n in nodes:
        md = n.metadata
        assert md["speaker"] in md["speakers"] or not md["speakers"]
        if len(md["speakers"]) == 1 and f"{md['speakers'][0]}: " not in n.text:
            # A one-voice chunk holds only that speaker's words (no prefix needed, none added).
            spk = md["speakers"][0]
            for part in n.text.split("\n\n"):
                assert _norm(part) in texts_by_speaker[spk], (spk, part[:80])
        elif md["speakers"]:
            # Several voices in one chunk (turns, or a turn plus narration): every speaker is named.
            assert all(f"{s}: " in n.text for s in md["speakers"]), md["speakers"]


def test_handelingen_turns_are_not_lost_or_duplicated_beyond_overlap(brexit: Document) -> None:
    nodes = chunk_document(brexit, chunk_tokens=300, chunk_overlap=40)
    joined = _norm(
        " ".join(_strip_speaker(p, n.metadata["speakers"]) for n in nodes for p in n.text.split("\n\n"))
    )
    for s in brexit.sections:
        # Every sentence of the document ends up in some chunk.
        for sentence in re.split(r"(?<=[.?!])\s+", _norm(s.text)):
            if len(sentence) > 20:
                assert sentence in joined, sentence[:80]
    words_in = sum(len(s.text.split()) for s in brexit.sections)
    words_out = sum(
        len(_strip_speaker(p, n.metadata["speakers"]).split()) for n in nodes for p in n.text.split("\n\n")
    )
    assert words_in <= words_out <= words_in * 1.3  # overlap is modest


def test_chunk_sizes_respect_budget(brexit: Document) -> None:
    for budget in (120, 300):
        nodes = chunk_document(brexit, chunk_tokens=budget, chunk_overlap=20)
        sizes = [estimate_tokens(n.text) for n in nodes]
        # Speaker prefixes add a few words on top of the budget.
        assert max(sizes) <= budget * 1.15, (budget, max(sizes))
    assert len(chunk_document(brexit, 120, 20)) > len(chunk_document(brexit, 300, 20))


def test_payload_fields_and_document_identity(brexit: Document) -> None:
    nodes = chunk_document(brexit)
    for i, n in enumerate(nodes):
        payload = node_payload(n)
        assert set(PAYLOAD_KEYS) <= set(payload)
        assert payload["text"] == n.text
        assert payload["doc_id"] == brexit.id == "h-tk-20172018-70-12"
        assert payload["kind"] == HANDELINGEN
        assert payload["date"] == brexit.date and payload["date"].startswith("2018")
        assert payload["access"] == brexit.access
        assert payload["chunk_index"] == i and payload["n_chunks"] == len(nodes)
        assert payload["doc_hash"] == brexit.content_hash
        assert payload["kamerstuk_id"] == brexit.kamerstuk_id
        if brexit.kamerstuk_id:
            assert payload["kamerstukken"][0] == brexit.kamerstuk_id
        assert n.node_id == point_id(brexit.id, i, payload["chunk_hash"])


def test_citations_found_in_chunk_go_into_payload(shared_corpus: Path) -> None:
    from corpus.citations import canonical_ids

    doc = _load_one(shared_corpus / "handelingen" / "h-tk-20172018-70-14.xml")  # ingekomen stukken
    nodes = chunk_document(doc)
    cited = [c for n in nodes for c in n.metadata["citations"]]
    assert len(set(cited)) >= 5, cited
    for n in nodes:
        assert n.metadata["citations"] == canonical_ids(n.text)
        for c in n.metadata["citations"]:
            assert c in n.metadata["kamerstukken"]


def test_nota_chunks_follow_sections() -> None:
    doc = _load_one(NOTA)
    headings = [s.heading for s in doc.sections if s.heading]
    nodes = chunk_document(doc, chunk_tokens=200, chunk_overlap=30)
    assert len(nodes) >= 3
    sections = [n.metadata["section"] for n in nodes if n.metadata["section"]]
    assert sections, "nota chunks should name their section"
    assert set(sections) <= set(headings)
    # Chunks come in document order: section order in chunks follows heading order in the document.
    order = [headings.index(s) for s in sections]
    assert order == sorted(order)
    assert any("planbureau" in n.text.lower() for n in nodes)


def test_pdf_chunks_keep_page_numbers(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "brief-pagina.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    markers = ["vuurtoren", "zeppelin", "kameleon"]
    for page, marker in enumerate(markers, 1):
        y = 800
        for line in range(30):
            c.drawString(
                40, y, f"Pagina {page} regel {line}: de {marker} staat in de beleidsnota over veiligheid."
            )
            y -= 20
        if page == 2:
            c.drawString(40, y, "Zie Kamerstukken II 2017/18, 33763, nr. 141.")
        c.showPage()
    c.save()
    doc = _load_one(pdf)
    nodes = chunk_document(doc, chunk_tokens=150, chunk_overlap=20)
    assert len(nodes) >= 3
    for n in nodes:
        assert n.metadata["page"] is not None and n.metadata["pages"]
        assert n.metadata["page"] == n.metadata["pages"][0]
        for page, marker in enumerate(markers, 1):
            if marker in n.text:
                assert page in n.metadata["pages"], (marker, n.metadata["pages"])
    cited = [n for n in nodes if "33763-141" in n.metadata["citations"]]
    assert cited and all(2 in n.metadata["pages"] for n in cited)


def _doc(doc_id: str, sections: list[Section], **kw) -> Document:
    return Document(id=doc_id, path=f"/tmp/{doc_id}.txt", title=f"Titel {doc_id}", sections=sections, **kw)


def test_never_across_documents_and_ids_are_deterministic() -> None:
    a = _doc("doc-a", [Section(text=f"Alfa zin nummer {i} over dijken.", heading="Alfa") for i in range(40)])
    b = _doc("doc-b", [Section(text=f"Bravo zin nummer {i} over wegen.", heading="Bravo") for i in range(40)])
    na, nb = chunk_document(a, 60, 10), chunk_document(b, 60, 10)
    assert all("Bravo" not in n.text and n.metadata["doc_id"] == "doc-a" for n in na)
    assert all("Alfa" not in n.text and n.metadata["doc_id"] == "doc-b" for n in nb)
    assert [n.node_id for n in na] == [n.node_id for n in chunk_document(a, 60, 10)]
    assert not {n.node_id for n in na} & {n.node_id for n in nb}
    # Changing the last paragraph changes only the ids of the chunk(s) holding it.
    a2 = a.model_copy(deep=True)
    a2.sections[-1].text = "Alfa slotzin is herschreven."
    na2 = chunk_document(a2, 60, 10)
    same = [x.node_id == y.node_id for x, y in zip(na, na2, strict=False)]
    assert same[0] and not all(same)


def test_short_turns_merge_and_name_speakers() -> None:
    turns = [
        Section(text="Dank u wel.", speaker="De voorzitter"),
        Section(
            text="Heeft de minister de brief over de dijkversterking al gestuurd?",
            speaker="De heer Jansen (VVD)",
        ),
        Section(text="Die brief komt voor de zomer.", speaker="Minister Bakker"),
    ]
    nodes = chunk_document(_doc("h-test-1", turns, kind=HANDELINGEN), 300, 40)
    assert len(nodes) == 1
    text = nodes[0].text
    assert "De heer Jansen (VVD): Heeft de minister" in text and "Minister Bakker: Die brief" in text
    assert nodes[0].metadata["speakers"] == ["De voorzitter", "De heer Jansen (VVD)", "Minister Bakker"]
    # The main speaker is the one with the most words in the chunk.
    assert nodes[0].metadata["speaker"] == "De heer Jansen (VVD)"


def test_long_section_is_split_with_overlap() -> None:
    sentences = [f"Zin {i} bespreekt onderwerp {i} van de nota in enig detail." for i in range(200)]
    doc = _doc("lang", [Section(text=" ".join(sentences), heading="Kern")])
    nodes = chunk_document(doc, chunk_tokens=100, chunk_overlap=20)
    assert len(nodes) > 5
    assert all(estimate_tokens(n.text) <= 100 for n in nodes)
    assert all(n.metadata["section"] == "Kern" for n in nodes)
    for x, y in zip(nodes, nodes[1:], strict=False):
        tail = set(x.text.split()[-10:])
        assert tail & set(y.text.split()[:20]), "consecutive pieces should overlap a little"
