"""Parliamentary units as points of their own, and the join of a motion with the vote on it.

Every ``ParliamentaryUnit`` of a document (``corpus/units.py``) becomes one point (``unit`` = its kind:
``motie``, ``amendement``, ``toezegging``, ``stemming``) beside the document's chunks and sentences. Its
text says what an official asks about (title, number, indieners, dictum or outcome); its payload carries
the unit's own Kamerstuk id (``unit_id``), ``status``, ``indieners``, ``fracties``, the motion's ``dossier``,
and ``chunk_id`` plus ``start``/``end``: where the unit stands in its source chunk, so that an answer
sentence taken from that chunk can cite the motion by its number.

A motion and the vote on it are usually in different documents (the debate, the stemmingen days later).
The manifest keeps a table of every unit (:class:`UnitTable`); after each ingest :func:`join_statuses`
gives each motion the outcome of its latest vote and rewrites the motion points whose status changed.
Rewriting the same point ids with the same text makes the join idempotent.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from llama_index.core.schema import TextNode

from corpus.models import Document, ParliamentaryUnit
from corpus.units import names_with_fracties

from .chunking import DOCUMENT_KEYS, POINT_NAMESPACE

UNIT_KINDS = ("motie", "amendement", "toezegging", "stemming")
MOTION_KINDS = ("motie", "amendement")
# Payload fields of a unit point, besides DOCUMENT_KEYS.
UNIT_KEYS = ("unit_id", "was", "status", "indieners", "fracties", "dictum", "unit_title", "unit_citation")
# A decided outcome outranks a motion that is only held over; among equals the latest counts.
_FINAL = {"aangenomen": 2, "verworpen": 2, "ingetrokken": 2, "vervallen": 2, "aangehouden": 1}


def unit_point_id(doc_id: str, unit: ParliamentaryUnit, position: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}\x00unit\x00{unit.kind}\x00{unit.id}\x00{position}"))


def unit_text(unit: ParliamentaryUnit, status: str | None = None) -> str:
    """What the point says (and what is embedded): the unit as an official would describe it."""
    label = unit.title[:1].upper() + unit.title[1:] if unit.title else unit.kind.capitalize()
    if unit.kind in MOTION_KINDS:
        head = f"{label} ({unit.citation})"
        if unit.indieners:
            head += f", ingediend door {names_with_fracties(unit.indieners, unit.fractie_van)}"
        if unit.debate:
            head += f", in het debat '{unit.debate}'"
        body = unit.text or unit.dictum
        return f"{head}.\n{body}"
    if unit.kind == "stemming":
        about = f" over {unit.onderwerp}" if unit.onderwerp else ""
        parts = [f"Stemming over de {unit.title}{about} ({unit.citation}): {unit.status or 'onbekend'}."]
        if unit.voor:
            parts.append("Voor: " + ", ".join(unit.voor) + ".")
        if unit.tegen:
            parts.append("Tegen: " + ", ".join(unit.tegen) + ".")
        if unit.text and unit.status in ("aangehouden", "ingetrokken", "vervallen"):
            parts.append(unit.text)
        return " ".join(parts)
    who = f" van {unit.speaker}" if unit.speaker else ""
    return f"Toezegging{who}: {unit.text}"


def _locate(unit: ParliamentaryUnit, chunk_text: str) -> tuple[int, int] | None:
    """Where the unit stands in its chunk: from the motion's opening to the chair's number line."""
    probe = re.sub(r"\s+", " ", unit.dictum or unit.text).strip()[:60]
    flat = chunk_text
    pos = flat.find(probe) if probe else -1
    if pos < 0:
        words = probe.split()[:6]
        if not words:
            return None
        m = re.search(r"\s+".join(re.escape(w) for w in words), flat)
        if not m:
            return None
        pos = m.start()
    start = pos
    if unit.kind in MOTION_KINDS:
        opening = flat.rfind("De Kamer,", max(0, pos - 3000), pos)
        start = opening if opening >= 0 else pos
        # Include the chair's lines under the motion: indieners and number.
        tail = re.search(r"krijgt\s+nr\.[^\n]*", flat[pos : pos + 2500])
        end = pos + tail.end() if tail else pos + len(unit.dictum or unit.text)
    else:
        end = pos + len(unit.text)
    return start, min(end, len(flat))


def unit_nodes(doc: Document, chunks: Sequence[TextNode], sections: Sequence[set[int]]) -> list[TextNode]:
    """One node per unit of ``doc``; ``chunks[i]`` holds the document sections ``sections[i]``."""
    nodes: list[TextNode] = []
    for position, unit in enumerate(doc.units):
        holders = [i for i, secs in enumerate(sections) if unit.section in secs] or list(range(len(chunks)))
        chunk, span = None, None
        for i in holders:
            span = _locate(unit, chunks[i].text)
            if span:
                chunk = chunks[i]
                break
        if chunk is None:
            chunk = chunks[holders[0]] if holders and chunks else None
        if chunk is None:
            continue
        base = {k: chunk.metadata.get(k) for k in DOCUMENT_KEYS}
        dossier = unit.id.rsplit("-", 1)[0] if unit.kind != "toezegging" else base.get("dossier")
        metadata = {
            **base,
            "unit": unit.kind,
            "chunk_id": chunk.node_id,
            "dossier": dossier,
            "kamerstukken": list(dict.fromkeys([unit.id] if unit.kind != "toezegging" else [])),
            "unit_id": unit.id,
            "was": unit.was,
            "status": unit.status,
            "indieners": unit.indieners,
            "fracties": unit.fracties,
            "fractie_van": unit.fractie_van,
            "dictum": unit.dictum,
            "onderwerp": unit.onderwerp,
            "unit_title": unit.title,
            "unit_citation": unit.citation,
            "voor": unit.voor,
            "tegen": unit.tegen,
            "debate": unit.debate,
            "start": span[0] if span else None,
            "end": span[1] if span else None,
            "embed_title": f"{doc.title or doc.id} | {unit.kind}",
        }
        node = TextNode(id_=unit_point_id(doc.id, unit, position), text=unit_text(unit), metadata=metadata)
        node.excluded_embed_metadata_keys = list(metadata)
        node.excluded_llm_metadata_keys = list(metadata)
        nodes.append(node)
    return nodes


# --- the join -----------------------------------------------------------------------------------------


class UnitTable:
    """The units of every indexed document, in the manifest's database (one row per unit point)."""

    def __init__(self, db: sqlite3.Connection, store_key: str) -> None:
        self.db = db
        self.store_key = store_key
        db.execute(
            "CREATE TABLE IF NOT EXISTS units (store TEXT, doc_id TEXT, point_id TEXT, kind TEXT, unit_id TEXT,"
            " was TEXT, status TEXT, date TEXT, access TEXT, record TEXT, PRIMARY KEY (store, point_id))"
        )
        db.commit()

    def replace(self, doc_id: str, nodes: Iterable[TextNode], *, commit: bool = True) -> None:
        self.db.execute("DELETE FROM units WHERE store = ? AND doc_id = ?", (self.store_key, doc_id))
        for n in nodes:
            m = n.metadata
            record = {"metadata": m, "text": n.text}
            self.db.execute(
                "INSERT OR REPLACE INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.store_key,
                    doc_id,
                    n.node_id,
                    m["unit"],
                    m["unit_id"],
                    m.get("was"),
                    m.get("status"),
                    m.get("date"),
                    m.get("access"),
                    json.dumps(record, ensure_ascii=False),
                ),
            )
        if commit:
            self.db.commit()

    def remove(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM units WHERE store = ? AND doc_id = ?", (self.store_key, doc_id))
        self.db.commit()

    def keep_only(self, doc_ids: set[str]) -> None:
        rows = self.db.execute("SELECT DISTINCT doc_id FROM units WHERE store = ?", (self.store_key,))
        for (doc_id,) in list(rows):
            if doc_id not in doc_ids:
                self.remove(doc_id)

    def rows(self, kinds: Sequence[str] = UNIT_KINDS) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(kinds))
        cur = self.db.execute(
            f"SELECT point_id, doc_id, record FROM units WHERE store = ? AND kind IN ({marks})"
            " ORDER BY date, doc_id, point_id",
            (self.store_key, *kinds),
        )
        out = []
        for point_id, doc_id, record in cur:
            r = json.loads(record)
            out.append({"point_id": point_id, "doc_id": doc_id, **r})
        return out

    def outcomes(self, extra: Iterable[dict[str, Any]] = ()) -> dict[str, dict[str, Any]]:
        """Kamerstuk id -> the vote (or announcement) that decides its status, by the rule of ``_FINAL``;
        ``extra``: payloads of stemming points not yet in the table (the document being written)."""
        best: dict[str, dict[str, Any]] = {}
        votes = [r["metadata"] for r in self.rows(("stemming",))] + [
            m for m in extra if m["unit"] == "stemming"
        ]
        for m in votes:
            status = m.get("status")
            if status not in _FINAL:
                continue
            for key in filter(None, (m.get("unit_id"), m.get("was"))):
                cur = best.get(key)
                if cur is None or (_FINAL[status], m.get("date") or "") >= (
                    _FINAL[cur["status"]],
                    cur.get("date") or "",
                ):
                    best[key] = {**m, "status": status}
        return best

    def motions(self) -> list[dict[str, Any]]:
        """Every motion and amendment with its joined status: the list ``briefing moties`` shows."""
        outcome = self.outcomes()
        out = []
        for r in self.rows(MOTION_KINDS):
            m = r["metadata"]
            vote = outcome.get(m["unit_id"]) or (outcome.get(m["was"]) if m.get("was") else None)
            # A motion has no status of its own: only a vote (or the chair's announcement) gives it one.
            out.append({**r, "vote": vote, "status": vote["status"] if vote else None})
        return out


def join_statuses(idx: Any, table: UnitTable) -> list[str]:
    """Give every motion point the status of its latest vote; returns the ids of motions rewritten.

    Only points whose status changed are rewritten (same id, same text: the embedding comes from the
    cache), so a second run writes nothing."""
    from .store.base import ChunkRecord

    changed: list[tuple[dict[str, Any], str | None]] = []
    for row in table.motions():
        m = row["metadata"]
        if row["status"] != m.get("status"):
            changed.append((row, row["status"]))
    if not changed:
        return []
    texts = [r["text"] for r, _ in changed]
    titles = [r["metadata"]["embed_title"] for r, _ in changed]
    vectors = idx.embedder.embed_documents(texts, titles=titles)
    records = []
    for (row, status), vec in zip(changed, vectors, strict=True):
        vote = row.get("vote") or {}
        meta = {
            **row["metadata"],
            "status": status,
            "voor": vote.get("voor", []),
            "tegen": vote.get("tegen", []),
        }
        records.append(
            ChunkRecord(
                id=row["point_id"],
                dense=vec,
                sparse=idx.bm25_for("chunk").encode_document(row["text"]),
                payload={**meta, "text": row["text"]},
            )
        )
        row["metadata"] = meta
    with idx.lock:
        idx.store.add(records)
        idx.store.flush()
        for row, _ in changed:
            table.db.execute(
                "UPDATE units SET status = ?, record = ? WHERE store = ? AND point_id = ?",
                (
                    row["metadata"]["status"],
                    json.dumps({"metadata": row["metadata"], "text": row["text"]}, ensure_ascii=False),
                    table.store_key,
                    row["point_id"],
                ),
            )
        table.db.commit()
    return [r["metadata"]["unit_id"] for r, _ in changed]


# --- listing ------------------------------------------------------------------------------------------


def list_motions(
    settings: Any,
    *,
    dossier: str | None = None,
    status: str | None = None,
    indiener: str | None = None,
    fractie: str | None = None,
    query: str | None = None,
    access: Sequence[str] | None = None,
    limit: int = 200,
) -> list[Any]:
    """Motions and amendments with their status (``briefing moties``, the app): by meaning when ``query``
    is given, else every one in the index, in order of date and number. ``status`` "onbekend" selects those
    without a recorded outcome."""
    from contextlib import closing

    from index.ingest import open_manifest
    from index.search import Searcher, UnitHit, get_index

    def keep(u: UnitHit) -> bool:
        return (
            (dossier is None or u.id.rsplit("-", 1)[0] == dossier or u.id.startswith(dossier + "-"))
            and (status is None or (u.status or "onbekend") == status)
            and (indiener is None or any(indiener.lower() == n.lower() for n in u.indieners))
            and (fractie is None or any(fractie.lower() == f.lower() for f in u.fracties))
            and (access is None or u.access in access)
        )

    if query and query.strip():
        hits = Searcher(settings).units(query, k=max(limit, 20), access=access)
        return [u for u in hits if keep(u)][:limit]
    idx = get_index(settings)
    with closing(open_manifest(settings, idx.store)) as manifest:
        rows = manifest.units.motions()
    out = []
    for r in rows:
        u = UnitHit.from_payload(r["point_id"], {**r["metadata"], "text": r["text"], "status": r["status"]})
        vote = r.get("vote") or {}
        u.voor, u.tegen = vote.get("voor", u.voor), vote.get("tegen", u.tegen)
        if keep(u):
            out.append(u)
    out.sort(key=lambda u: (u.date or "", _number_key(u.id)))
    return out[:limit]


def _number_key(uid: str) -> tuple[str, int]:
    dossier, _, nr = uid.rpartition("-")
    return dossier, int(nr) if nr.isdigit() else 0
