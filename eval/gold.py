"""The gold Q&A set: one JSON object per line in ``eval/qa/*.jsonl``. See ``docs/gold-set.md``.

The model is tolerant (extra fields are kept, optional fields default) so the set can grow new annotations
without breaking older readers; ``eval.validate`` is where items are held to the rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["fact", "why", "who", "when", "list", "cross-doc", "unanswerable"]
KINDS: tuple[str, ...] = ("fact", "why", "who", "when", "list", "cross-doc", "unanswerable")


class GoldItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    answerable: bool = True
    sources: list[str] = Field(default_factory=list)  # document ids (the file stem)
    must_cite: list[str] = Field(default_factory=list)  # canonical Kamerstuk ids ("33763-141")
    key_facts: list[str] = Field(default_factory=list)  # short verbatim strings a correct answer contains
    evidence: list[str] = Field(default_factory=list)  # verbatim supporting sentences, for audit
    kind: Kind = "fact"
    tags: list[str] = Field(default_factory=list)  # "fast": the subset `make test` runs with thresholds
    language: str = "nl"


class GoldFormatError(ValueError):
    """A line of a gold file that is not a valid item: names the file and line."""


def _load_file(path: Path) -> list[GoldItem]:
    items: list[GoldItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(GoldItem.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as e:
            raise GoldFormatError(f"{path}:{n}: {e}") from e
    return items


def load_gold(path: str | Path) -> list[GoldItem]:
    """Items of one .jsonl file, or of every *.jsonl in a folder (sorted by file name)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no *.jsonl gold files in {p}")
        return [item for f in files for item in _load_file(f)]
    return _load_file(p)
