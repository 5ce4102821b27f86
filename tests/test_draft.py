"""Drafting a Kamerbrief from the real index, and its DOCX export read back with python-docx."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from docx import Document as DocxDocument

from assistant.cli import main
from assistant.docx_export import write_docx
from assistant.draft import BOUWSTENEN_LABEL, draft_letter

TOPIC = "planbureau voor de veiligheid"


def test_draft_letter_bouwstenen_structure_and_citations(indexed_settings, embedder) -> None:
    from assistant.answer import Assistant

    letter = draft_letter(TOPIC, indexed_settings, assistant=Assistant(indexed_settings, embedder=embedder))
    assert letter.mode == "bouwstenen"
    assert [s.heading for s in letter.sections] == [
        "Aanleiding",
        "Eerdere besluitvorming",
        "Nieuwe ontwikkelingen",
        "Conclusie",
    ]
    by = {s.heading: s for s in letter.sections}
    assert all(by[h].paragraphs for h in by), letter.render_text()
    # The earlier decisions appear in chronological order with their Kamerstukken in official form.
    history = " ".join(p.text for p in by["Eerdere besluitvorming"].paragraphs)
    assert "33763, nr. 141" in history or "33763, nr. 141" in " ".join(letter.notes), letter.render_text()
    years = [
        int(y)
        for p in by["Eerdere besluitvorming"].paragraphs
        for y in re.findall(r"\b(20[12]\d)\b", p.text)[:1]
    ]
    assert years == sorted(years)
    assert any(n.startswith("Kamerstukken II 2017/18, 33763, nr. 141") for n in letter.notes), letter.notes
    # Every paragraph has notes, every note number exists.
    for s in letter.sections:
        for p in s.paragraphs:
            assert p.notes and all(1 <= n <= len(letter.notes) for n in p.notes)
    # No statement twice.
    texts = [p.text for s in letter.sections for p in s.paragraphs]
    assert len(texts) == len(set(texts))
    # Renderings and JSON agree.
    text, md = letter.render_text(), letter.render_markdown()
    assert BOUWSTENEN_LABEL in text and "## Bronnen" in md and "[^1]:" in md
    data = json.loads(json.dumps(letter.to_json()))
    assert [s["heading"] for s in data["sections"]] == [s.heading for s in letter.sections]
    assert any(src["doc_id"] == "nota-4730561" for src in data["sources"])


def test_briefing_draft_writes_a_docx_with_sources(indexed_settings, tmp_path: Path) -> None:
    out = tmp_path / "out.docx"
    env = {
        "BRIEFING_MODELS": str(indexed_settings.models),
        "BRIEFING_EMBEDDING_CACHE": str(indexed_settings.embedding_cache),
    }
    result = CliRunner().invoke(
        main, ["--home", str(indexed_settings.home), "draft", TOPIC, "--docx", str(out), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    doc = DocxDocument(str(out))
    paras = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "Aanleiding",
        "Eerdere besluitvorming",
        "Nieuwe ontwikkelingen",
        "Conclusie",
        "Noten",
        "Bronnen",
    ]
    sources = paras[paras.index("Bronnen") + 1 :]
    for src in data["sources"]:
        assert any(line.startswith(src["display"]) for line in sources), (src, sources)
    assert any("Kamerstukken II 2017/18, 33763, nr. 141" in line for line in sources)
    assert doc.core_properties.title == f"Kamerbrief over {TOPIC}"
    # Note numbers are superscript runs after the statements.
    first = doc.paragraphs[paras.index("Aanleiding") + 1]
    assert any(r.font.superscript and r.text.isdigit() for r in first.runs)


def test_write_docx_from_json_roundtrip(tmp_path: Path) -> None:
    """The exporter on a letter built by hand: an LLM-mode letter renders prose paragraphs, not bullets."""
    from assistant.draft import Letter, LetterSection, Paragraph

    letter = Letter(
        topic="test",
        mode="tekst",
        engine="llm",
        sections=[
            LetterSection("Aanleiding", [Paragraph("Het kabinet heeft toegezegd een brief te sturen.", [1])])
        ],
        notes=["Nota JenV 4730561"],
        sources=[{"doc_id": "nota-4730561", "display": "Nota JenV 4730561"}],
        unsupported=["Een verzonnen zin."],
    )
    path = write_docx(letter, tmp_path / "sub" / "brief.docx")
    doc = DocxDocument(str(path))
    paras = [p.text for p in doc.paragraphs]
    assert "Het kabinet heeft toegezegd een brief te sturen.1" in paras
    assert paras[paras.index("Bronnen") + 1] == "Nota JenV 4730561"
    assert "Een verzonnen zin." in paras
    assert BOUWSTENEN_LABEL not in paras


def test_draft_with_a_failing_llm_falls_back_to_bouwstenen(indexed_settings, embedder) -> None:
    from assistant.answer import Assistant
    from tests.llm_server import LLMTestServer

    with LLMTestServer() as srv:
        s = indexed_settings.model_copy(update={"engine": "llm", "llm_url": srv.url, "llm_model": "http-500"})
        letter = draft_letter(TOPIC, s, assistant=Assistant(s, embedder=embedder))
    assert letter.mode == "bouwstenen" and letter.engine == "llm"
    assert any("taalmodel" in w for w in letter.warnings)
    assert len(srv.requests) == 1  # stopped at the first failure
    assert any(p.notes for sec in letter.sections for p in sec.paragraphs)
