"""Feedback records: what is stored, where, and that concurrent writers do not interleave lines."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant.feedback import FeedbackError, read_feedback, record_feedback, to_gold_items
from corpus.settings import Settings


def _answer(question: str, doc_id: str = "nota-4730561") -> dict:
    return {
        "question": question,
        "answer": "Er komt geen planbureau [1].",
        "abstained": False,
        "engine": "extractive",
        "sources": [
            {
                "n": 1,
                "doc_id": doc_id,
                "title": "Nota Planbureau",
                "kind": "nota",
                "date": "2023-12-22",
                "page": None,
                "citation": "Nota 4730561",
                "kamerstukken": ["33763-141"],
                "passage": "Wij adviseren geen planbureau op te richten.",
                "score": 0.8,
            }
        ],
        "cited_kamerstukken": ["33763-141"],
        "unsupported": [],
    }


@pytest.fixture
def s(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_record_is_appended_as_jsonl_with_question_answer_and_sources(s: Settings) -> None:
    record_feedback(
        s, rating="up", answer=_answer("Waarom geen planbureau?"), remark="  klopt  ", user="anna"
    )
    record_feedback(s, rating="down", answer=_answer("Wat kost het?"), filters={"kind": "nota"})
    lines = s.feedback_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["rating"] == "up" and first["remark"] == "klopt" and first["user"] == "anna"
    assert first["question"] == "Waarom geen planbureau?"
    assert first["answer"].startswith("Er komt geen planbureau")
    assert first["sources"][0]["doc_id"] == "nota-4730561"
    assert first["sources"][0]["passage"].startswith("Wij adviseren")
    assert first["cited_kamerstukken"] == ["33763-141"]
    assert json.loads(lines[1])["filters"] == {"kind": "nota"}
    assert [r["rating"] for r in read_feedback(s)] == ["up", "down"]


def test_invalid_feedback_is_refused_and_nothing_written(s: Settings) -> None:
    with pytest.raises(FeedbackError):
        record_feedback(s, rating="meh", answer=_answer("Vraag?"))
    with pytest.raises(FeedbackError):
        record_feedback(s, rating="up", answer={"answer": "zonder vraag"})
    assert read_feedback(s) == []


def test_torn_last_line_is_skipped(s: Settings) -> None:
    record_feedback(s, rating="up", answer=_answer("Eerste?"))
    with s.feedback_path.open("a", encoding="utf-8") as f:
        f.write('{"rating": "up", "quest')
    assert [r["question"] for r in read_feedback(s)] == ["Eerste?"]


def test_concurrent_writers_produce_whole_lines(s: Settings) -> None:
    def worker(i: int) -> None:
        for j in range(20):
            record_feedback(s, rating="up", answer=_answer(f"Vraag {i}-{j}?"), remark="x" * 3000)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_feedback(s)
    assert len(records) == 80
    assert len({r["question"] for r in records}) == 80


def test_gold_items_from_positive_feedback_only(s: Settings) -> None:
    record_feedback(s, rating="up", answer=_answer("Waarom geen planbureau?"))
    record_feedback(s, rating="up", answer=_answer("Waarom geen planbureau?"))  # duplicate question
    record_feedback(s, rating="down", answer=_answer("Fout beantwoord?", doc_id="h-tk-20172018-70-6"))
    items = to_gold_items(read_feedback(s))
    assert items == [
        {
            "question": "Waarom geen planbureau?",
            "relevant_doc_ids": ["nota-4730561"],
            "reference_answer": "Er komt geen planbureau [1].",
            "source": "feedback",
        }
    ]
