"""Feedback on answers: thumbs up/down plus an optional remark, one JSON object per line.

Each record keeps the question, the answer text and its sources exactly as shown, so the team can turn
real questions into gold items for the evaluation set (``eval/qa``) without reconstructing what was seen.
JSONL rather than SQLite: appends are atomic enough for a handful of users behind one process lock, and the
file is readable with ``jq`` and diffable.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from corpus.settings import Settings

Rating = Literal["up", "down"]
MAX_REMARK_CHARS = 4000

_lock = threading.Lock()


class FeedbackError(ValueError):
    pass


def make_record(
    *,
    rating: str,
    answer: dict[str, Any],
    remark: str = "",
    user: str | None = None,
    filters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A feedback record from an ``Answer.to_json()`` dict. Keeps only what a gold item needs."""
    if rating not in ("up", "down"):
        raise FeedbackError(f"rating must be 'up' or 'down', not {rating!r}")
    question = (answer.get("question") or "").strip()
    if not question:
        raise FeedbackError("feedback needs the question it is about")
    sources = [
        {
            k: s.get(k)
            for k in ("n", "doc_id", "title", "kind", "date", "page", "citation", "passage", "score")
        }
        for s in answer.get("sources") or []
    ]
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "rating": rating,
        "remark": (remark or "").strip()[:MAX_REMARK_CHARS],
        "question": question,
        "answer": answer.get("answer", ""),
        "abstained": bool(answer.get("abstained", False)),
        "engine": answer.get("engine"),
        "filters": filters or {},
        "sources": sources,
        "cited_kamerstukken": list(answer.get("cited_kamerstukken") or []),
    }


def record_feedback(
    settings: Settings,
    *,
    rating: str,
    answer: dict[str, Any],
    remark: str = "",
    user: str | None = None,
    filters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one record to ``settings.feedback_path`` and return it."""
    record = make_record(rating=rating, answer=answer, remark=remark, user=user, filters=filters)
    path = Path(settings.feedback_path)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
    return record


def read_feedback(settings: Settings) -> list[dict[str, Any]]:
    """All records, oldest first. A torn last line (crash mid-write) is skipped, not fatal."""
    path = Path(settings.feedback_path)
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    # Records end in "\n" only: json.dumps(ensure_ascii=False) leaves U+2028/U+2029 (and U+0085) raw inside
    # strings, where ``splitlines`` would cut a record in two and lose it.
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def to_gold_items(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Draft gold items from positive feedback: the question and the documents its sources came from.

    Only thumbs-up answers are trusted as evidence; thumbs-down questions are still worth adding by hand.
    """
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in records:
        if r.get("rating") != "up" or r.get("abstained") or r["question"] in seen:
            continue
        seen.add(r["question"])
        doc_ids = list(dict.fromkeys(s["doc_id"] for s in r.get("sources", []) if s.get("doc_id")))
        items.append(
            {
                "question": r["question"],
                "relevant_doc_ids": doc_ids,
                "reference_answer": r.get("answer", ""),
                "source": "feedback",
            }
        )
    return items
