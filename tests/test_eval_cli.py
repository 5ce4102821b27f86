"""`briefing eval` end to end on a small corpus: the store is built, items run, JSON and report written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_eval_writes_json_and_report(
    tmp_path: Path, shared_corpus: Path, models_dir: Path, monkeypatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPO / "corpus" / "documents" / "nota-4730561.txt", corpus)
    shutil.copy(shared_corpus / "handelingen" / "h-tk-20172018-70-6.xml", corpus)
    qa = tmp_path / "qa.jsonl"
    items = [
        {
            "id": "t-1",
            "question": "Waarom wilde het kabinet geen planbureau voor de veiligheid?",
            "answerable": True,
            "sources": ["nota-4730561"],
            "must_cite": ["33763-141"],
            "key_facts": ["niet wenselijk"],
            "kind": "why",
            "extra_field": "tolerated",
        },
        {
            "id": "t-2",
            "question": "Hoeveel kost een planbureau per jaar?",
            "answerable": False,
            "kind": "unanswerable",
        },
    ]
    qa.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n")
    monkeypatch.setenv("BRIEFING_MODELS", str(models_dir))
    out, report = tmp_path / "out.json", tmp_path / "report"
    args = ["--home", str(tmp_path / "home"), "eval", "--qa", str(qa), "--corpus", str(corpus)]
    args += ["--config", "default", "--config", "bm25", "--json", str(out), "--report", str(report)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["name"] for c in data["configs"]] == ["default", "bm25"]
    records = data["configs"][0]["items"]
    assert [r["id"] for r in records] == ["t-1", "t-2"]
    assert records[0]["ask"]["question"] == items[0]["question"]
    assert records[0]["retrieved"][0] == "nota-4730561"
    text = (report / "report.md").read_text()
    assert "| default |" in text and "| bm25 |" in text
    assert (report / "configs.png").stat().st_size > 1000 and (report / "per_kind.png").stat().st_size > 1000
