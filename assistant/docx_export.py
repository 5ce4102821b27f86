"""Write a ``Letter`` as a Word document an official can open and edit.

python-docx has no footnote API, so notes are numbered superscripts in the text with a "Noten" section
that lists them in official citation form; Word users convert or keep them as they like. Headings use
Word's built-in heading styles so the navigation pane and a table of contents work.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.shared import Pt

from assistant.draft import BOUWSTENEN_LABEL, Letter


def write_docx(letter: Letter, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    doc.core_properties.title = letter.title
    doc.core_properties.subject = letter.topic
    doc.core_properties.comments = f"Eerste concept, gemaakt met de briefing-assistent ({letter.engine})."
    style = doc.styles["Normal"]
    style.font.name = "Verdana"  # the Rijkshuisstijl letter font, where installed
    style.font.size = Pt(9.5)

    doc.add_heading(letter.title, level=0)
    meta = doc.add_paragraph()
    meta.add_run(f"Concept, {letter.created}").italic = True
    if letter.mode == "bouwstenen":
        doc.add_paragraph().add_run(BOUWSTENEN_LABEL).italic = True

    for section in letter.sections:
        doc.add_heading(section.heading, level=1)
        if not section.paragraphs:
            doc.add_paragraph("(Geen passages gevonden voor dit onderdeel.)")
        for p in section.paragraphs:
            para = doc.add_paragraph(style="List Bullet" if letter.mode == "bouwstenen" else None)
            para.add_run(p.text)
            for n in p.notes:
                para.add_run(str(n)).font.superscript = True

    if letter.notes:
        doc.add_heading("Noten", level=1)
        for n, text in enumerate(letter.notes, 1):
            para = doc.add_paragraph()
            para.add_run(str(n)).font.superscript = True
            para.add_run(" " + text)

    doc.add_heading("Bronnen", level=1)
    for src in letter.sources:
        line = src["display"]
        if src.get("cited_in"):
            line += f" (geciteerd in: {'; '.join(src['cited_in'])})"
        doc.add_paragraph(line, style="List Number")

    if letter.unsupported:
        doc.add_heading("Weggelaten (niet gesteund door de bronnen)", level=1)
        for u in letter.unsupported:
            doc.add_paragraph(u, style="List Bullet")
    for w in letter.warnings:
        doc.add_paragraph().add_run(f"Let op: {w}").italic = True

    doc.save(str(path))
    return path
