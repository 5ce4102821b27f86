"""The readers on real files from ../shared and on PDF/DOCX/XML inputs generated here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.encoding import decode_bytes, fix_text
from corpus.loader import read_file
from corpus.models import AANHANGSEL, DEBAT, HANDELINGEN, KAMERSTUK, NOTA, STRATEGIE, Document, ReadError


def _doc(path: Path) -> Document:
    result = read_file(path)
    assert isinstance(result, Document), result
    return result


def _raw(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


# --- officielebekendmakingen XML: Handelingen ---------------------------------------------------------


def test_handelingen_debate_has_identity_title_and_one_section_per_speaker_turn(shared_corpus: Path) -> None:
    path = shared_corpus / "handelingen" / "h-tk-20172018-70-12.xml"
    doc = _doc(path)
    assert doc.id == "h-tk-20172018-70-12"
    assert doc.kind == HANDELINGEN and doc.access == "openbaar"
    assert (doc.kamer, doc.vergaderjaar) == ("II", "2017-2018")
    assert doc.kamerstuk_id == "h-tk-20172018-70-12"
    assert doc.citation == "Handelingen II 2017/18, nr. 70, item 12"
    assert doc.title == "Nederlandse economie na de brexit"

    turns = [s for s in doc.sections if s.speaker]
    assert len(turns) == len(re.findall(r"<spreekbeurt\b", _raw(path)))
    speakers = {s.speaker for s in turns}
    assert {"De voorzitter", "De heer Paternotte (D66)", "Minister Wiebes"} <= speakers
    paternotte = next(s for s in turns if s.speaker == "De heer Paternotte (D66)")
    assert paternotte.text.startswith(
        "Dank u wel, mevrouw de voorzitter. Over minder dan één jaar is het zover."
    )
    assert "Paternotte" in doc.metadata["speakers"]
    # Pretty-printed inline elements must not leave gaps before punctuation or inside brackets.
    assert not re.search(r"\w \.|\( | \)", doc.text)
    assert "de Nederlandse economie na de brexit." in doc.sections[0].text


def test_ingekomen_stukken_one_section_per_entry(shared_corpus: Path) -> None:
    path = shared_corpus / "handelingen" / "h-tk-20172018-70-14.xml"
    doc = _doc(path)
    assert doc.title == "Ingekomen stukken"
    entries = [s for s in doc.sections if "Rondgezonden" in s.text or "Voorgesteld" in s.text]
    assert entries, "the list of ingekomen stukken produced no entries"
    # Every entry is its own section: a section never holds two entries.
    for s in doc.sections:
        assert s.text.count("\n") <= 4, s.text
    entry = next(s for s in doc.sections if "21501-02-1855" in s.text)
    assert entry.heading == "Brieven regering:"
    assert entry.text.startswith("Aanvulling geannoteerde agenda Raad Algemene Zaken van 20 maart 2018")
    # Each kamerstuk number in the raw list shows up in the sections.
    raw_numbers = set(re.findall(r" - (\d{4,5}(?:-[0-9A-Z]+)?-\d+)\s*</al>", _raw(path)))
    assert raw_numbers and all(n in doc.text for n in raw_numbers)


def test_opening_item_has_meeting_date_and_attendance(shared_corpus: Path) -> None:
    doc = _doc(shared_corpus / "handelingen" / "h-tk-20172018-70-1.xml")
    assert doc.date == "2018-04-05"
    assert doc.title.startswith("Opening")
    assert "Aanwezig zijn 144 leden der Kamer" in doc.text
    assert "Kröger" in doc.text


def test_mojibake_fixtures_read_identical_to_clean_files(shared_dir: Path) -> None:
    fixtures = sorted((shared_dir / "fixtures" / "mojibake-handelingen").glob("*.xml"))
    assert len(fixtures) >= 10
    assert any("Ã" in p.read_text(encoding="utf-8") for p in fixtures)  # the fixtures really are broken
    for broken_path in fixtures:
        broken = _doc(broken_path)
        clean = _doc(shared_dir / "corpus" / "handelingen" / broken_path.name)
        assert broken.text == clean.text, broken_path.name
        assert [(s.heading, s.speaker) for s in broken.sections] == [
            (s.heading, s.speaker) for s in clean.sections
        ]
        assert (broken.id, broken.title, broken.date, broken.citation) == (
            clean.id,
            clean.title,
            clean.date,
            clean.citation,
        )
        assert "Ã" not in broken.text and "\ufeff" not in broken.text


KAMERSTUK_XML = """<?xml version="1.0" encoding="utf-8"?>
<officiele-publicatie xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <metadata>
    <meta name="OVERHEIDop.externMetadataRecord" scheme=""
          content="https://zoek.officielebekendmakingen.nl/kst-30821-153/metadata.xml"/>
  </metadata>
  <kamerstuk>
    <kamerstukkop>
      <tekstregel inhoud="kameraanduiding">Tweede Kamer der Staten-Generaal</tekstregel>
      <tekstregel inhoud="vergaderjaar">Vergaderjaar 2021–2022</tekstregel>
    </kamerstukkop>
    <dossier>
      <dossiernummer><dossiernr>30 821</dossiernr></dossiernummer>
      <titel>Nationale Veiligheid</titel>
    </dossier>
    <stuk>
      <stuknr>Nr. <ondernummer kamer="2">153</ondernummer></stuknr>
      <titel>BRIEF VAN DE MINISTER VAN JUSTITIE EN VEILIGHEID</titel>
      <datumtekst>Den Haag, <datum isodatum="2021-09-20">20 september 2021</datum></datumtekst>
      <algemeen><vrije-tekst><tekst>
        <al>Aan de Voorzitter van de Tweede Kamer der Staten-Generaal</al>
        <divisie><kop><nr>1.</nr><titel>Aanleiding</titel></kop>
          <al>ABD Topconsult heeft onderzoek gedaan naar een <nadruk type="cur">Planbureau voor de
            Veiligheid</nadruk>.<noot id="n1" type="voet"><noot.nr>1</noot.nr><noot.al>Kamerstukken II
            2020/21, 35570, nr. 17.</noot.al></noot></al>
          <lijst type="expliciet"><li><li.nr>–</li.nr><al>eerste overweging;</al></li>
            <li><li.nr>–</li.nr><al>tweede overweging.</al></li></lijst>
        </divisie>
        <divisie><kop><nr>2.</nr><titel>Conclusie</titel></kop>
          <al>Het kabinet laat de keuze aan een nieuw kabinet.</al>
          <onbekend-element>Tekst in een element dat de lezer niet kent.</onbekend-element>
        </divisie>
      </tekst></vrije-tekst></algemeen>
    </stuk>
  </kamerstuk>
</officiele-publicatie>
"""


def test_kamerstuk_xml(tmp_path: Path) -> None:
    path = tmp_path / "brief.xml"
    path.write_text(KAMERSTUK_XML, encoding="utf-8")
    doc = _doc(path)
    assert doc.id == "kst-30821-153"
    assert doc.kind == KAMERSTUK and doc.access == "openbaar"
    assert (doc.dossier, doc.ondernummer, doc.kamer, doc.vergaderjaar) == ("30821", "153", "II", "2021-2022")
    assert doc.kamerstuk_id == "30821-153"
    assert doc.citation and doc.citation.startswith("Kamerstukken II 2021/22") and "nr. 153" in doc.citation
    assert doc.date == "2021-09-20"
    assert doc.title == "Nationale Veiligheid; Brief van de minister van justitie en veiligheid"
    by_heading = {s.heading: s.text for s in doc.sections}
    assert "Planbureau voor de Veiligheid." in by_heading["1. Aanleiding"]
    assert "Noot: 1 Kamerstukken II 2020/21, 35570, nr. 17." in by_heading["1. Aanleiding"]
    assert "– eerste overweging;\n– tweede overweging." in by_heading["1. Aanleiding"]
    assert "Tekst in een element dat de lezer niet kent." in by_heading["2. Conclusie"]


def test_kamerstuk_without_identifier_gets_one_from_its_dossier_and_number(tmp_path: Path) -> None:
    xml = re.sub(r"<metadata>.*?</metadata>", "", KAMERSTUK_XML, flags=re.S)
    path = tmp_path / "download (3).xml"
    path.write_text(xml, encoding="utf-8")
    doc = _doc(path)
    assert doc.id == "kst-30821-153"
    assert doc.kamerstuk_id == "30821-153"


def test_aanhangsel_identifier_from_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "ah-tk-20142015-1241.xml"
    path.write_text(
        "<officiele-publicatie><aanhangsel><vraag><nr>1</nr><al>Kent u het bericht?</al></vraag>"
        "<antwoord><nr>1</nr><al>Ja.</al></antwoord></aanhangsel></officiele-publicatie>",
        encoding="utf-8",
    )
    doc = _doc(path)
    assert (doc.id, doc.kind, doc.kamer, doc.vergaderjaar) == (
        "ah-tk-20142015-1241",
        AANHANGSEL,
        "II",
        "2014-2015",
    )
    assert "Kent u het bericht?" in doc.text and "Ja." in doc.text


def test_xml_entity_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bom.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        "<officiele-publicatie><handelingen><al>&b;</al></handelingen></officiele-publicatie>",
        encoding="utf-8",
    )
    result = read_file(path)
    assert isinstance(result, ReadError) and "refused" in result.reason


# --- ParlaMint -----------------------------------------------------------------------------------------


def test_parlamint_tei_speaker_turns(shared_corpus: Path) -> None:
    path = shared_corpus / "parlamint-nl" / "ParlaMint-NL_2019-05-16-tweedekamer-11.xml"
    doc = _doc(path)
    assert (doc.id, doc.kind, doc.access, doc.date, doc.kamer) == (
        path.stem,
        DEBAT,
        "openbaar",
        "2019-05-16",
        "II",
    )
    assert doc.title == "Lekken van gifgas door chemiebedrijf Chemours"
    turns = [s for s in doc.sections if s.speaker]
    assert len(turns) == len(re.findall(r"<u\b", _raw(path)))
    assert turns[1].speaker == "De heer Laçin (SP)"
    assert "Chemours loost nog altijd" in turns[1].text and "Dan het lekken van gifgas PFIB" in turns[1].text
    # u273 has no speaker note in the sample: the -meta.tsv names her.
    assert turns[2].speaker == "De voorzitter (Khadija Arib)"


def test_parlamint_txt_with_and_without_meta_tsv(shared_corpus: Path) -> None:
    folder = shared_corpus / "parlamint-nl"
    with_tsv = _doc(folder / "ParlaMint-NL_2019-05-16-tweedekamer-11.txt")
    assert [s.speaker for s in with_tsv.sections] == [
        "De voorzitter (Khadija Arib)",
        "Cem Laçin (SP)",
        "De voorzitter (Khadija Arib)",
        "De voorzitter (Khadija Arib)",
    ]
    assert with_tsv.title.startswith("Verslag van de vergadering van de Tweede Kamer")
    ek = _doc(folder / "ParlaMint-NL_2022-07-12-eerstekamer-3.txt")
    assert (ek.kind, ek.kamer, ek.date, ek.access) == (DEBAT, "I", "2022-07-12", "openbaar")
    lines = [
        ln for ln in _raw(folder / "ParlaMint-NL_2022-07-12-eerstekamer-3.txt").splitlines() if ln.strip()
    ]
    assert [s.text for s in ek.sections] == [ln.split("\t", 1)[1].strip() for ln in lines]
    assert all(s.speaker is None for s in ek.sections)


# --- plain text: strategies and the nota ------------------------------------------------------------------


def test_strategies_are_english_strategy_documents_with_year_and_title(shared_corpus: Path) -> None:
    docs = {p.stem: _doc(p) for p in sorted((shared_corpus / "strategies-en").glob("*.txt"))}
    assert len(docs) == 4
    for stem, doc in docs.items():
        assert doc.kind == STRATEGIE and doc.language == "en", stem
        assert doc.date == re.search(r"\d{4}", stem).group(0)
        assert "-----" not in doc.text and "**" not in doc.text
    assert docs["netherlands_2019_NationalSecurityStrategy"].title == "National Security Strategy"
    assert (
        docs["netherlands_2023_SecurityStrategy"].title
        == "The Security Strategy for the Kingdom of the Netherlands"
    )
    # The 2007 cover heading is letter-spaced ("N A T I O N A L"): the file name is the better title.
    assert docs["netherlands_2007_NationalSecurity"].title == "Netherlands 2007 National Security"


def test_strategy_layout_repair(shared_corpus: Path) -> None:
    text_2023 = _doc(shared_corpus / "strategies-en" / "netherlands_2023_SecurityStrategy.txt").text
    assert "democratic constitu-" in _raw(
        shared_corpus / "strategies-en" / "netherlands_2023_SecurityStrategy.txt"
    )
    assert "democratic constitutional system" in text_2023
    text_2007 = _doc(shared_corpus / "strategies-en" / "netherlands_2007_NationalSecurity.txt").text
    # Hard-wrapped with a blank line after every line in the source; one sentence here.
    assert "people feel free, at ease and connected. In our densely populated country" in text_2007


def test_nota_layout_without_sidecar(shared_corpus: Path) -> None:
    path = shared_corpus / "notas" / "nota-4730561.txt"
    doc = _doc(path)
    assert (doc.id, doc.kind, doc.access, doc.language) == ("nota-4730561", NOTA, "intern", "nl")
    assert doc.date == "2023-12-22"
    assert doc.title == "Kamerbrief Planbureau voor de veiligheid"
    assert doc.metadata["kenmerk"] == "4730561"
    raw = _raw(path)
    assert raw.count("Ons kenmerk") == 3
    assert doc.text.count("Ons kenmerk") == 1  # the letterhead keeps it; the page repeats are gone
    body = "\n".join(s.text for s in doc.sections[1:])
    assert "Juridische zaken" not in body and "Ons kenmerk" not in body
    headings = [s.heading for s in doc.sections]
    assert "1. Aanleiding" in headings and "4.1 Politieke context" in headings
    # The page break in the middle of a sentence is joined; the last section survives the header strip.
    assert "de verbindingen tussen bestaande kennisinstituten" in body
    assert doc.sections[-1].text.startswith("De persoonsgegevens van de ambtenaren")


def test_nota_recognised_by_ons_kenmerk_block(tmp_path: Path) -> None:
    path = tmp_path / "advies.txt"
    path.write_text(
        "Directie X\n\nDatum\n3 maart 2024\n\nOns kenmerk\n12345\n\nnota\n\nAdvies over iets\n\n"
        "1. Aanleiding\n\nDe tekst van het advies.\n",
        encoding="utf-8",
    )
    doc = _doc(path)
    assert (doc.kind, doc.date, doc.title, doc.metadata["kenmerk"]) == (
        NOTA,
        "2024-03-03",
        "Advies over iets",
        "12345",
    )


def test_markdown_and_plain_text_sections(tmp_path: Path) -> None:
    md = tmp_path / "README.md"
    md.write_text(
        "# Handleiding\n\nEerste alinea\nloopt door.\n\n## Installatie\n\nStap een.\n\nStap twee.\n"
    )
    doc = _doc(md)
    assert doc.title == "Handleiding" and doc.access == "intern"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Handleiding", "Eerste alinea loopt door."),
        ("Installatie", "Stap een.\n\nStap twee."),
    ]
    txt = tmp_path / "verslag_overleg.txt"
    txt.write_text("Verslag van het overleg.\n\nTweede alinea met een punt.\n", encoding="utf-8")
    doc = _doc(txt)
    assert doc.title == "Verslag overleg" and "Tweede alinea met een punt." in doc.text


# --- encodings -------------------------------------------------------------------------------------------


def test_encodings_are_detected_and_repaired(tmp_path: Path) -> None:
    sentence = "Coöperatie één: de heer Kröger sprak over ‘café’ — enzovoort."
    assert decode_bytes(sentence.encode("cp1252")) == sentence
    assert decode_bytes(sentence.encode("utf-16")) == sentence
    assert decode_bytes(sentence.encode("utf-8").decode("latin-1").encode("utf-8")) == sentence
    assert decode_bytes("\ufeff\n".encode() + sentence.encode()) == sentence
    assert fix_text("ï»¿\nKrÃ¶ger") == "Kröger"
    p = tmp_path / "oud.txt"
    p.write_bytes(("Notitie\n\n" + sentence + "\n").encode("cp1252"))
    assert sentence in _doc(p).text


# --- PDF and DOCX ----------------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[list[str]], header: str | None = None) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("")
    for n, lines in enumerate(pages, 1):
        y = 800
        if header:
            c.drawString(72, y, header)
            c.drawString(400, y, f"Pagina {n} van {len(pages)}")
            y -= 40
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()


def test_pdf_pages_keep_their_numbers_and_lose_running_headers(tmp_path: Path) -> None:
    path = tmp_path / "rapport.pdf"
    pages = [
        [
            "Rapport over de weerbaarheid",
            "Dit is de eerste pagina over de vitale infra-",
            "structuur van Nederland.",
        ],
        ["Tweede pagina: de aanbevelingen aan het kabinet."],
        ["Derde pagina: de bijlagen en de verantwoording."],
    ]
    make_pdf(path, pages, header="Ministerie van Testzaken")
    doc = _doc(path)
    assert doc.pages == 3
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert "vitale infrastructuur van Nederland" in doc.sections[0].text
    assert "aanbevelingen aan het kabinet" in doc.sections[1].text
    assert "verantwoording" in doc.sections[2].text
    assert "Ministerie van Testzaken" not in doc.text and "Pagina" not in doc.text
    assert doc.title == "Rapport over de weerbaarheid" and doc.access == "intern"


def test_nota_pdf_letterhead_repeats_are_dropped_from_later_pages(tmp_path: Path) -> None:
    head = [
        "Afdeling Strategie, Staf en",
        "Juridische zaken",
        "Datum",
        "22 december 2023",
        "Ons kenmerk",
        "4730561",
    ]
    pages = [
        ["Minister van justitie en veiligheid", *head, "nota", "Kamerbrief Planbureau voor de veiligheid"]
        + ["1. Aanleiding", "Tijdens de beschouwingen is toegezegd dat het kabinet een brief stuurt."],
        [*head, "3. Kernpunten", "De conclusie is dat een planbureau onvoldoende meerwaarde biedt."],
    ]
    path = tmp_path / "nota-123.pdf"
    make_pdf(path, pages)
    doc = _doc(path)
    assert (doc.kind, doc.date, doc.title, doc.pages) == (
        NOTA,
        "2023-12-22",
        "Kamerbrief Planbureau voor de veiligheid",
        2,
    )
    assert doc.metadata["kenmerk"] == "4730561"
    page2 = next(s for s in doc.sections if s.page == 2)
    assert "Ons kenmerk" not in page2.text and "Juridische zaken" not in page2.text
    assert "onvoldoende meerwaarde" in page2.text
    assert "Ons kenmerk" in next(s for s in doc.sections if s.page == 1).text


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Beleidsnotitie weerbaarheid"
    d.add_heading("Inleiding", level=1)
    d.add_paragraph("De eerste alinea van de inleiding.")
    d.add_paragraph("De tweede alinea.")
    d.add_heading("Cijfers", level=1)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Jaar", "Bedrag"
    table.cell(1, 0).text, table.cell(1, 1).text = "2023", "€ 12 miljoen"
    path = tmp_path / "notitie.docx"
    d.save(str(path))
    doc = _doc(path)
    assert doc.title == "Beleidsnotitie weerbaarheid"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Inleiding", "De eerste alinea van de inleiding.\n\nDe tweede alinea."),
        ("Cijfers", "Jaar | Bedrag\n2023 | € 12 miljoen"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("leeg.txt", b"", "empty file"),
        ("kapot.xml", b"<officiele-publicatie><handelingen><al>open", "not valid XML"),
        ("kapot.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF", "PDF"),
        ("ruis.txt", bytes(range(256)) * 20, "binary"),
        ("plaatje.png", b"\x89PNG\r\n\x1a\n....", "unsupported file type"),
        ("kapot.docx", b"PK\x03\x04 not really a zip", "not a valid DOCX"),
    ],
)
def test_unreadable_files_give_a_named_read_error(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_file(path)
    assert isinstance(result, ReadError), result
    assert reason in result.reason and result.path.endswith(name)


def test_scanned_and_encrypted_pdfs_give_read_errors(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    scanned = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(scanned))
    c.rect(100, 100, 300, 400, fill=1)  # an image-like page without a text layer
    c.showPage()
    c.save()
    result = read_file(scanned)
    assert isinstance(result, ReadError) and "no text extracted" in result.reason

    plain = tmp_path / "plain.pdf"
    make_pdf(plain, [["Geheime tekst."]])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="geheim", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    result = read_file(locked)
    assert isinstance(result, ReadError) and "encrypted" in result.reason
