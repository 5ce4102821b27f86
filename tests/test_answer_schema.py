"""The `briefing ask --json` contract as a schema snapshot: a change to ``Answer``, ``Source`` or
``AnswerSentence`` fails here until the snapshot is renewed on purpose (``UPDATE_SNAPSHOTS=1``), and the
first release's keys can never disappear or be renamed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from assistant.models import Answer, AnswerSentence, Source
from assistant.support import Support

SNAPSHOT = Path(__file__).parent / "snapshots" / "answer.schema.json"
FIRST_RELEASE = ["question", "answer", "abstained", "engine", "sources", "cited_kamerstukken", "unsupported"]
FIRST_RELEASE_SOURCE = [
    "n",
    "doc_id",
    "title",
    "kind",
    "date",
    "page",
    "citation",
    "kamerstukken",
    "passage",
    "score",
]


def _schema() -> dict:
    return Answer.model_json_schema()


def test_schema_matches_the_snapshot() -> None:
    schema = _schema()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":  # an explicit, reviewed decision, never in CI
        SNAPSHOT.write_text(json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert schema == json.loads(SNAPSHOT.read_text(encoding="utf-8")), (
        "the answer contract changed: review it, then renew the snapshot with UPDATE_SNAPSHOTS=1"
    )


def test_first_release_keys_stay() -> None:
    props = _schema()["properties"]
    assert all(k in props for k in FIRST_RELEASE)
    source = _schema()["$defs"]["Source"]["properties"]
    assert all(k in source for k in FIRST_RELEASE_SOURCE)


def test_to_json_follows_the_schema() -> None:
    a = Answer(
        question="Waarom?",
        answer="Omdat. [1]",
        abstained=False,
        engine="extractive",
        sources=[Source(n=1, doc_id="d", passage="Omdat.", spans=[(0, 6)])],
        sentences=[
            AnswerSentence(text="Omdat.", source=1, support=Support(lexical=1.0, supported=True), span=(0, 6))
        ],
        direct="Omdat. [1]",
    )
    data = json.loads(json.dumps(a.to_json()))
    assert list(data)[: len(FIRST_RELEASE)] == FIRST_RELEASE
    assert set(data) == set(_schema()["properties"])
    assert set(data["sources"][0]) == set(_schema()["$defs"]["Source"]["properties"])
    assert set(data["sentences"][0]) == set(_schema()["$defs"]["AnswerSentence"]["properties"])
