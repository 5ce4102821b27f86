"""The loader: folder walking, dispatch, sidecars and folder manifests, duplicates, errors that never stop a run."""

from __future__ import annotations

import shutil
from pathlib import Path

from corpus.loader import SUPPORTED_EXTENSIONS, is_duplicate_twin, load_paths
from corpus.models import Document, ReadError

REPO = Path(__file__).resolve().parents[1]


def _split(results: list[Document | ReadError]) -> tuple[dict[str, Document], dict[str, ReadError]]:
    docs = {r.id: r for r in results if isinstance(r, Document)}
    errors = {Path(r.path).name: r for r in results if isinstance(r, ReadError)}
    return docs, errors


def test_a_folder_with_broken_files_still_loads_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "stukken"
    (folder / "sub").mkdir(parents=True)
    (folder / "goed.txt").write_text("Een gewone notitie.\n\nMet twee alinea's.\n", encoding="utf-8")
    (folder / "sub" / "ook-goed.md").write_text("# Titel\n\nTekst.\n", encoding="utf-8")
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "kapot.xml").write_text("<officiele-publicatie><kamerstuk>", encoding="utf-8")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\ngarbage without objects\n%%EOF")
    (folder / "ruis.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    (folder / ".verborgen.txt").write_text("niet lezen", encoding="utf-8")
    (folder / ".git").mkdir()
    (folder / ".git" / "config.txt").write_text("niet lezen", encoding="utf-8")

    results = list(load_paths([folder]))
    docs, errors = _split(results)
    assert set(docs) == {"goed", "ook-goed"}
    assert set(errors) == {"leeg.txt", "kapot.xml", "kapot.pdf", "ruis.txt", "foto.jpg"}
    assert "empty" in errors["leeg.txt"].reason
    assert "not valid XML" in errors["kapot.xml"].reason
    assert "PDF" in errors["kapot.pdf"].reason
    assert "binary" in errors["ruis.txt"].reason
    assert "unsupported" in errors["foto.jpg"].reason
    # Sorted, recursive order: a folder's files before its subfolders'; by name, an XML before its
    # same-stem siblings (so a ParlaMint XML wins over its TXT twin).
    names = [Path(r.path).name for r in results]
    assert names == ["foto.jpg", "goed.txt", "kapot.xml", "kapot.pdf", "leeg.txt", "ruis.txt", "ook-goed.md"]
    assert ".pdf" in SUPPORTED_EXTENSIONS and ".jpg" not in SUPPORTED_EXTENSIONS


def test_missing_path_is_a_read_error(tmp_path: Path) -> None:
    [result] = list(load_paths([tmp_path / "bestaat-niet.pdf"]))
    assert isinstance(result, ReadError) and "no such file" in result.reason


def test_sidecar_and_folder_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "intern"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(f"Tekst van {name}.\n", encoding="utf-8")
    (folder / "_folder.meta.toml").write_text(
        'access = "openbaar"\nkind = "rapport"\norganisation = "NCTV"\n\n'
        '[files."b.txt"]\ntitle = "Bestand B"\naccess = "intern"\n',
        encoding="utf-8",
    )
    (folder / "c.meta.toml").write_text(
        'id = "rapport-2024-7"\ntitle = "Rapport C"\ndate = 2024-03-01\nlanguage = "en"\n'
        'dossier = "30821"\nkenmerk = "999"\nkind = "nota"\n',
        encoding="utf-8",
    )
    docs, errors = _split(list(load_paths([folder])))
    assert not errors
    a, b, c = docs["a"], docs["b"], docs["rapport-2024-7"]
    assert (a.access, a.kind, a.metadata["organisation"]) == ("openbaar", "rapport", "NCTV")
    assert (b.title, b.access, b.kind) == ("Bestand B", "intern", "rapport")
    assert (c.title, c.date, c.language, c.dossier, c.kind, c.access) == (
        "Rapport C",
        "2024-03-01",
        "en",
        "30821",
        "nota",
        "openbaar",
    )
    assert c.metadata["kenmerk"] == "999" and c.path.endswith("c.txt")


def test_invalid_sidecar_is_a_read_error_for_that_file_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Tekst A.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Tekst B.\n", encoding="utf-8")
    (tmp_path / "a.meta.toml").write_text('access = "geheim"\n', encoding="utf-8")
    docs, errors = _split(list(load_paths([tmp_path])))
    assert set(docs) == {"b"}
    assert "access" in errors["a.txt"].reason and "a.txt" in errors["a.txt"].reason


def test_demo_nota_sidecar() -> None:
    docs, errors = _split(list(load_paths([REPO / "corpus" / "documents"])))
    assert not errors
    nota = docs["nota-4730561"]
    assert nota.title == "Nota Kamerbrief Planbureau voor de Veiligheid"
    assert (nota.date, nota.kind, nota.access) == ("2023-12-22", "nota", "intern")
    assert nota.metadata["kenmerk"] == "4730561"
    assert nota.metadata["organisation"] == "Ministerie van Justitie en Veiligheid, NCTV"


def test_duplicate_ids_and_the_parlamint_twin(tmp_path: Path, shared_corpus: Path) -> None:
    pm = tmp_path / "parlamint"
    shutil.copytree(shared_corpus / "parlamint-nl", pm)
    other = tmp_path / "kopie"
    other.mkdir()
    shutil.copy(shared_corpus / "parlamint-nl" / "ParlaMint-NL_2022-07-12-eerstekamer-3.txt", other)

    results = list(load_paths([pm, other]))
    docs, errors = _split(results)
    stem = "ParlaMint-NL_2019-05-16-tweedekamer-11"
    assert docs[stem].path.endswith(".xml")  # the XML is kept although the TXT sorts first by name
    twin = errors[f"{stem}.txt"]
    assert is_duplicate_twin(twin) and twin.reason.startswith(f"duplicate of {docs[stem].path}")
    dup = next(r for r in results if isinstance(r, ReadError) and str(other) in r.path)
    assert dup.reason.startswith(
        "duplicate document id ParlaMint-NL_2022-07-12-eerstekamer-3 (already read from"
    )
    assert not is_duplicate_twin(dup)
    assert not any(Path(r.path).name.endswith("-meta.tsv") for r in results)


def test_handelingen_items_borrow_the_meeting_date_from_the_opening(
    tmp_path: Path, shared_corpus: Path
) -> None:
    src = shared_corpus / "handelingen"
    alone = tmp_path / "alleen"
    alone.mkdir()
    shutil.copy(src / "h-tk-20172018-70-12.xml", alone)
    [doc] = list(load_paths([alone]))
    assert isinstance(doc, Document) and doc.date is None  # the item itself has no date

    both = tmp_path / "samen"
    both.mkdir()
    shutil.copy(src / "h-tk-20172018-70-12.xml", both)
    shutil.copy(src / "h-tk-20172018-70-1.xml", both)
    docs, _ = _split(list(load_paths([both / "h-tk-20172018-70-12.xml"])))
    assert docs["h-tk-20172018-70-12"].date == "2018-04-05"
    assert docs["h-tk-20172018-70-12"].metadata["date_from"] == "h-tk-20172018-70-1"


def test_whole_shared_corpus_loads(shared_corpus: Path) -> None:
    results = list(load_paths([shared_corpus]))
    files = [p for p in shared_corpus.rglob("*") if p.is_file() and not p.name.endswith("-meta.tsv")]
    assert len(results) == len(files)
    docs, errors = _split(results)
    assert list(errors) == ["ParlaMint-NL_2019-05-16-tweedekamer-11.txt"]
    assert all(d.sections and d.text.strip() for d in docs.values())
    official = [d for d in docs.values() if d.path.endswith(".xml") and "handelingen" in d.path]
    assert official and all(d.access == "openbaar" for d in official)
    assert docs["nota-4730561"].access == "intern"


def test_notas_get_a_citation_with_date_and_kenmerk(shared_corpus: Path) -> None:
    from corpus.loader import load_paths

    (nota,) = [d for d in load_paths([shared_corpus / "notas"]) if not isinstance(d, ReadError)]
    assert (
        nota.citation
        == "Nota \u201cKamerbrief Planbureau voor de veiligheid\u201d, 22 december 2023, kenmerk 4730561"
    )
