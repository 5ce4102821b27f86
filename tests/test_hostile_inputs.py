"""Hostile and careless inputs, generated here: links out of the folder and into the assistant's own files,
link loops, files over the size and complexity limits (a zip bomb, a PDF with too many pages, a text too
long to chunk), a file that makes a reader or the sentence splitter raise, a feedback line with U+2028,
upload names in other scripts, refused uploads, uploads with an id already in use and replacements
without the right. Each test failed on the code before issue 11 (points 2, 5, 7 and 10).

Where ingest is involved the real readers, store and embedding model are used, with tiny texts and small
limits in the settings so that the tests stay fast. See docs/security-files.md for the promises.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from assistant import service
from assistant.feedback import read_feedback, record_feedback
from corpus.loader import load_paths, read_file
from corpus.models import Document, ReadError
from corpus.settings import Settings, User
from index.ingest import ingest_paths, open_manifest
from index.search import get_index

NOTA = """Ministerie van Justitie en Veiligheid

Datum
3 maart 2024

Ons kenmerk
4730561

nota

Dijkbewaking door vrijwilligers

De waterschappen vragen om duidelijkheid over de inzet van vrijwilligers bij dijkbewaking tijdens hoogwater.
Wij adviseren in te stemmen met een landelijke regeling voor de verzekering van vrijwillige dijkwachten.
"""
FAKE = "Valse tekst: de dijkbewaking wordt per direct opgeheven en de verzekering vervalt.\n"
TOML_WITH_HASH = (
    '[[users]]\nname = "anna"\npassword_hash = "$2b$12$geheimehashgeheimehashgeheimehashgeheimehashgeh"\n'
)


def _split(results: list[Document | ReadError]) -> tuple[dict[str, Document], dict[str, ReadError]]:
    docs = {r.id: r for r in results if isinstance(r, Document)}
    errors = {Path(r.path).name: r for r in results if isinstance(r, ReadError)}
    return docs, errors


def _text(path: Path, text: str = "Een korte notitie over dijkbewaking.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _files(folder: Path) -> list[str]:
    """Every file left under ``folder`` (hidden ones too), relative."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def _docs_in_store(settings: Settings) -> dict[str, str]:
    return {d.doc_id: d.doc_hash for d in get_index(settings).store.list_documents()}


def _manifest(settings: Settings) -> dict[str, dict]:
    with closing(open_manifest(settings, get_index(settings).store)) as m:
        return m.all()


# --- point 2: links and the assistant's own files ----------------------------------------------------------


def test_a_link_to_a_file_outside_the_folder_is_refused(settings: Settings, tmp_path: Path) -> None:
    secret = _text(tmp_path / "elders" / "wachtwoorden.txt", "root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "stukken"
    _text(folder / "gewoon.txt")
    (folder / "passwd.txt").symlink_to(secret)

    docs, errors = _split(list(load_paths([folder], settings)))

    assert set(docs) == {"gewoon"}
    reason = errors["passwd.txt"].reason
    assert "symbolic link" in reason and "outside the folder" in reason and "follow_links" in reason
    assert errors["passwd.txt"].path == str(folder / "passwd.txt")  # the file named by its link, not target


def test_follow_links_allows_outside_links_and_keeps_the_links_path(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir, follow_links=True)
    target = _text(tmp_path / "elders" / "bron.txt")
    folder = tmp_path / "stukken"
    folder.mkdir()
    (folder / "koppeling.txt").symlink_to(target)

    [doc] = list(load_paths([folder], settings))

    assert isinstance(doc, Document) and doc.id == "koppeling"
    assert doc.path == str(folder / "koppeling.txt")


def test_a_link_to_the_homes_briefing_toml_is_never_read(tmp_path: Path, models_dir: Path) -> None:
    # The attack of issue 11: a link to briefing.toml with an "openbaar" sidecar made bcrypt hashes public.
    settings = Settings(home=tmp_path / "home", models=models_dir, follow_links=True)
    _text(settings.home / "briefing.toml", TOML_WITH_HASH)
    folder = tmp_path / "stukken"
    folder.mkdir()
    (folder / "notities.txt").symlink_to(settings.home / "briefing.toml")
    _text(folder / "notities.txt.meta.toml", 'access = "openbaar"\n')

    results = list(load_paths([folder], settings))
    direct = read_file(folder / "notities.txt", settings)

    assert not any(isinstance(r, Document) for r in results)
    [err] = results
    assert "own configuration or data" in err.reason and "never indexed" in err.reason
    assert isinstance(direct, ReadError) and "never indexed" in direct.reason
    assert not any("$2b$" in str(r) for r in results)


def test_the_home_and_models_folders_are_refused_even_when_asked_for(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "werk" / "home", models=tmp_path / "modellen")
    _text(settings.home / "logboek.txt", "Vraag van een ambtenaar over een intern dossier.\n")
    _text(settings.models / "vocab.txt", "token\n")
    _text(tmp_path / "werk" / "gewoon.txt")
    upload = _text(settings.uploads_path / "upload.txt")  # uploads are documents, read on purpose

    asked = list(load_paths([settings.home, settings.models], settings))
    walked = list(load_paths([tmp_path / "werk"], settings))
    uploads = list(load_paths([settings.uploads_path], settings))

    assert all(isinstance(r, ReadError) and "never indexed" in r.reason for r in asked) and len(asked) == 2
    docs, errors = _split(walked)
    assert set(docs) == {"gewoon"} and "never indexed" in errors["home"].reason
    assert [d.path for d in uploads if isinstance(d, Document)] == [str(upload)]


def test_link_loops_end_with_a_reason_and_read_each_file_once(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir, follow_links=True)
    folder = tmp_path / "stukken"
    _text(folder / "sub" / "gewoon.txt")
    (folder / "zelf.txt").symlink_to(folder / "zelf.txt")
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    (folder / "sub" / "terug").symlink_to(folder)  # a folder link to an ancestor

    docs, errors = _split(list(load_paths([folder], settings)))

    assert set(docs) == {"gewoon"}
    for name in ("zelf.txt", "a.txt", "b.txt"):
        assert "symbolic link" in errors[name].reason and "loop" in errors[name].reason
    assert "already read" in errors["terug"].reason


def test_a_sidecar_that_is_a_link_is_not_read(settings: Settings, tmp_path: Path) -> None:
    elsewhere = _text(tmp_path / "elders" / "instellingen.toml", 'title = "Gelekte titel"\nsecret = "x"\n')
    folder = tmp_path / "stukken"
    _text(folder / "nota.txt")
    (folder / "nota.txt.meta.toml").symlink_to(elsewhere)

    [result] = list(load_paths([folder], settings))

    assert isinstance(result, ReadError) and "sidecar" in result.reason and "symbolic link" in result.reason


def test_prune_removes_the_document_of_a_removed_or_refused_link(tmp_path: Path, models_dir: Path) -> None:
    follow = Settings(home=tmp_path / "home", models=models_dir, follow_links=True)
    no_follow = Settings(home=tmp_path / "home", models=models_dir)
    folder = tmp_path / "stukken"
    _text(folder / "blijft.txt", "Deze notitie blijft in de index staan.\n")
    (folder / "weg.txt").symlink_to(_text(tmp_path / "elders" / "weg.txt", "Een notitie die verdwijnt.\n"))
    (folder / "buiten.txt").symlink_to(_text(tmp_path / "elders" / "buiten.txt", "Een notitie van buiten.\n"))

    first = ingest_paths([folder], follow, progress=False)
    assert first.added == 3 and first.skipped == []
    recorded = {i: r["path"] for i, r in _manifest(follow).items()}
    assert recorded["weg"] == str(folder / "weg.txt")  # the link's path, not its target

    (folder / "weg.txt").unlink()  # removing the link removes its document
    pruned = ingest_paths([folder], follow, progress=False, prune=True)
    assert pruned.deleted == ["weg"]

    # The same home without follow_links: the remaining outside link is refused, and pruned as well.
    refused = ingest_paths([folder], no_follow, progress=False, prune=True)
    assert refused.deleted == ["buiten"] and set(_docs_in_store(no_follow)) == {"blijft"}
    assert "follow_links" in refused.skipped[0]["reason"]


# --- point 7: size and complexity limits -------------------------------------------------------------------


def test_a_file_over_the_byte_limit_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_file_bytes=2_000)
    big = _text(tmp_path / "stukken" / "groot.txt", "Een lange zin over dijkbewaking. " * 300)

    result = read_file(big, settings)

    assert isinstance(result, ReadError) and result.path == str(big)
    assert result.reason == "file is 9.9 KB; the limit is 2 KB (max_file_bytes)"


def test_a_text_past_the_character_limit_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_text_chars=1_000)
    # UTF-16: within the byte limit, it decodes to more characters than the limit allows.
    long = tmp_path / "stukken" / "lang.txt"
    long.parent.mkdir(parents=True)
    long.write_bytes(("Een zin over de verzekering van vrijwilligers. " * 40).encode("utf-16"))

    result = read_file(long, settings)

    assert isinstance(result, ReadError)
    assert result.reason == "text is 1,880 characters; the limit is 1,000 (max_text_chars)"


def _docx(body_xml: str) -> bytes:
    """A minimal valid DOCX around ``body_xml``, deflated as Word does."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
        f"{body_xml}</w:body></w:document>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_a_docx_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_expanded_bytes=1_000_000)
    para = "<w:p><w:r><w:t>Dijkbewaking door vrijwilligers.</w:t></w:r></w:p>"
    bomb = tmp_path / "bom.docx"
    bomb.write_bytes(_docx(para * 200_000))  # ~13 MB of XML in a file of a few dozen KB
    fine = tmp_path / "gewoon.docx"
    fine.write_bytes(_docx(para * 3))

    refused = read_file(bomb, settings)
    read = read_file(fine, settings)

    assert bomb.stat().st_size < 100_000
    assert isinstance(refused, ReadError)
    assert refused.reason.startswith("DOCX expands to 13 MB") and refused.reason.endswith(
        "of XML; the limit is 1 MB (max_expanded_bytes)"
    )
    assert isinstance(read, Document) and "Dijkbewaking" in read.text


def _pdf(pages: int) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    font = w._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for i in range(pages):
        page = w.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        content = DecodedStreamObject()
        # Each page's line differs in letters, not just digits: a line on most pages is a running header.
        line = f"Deel {chr(65 + i)} over dijkbewaking en hoogwater."
        content.set_data(f"BT /F1 12 Tf 72 700 Td ({line}) Tj ET".encode())
        page[NameObject("/Contents")] = w._add_object(content)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_a_pdf_over_the_page_or_character_limit_is_refused_before_extraction(tmp_path: Path) -> None:
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(_pdf(12))

    too_many = read_file(pdf, Settings(home=tmp_path / "home", max_pdf_pages=10))
    too_long = read_file(pdf, Settings(home=tmp_path / "home", max_text_chars=100))
    fine = read_file(pdf, Settings(home=tmp_path / "home", max_pdf_pages=12))

    assert isinstance(too_many, ReadError)
    assert too_many.reason == "PDF has 12 pages; the limit is 10 (max_pdf_pages)"
    # Extraction stops at the page that crosses the limit, not after the last page.
    assert isinstance(too_long, ReadError) and too_long.reason.startswith(
        "text of the first 3 of 12 pages is"
    )
    assert isinstance(fine, Document) and fine.pages == 12


def test_a_big_file_never_starves_the_files_after_it(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", models=models_dir, max_file_bytes=3_000, max_chunks_per_document=2
    )
    folder = tmp_path / "stukken"
    _text(folder / "a-groot.txt", "Een zin over de dijken. " * 200)
    # Small on disk, but one short paragraph per line makes more chunks than the limit allows.
    many = "\n\n".join(
        f"## Deel {i}\n\nAlinea {i} over de inzet van vrijwilligers bij hoogwater." for i in range(40)
    )
    _text(folder / "b-veel.md", many)
    _text(folder / "c-klein.txt", "Een korte notitie over de verzekering van dijkwachten.\n")

    summary = ingest_paths([folder], settings, progress=False)

    reasons = {Path(s["path"]).name: s["reason"] for s in summary.skipped}
    assert reasons["a-groot.txt"] == "file is 4.8 KB; the limit is 3 KB (max_file_bytes)"
    assert reasons["b-veel.md"].startswith("document has ") and reasons["b-veel.md"].endswith(
        "chunks; the limit is 2 (max_chunks_per_document)"
    )
    assert summary.added == 1 and set(_docs_in_store(settings)) == {"c-klein"}


def test_a_file_grown_past_a_limit_keeps_its_indexed_version(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir, max_file_bytes=1_000)
    folder = tmp_path / "stukken"
    note = _text(folder / "notitie.txt", "Een korte notitie over de verzekering van dijkwachten.\n")
    ingest_paths([folder], settings, progress=False)
    before = _docs_in_store(settings)
    _text(note, "Een notitie die te groot is geworden. " * 50)

    summary = ingest_paths([folder], settings, progress=False, prune=True)

    assert [s["reason"] for s in summary.skipped] == ["file is 1.9 KB; the limit is 1 KB (max_file_bytes)"]
    assert summary.deleted == [] and _docs_in_store(settings) == before


def test_a_sentence_splitter_timeout_costs_only_its_own_file(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.chunking

    real = index.chunking.split_sentences

    def splitter(text: str):  # NLTK punkt raised this on a 60 MB text and ended the whole run
        if "ZWAAR" in text:
            raise TimeoutError("regular expression timed out")
        return real(text)

    monkeypatch.setattr(index.chunking, "split_sentences", splitter)
    settings = Settings(home=tmp_path / "home", models=models_dir)
    folder = tmp_path / "stukken"
    _text(folder / "a-zwaar.txt", "ZWAAR document met een tekst die de splitser laat vastlopen.\n")
    _text(folder / "b-licht.txt", "Een lichte notitie over de verzekering van dijkwachten.\n")

    summary = ingest_paths([folder], settings, progress=False)

    [skipped] = summary.skipped
    assert skipped["path"].endswith("a-zwaar.txt") and "TimeoutError" in skipped["reason"]
    assert set(_docs_in_store(settings)) == {"b-licht"}


def test_a_failure_after_reading_becomes_a_read_error_for_that_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import corpus.loader

    real = corpus.loader.complete_units

    def units(doc: Document) -> Document:
        if doc.id == "a-raar":
            raise TimeoutError("regular expression timed out")
        return real(doc)

    monkeypatch.setattr(corpus.loader, "complete_units", units)
    folder = tmp_path / "stukken"
    _text(folder / "a-raar.txt")
    _text(folder / "b-gewoon.txt")

    docs, errors = _split(list(load_paths([folder], settings)))

    assert set(docs) == {"b-gewoon"} and "TimeoutError" in errors["a-raar.txt"].reason


# --- point 10: feedback lines, upload names, refused uploads ----------------------------------------------


def test_feedback_with_line_separators_is_read_back(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    answer = {"question": "Wat is\u2028de regeling?", "answer": "Zie\u2029de nota.", "sources": []}
    record_feedback(settings, rating="up", answer=answer, remark="eerste\u2028tweede\x85derde")
    record_feedback(settings, rating="down", answer={"question": "En verder?", "answer": ""})

    records = read_feedback(settings)

    assert [r["question"] for r in records] == ["Wat is\u2028de regeling?", "En verder?"]
    assert records[0]["remark"] == "eerste\u2028tweede\x85derde"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Доклад о безопасности.docx", "Доклад_о_безопасности.docx"),
        ("Έκθεση 2024.PDF", "Έκθεση_2024.pdf"),
        ("تقرير الأمن.txt", "تقرير_الأمن.txt"),
        ("安全报告 草案.pdf", "安全报告_草案.pdf"),
        ("factuur\u202etxt.exe.txt", "factuur_txt.exe.txt"),  # a right-to-left override disguises a name
        ("../../Отчёт.xml", "Отчёт.xml"),
    ],
)
def test_upload_names_in_other_scripts_are_kept_safely(given: str, expected: str) -> None:
    assert service.safe_upload_name(given) == expected


def test_a_very_long_name_in_another_script_fits_the_file_system() -> None:
    name = service.safe_upload_name("文" * 200 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= service.MAX_NAME_BYTES


def test_refused_uploads_leave_nothing_in_uploads(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_file_bytes=1_000)
    src = tmp_path / "in"
    files = [
        (_text(src / "1", ""), "leeg.txt"),
        (_text(src / "2", "%PDF-1.7\nrommel zonder objecten\n%%EOF"), "kapot.pdf"),
        (_text(src / "3", "Te veel tekst. " * 100), "te-groot.txt"),
        (_text(src / "4"), "script.sh"),
    ]

    results = service.upload_and_ingest(files, settings, "intern", user="anna")

    assert [r["status"] for r in results] == ["overgeslagen"] * 4
    assert "empty" in results[0]["reason"] and "PDF" in results[1]["reason"]
    assert _files(settings.uploads_path) == []
    audit = service.read_audit(settings)
    assert [(a["user"], a["action"], a["status"], a["file"]) for a in audit] == [
        ("anna", "upload", "overgeslagen", name)
        for name in ("leeg.txt", "kapot.pdf", "te-groot.txt", "script.sh")
    ]


def test_an_upload_in_cyrillic_is_indexed_under_its_own_name(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir)
    src = _text(tmp_path / "in" / "upload", "Записка о добровольцах на дамбах во время паводка.\n")

    [result] = service.upload_and_ingest([(src, "Записка о дамбах.txt")], settings, "openbaar", user="anna")

    assert result["status"] == "geïndexeerd" and result["doc_ids"] == ["Записка_о_дамбах"]
    assert _files(settings.uploads_path) == ["Записка_о_дамбах.txt", "Записка_о_дамбах.txt.meta.toml"]
    assert set(_docs_in_store(settings)) == {"Записка_о_дамбах"}


# --- point 5: an upload never silently replaces another document -------------------------------------------


def _users() -> list[User]:
    return [
        User(name="anna", password_hash="x", role="intern", can_delete=False),
        User(name="beheer", password_hash="x", role="intern", can_delete=True),
    ]


@pytest.fixture
def with_nota(tmp_path: Path, models_dir: Path) -> Settings:
    """A home with the real nota indexed from a documents folder, and two internal users."""
    settings = Settings(home=tmp_path / "home", models=models_dir, users=_users())
    folder = tmp_path / "documenten"
    _text(folder / "nota-4730561.txt", NOTA)
    assert ingest_paths([folder], settings, progress=False).added == 1
    return settings


def test_an_upload_with_an_existing_id_gets_a_new_id(with_nota: Settings, tmp_path: Path) -> None:
    settings = with_nota
    before = _docs_in_store(settings)
    src = _text(tmp_path / "in" / "nep", FAKE)

    [result] = service.upload_and_ingest([(src, "nota-4730561.txt")], settings, "openbaar", user="anna")

    assert result["status"] == "geïndexeerd" and result["doc_ids"] == ["nota-4730561-2"]
    assert "bestond al" in result["reason"]
    after = _docs_in_store(settings)
    assert after["nota-4730561"] == before["nota-4730561"]  # the real nota is untouched
    assert set(after) == {"nota-4730561", "nota-4730561-2"}
    [entry] = service.read_audit(settings)
    assert entry["user"] == "anna" and entry["action"] == "upload" and entry["doc_id"] == "nota-4730561-2"
    assert entry["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest() and entry["time"]
    # The id is kept in the upload's sidecar: ingesting the uploads folder later changes nothing.
    again = ingest_paths([settings.uploads_path], settings, progress=False)
    assert again.unchanged == 1 and again.added == again.replaced == 0


def test_replace_needs_the_right_and_every_step_is_audited(with_nota: Settings, tmp_path: Path) -> None:
    settings = with_nota
    original = _docs_in_store(settings)["nota-4730561"]
    src = _text(tmp_path / "in" / "nieuw", NOTA.replace("Wij adviseren", "Wij adviseren nu ook"))

    [denied] = service.upload_and_ingest(
        [(src, "nota-4730561.txt")], settings, "intern", "anna", replace=True
    )
    assert denied["status"] == "overgeslagen" and "verwijderrecht" in denied["reason"]
    assert _docs_in_store(settings) == {"nota-4730561": original} and _files(settings.uploads_path) == []

    [done] = service.upload_and_ingest(
        [(src, "nota-4730561.txt")], settings, "intern", "beheer", replace=True
    )
    assert done["status"] == "geïndexeerd" and done["doc_ids"] == ["nota-4730561"]
    replaced = _docs_in_store(settings)
    assert set(replaced) == {"nota-4730561"} and replaced["nota-4730561"] != original

    deleted = service.delete_documents(settings, ["nota-4730561"], ["openbaar", "intern"], user="beheer")
    assert deleted["deleted"] and _files(settings.uploads_path) == []

    log = service.read_audit(settings)
    assert [(a["user"], a["action"], a["status"]) for a in log] == [
        ("anna", "replace", "overgeslagen"),
        ("beheer", "replace", "geïndexeerd"),
        ("beheer", "delete", "verwijderd"),
    ]
    assert log[1]["replaced_hash"] == original and log[1]["doc_hash"] == replaced["nota-4730561"]
    assert log[2]["doc_hash"] == replaced["nota-4730561"]
    # Append-only JSON lines: one object per line, nothing else.
    lines = settings.audit_path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and [json.loads(line) for line in lines[:-1]] == log
    assert oct(os.stat(settings.audit_path).st_mode & 0o777) == "0o600"
