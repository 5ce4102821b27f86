"""`briefing corpus inspect` through click's CliRunner: the JSON contract and the text view."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main

REPO = Path(__file__).resolve().parents[1]
KEYS = {
    "id",
    "path",
    "kind",
    "title",
    "date",
    "access",
    "pages",
    "chars",
    "citations",
    "errors",
    "citation",
    "language",
    "units",  # issue 10: moties, amendementen, toezeggingen, stemmingen
}


def _inspect(*args: str, home: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["--home", str(home), "corpus", "inspect", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_inspect_json_lists_every_document_of_the_shared_corpus(shared_corpus: Path, tmp_path: Path) -> None:
    records = _inspect(str(shared_corpus), home=tmp_path)
    files = [p for p in shared_corpus.rglob("*") if p.is_file() and not p.name.endswith("-meta.tsv")]
    assert len(records) == len(files)
    assert all(set(r) == KEYS for r in records)
    by_id = {r["id"]: r for r in records if not r["errors"]}

    ingekomen = by_id["h-tk-20172018-70-14"]
    assert ingekomen["kind"] == "Handelingen" and ingekomen["access"] == "openbaar"
    assert ingekomen["citation"] == "Handelingen II 2017/18, nr. 70, item 14"
    assert {"21501-07-1502", "22112-2531"} <= set(ingekomen["citations"])
    assert ingekomen["citations"] == sorted(set(ingekomen["citations"]))

    nota = by_id["nota-4730561"]
    assert {"33763-141", "35570-17", "30821-153"} <= set(nota["citations"])
    assert (nota["kind"], nota["access"], nota["date"], nota["language"]) == (
        "nota",
        "intern",
        "2023-12-22",
        "nl",
    )
    assert nota["chars"] > 5000 and nota["pages"] is None

    strategy = by_id["netherlands_2019_NationalSecurityStrategy"]
    assert (strategy["kind"], strategy["language"], strategy["date"]) == ("strategie", "en", "2019")

    [twin] = [r for r in records if r["errors"]]
    assert twin["id"] == "ParlaMint-NL_2019-05-16-tweedekamer-11" and twin["path"].endswith(".txt")
    assert twin["kind"] is None and twin["citations"] == [] and "duplicate of" in twin["errors"][0]


def test_inspect_error_record_for_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "kapot.xml").write_text("<a><b></a>", encoding="utf-8")
    (tmp_path / "docs" / "goed.md").write_text(
        "# Goed\n\nDit is Kamerstuk 33763, nr. 141.\n", encoding="utf-8"
    )
    records = _inspect(str(tmp_path / "docs"), home=tmp_path / "home")
    by_id = {r["id"]: r for r in records}
    assert by_id["kapot"]["errors"] and "not valid XML" in by_id["kapot"]["errors"][0]
    assert by_id["kapot"]["title"] is None and by_id["kapot"]["chars"] is None
    assert by_id["goed"]["errors"] == [] and by_id["goed"]["citations"] == ["33763-141"]


def test_inspect_text_view_of_the_demo(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path), "corpus", "inspect", str(REPO / "corpus" / "documents")]
    )
    assert result.exit_code == 0, result.output
    assert (
        "nota-4730561  [nota, intern]  Nota Kamerbrief Planbureau voor de Veiligheid  2023-12-22"
        in result.output
    )
    assert "cites: 30821-153, 33763-141, 35570-17" in result.output
