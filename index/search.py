"""Hybrid search: the query embedded (dense) and BM25-encoded (sparse), fused with RRF in the store."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    """One retrieved chunk. ``to_json`` is the `briefing search --json` contract."""

    chunk_id: str
    doc_id: str
    title: str = ""
    kind: str = ""
    date: str | None = None
    access: str = ""
    page: int | None = None
    section: str | None = None
    speaker: str | None = None
    citation: str = ""  # display form of the document ("Kamerstukken II 2017/18, 33763, nr. 141")
    kamerstukken: list[str] = Field(default_factory=list)  # the document's own id + ids cited in the chunk
    score: float = 0.0
    text: str = ""
    language: str = "nl"

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "kind": self.kind,
            "date": self.date,
            "access": self.access,
            "page": self.page,
            "citation": self.citation,
            "kamerstukken": self.kamerstukken,
            "score": self.score,
            "text": self.text,
        }
