"""Retrieval and answer metrics. Pure functions over plain data, so anyone can recompute them from the
JSON an eval run writes (one record per item: the gold item's id and the full ``ask --json`` output)."""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from corpus.citations import normalise_id


def normalise_text(s: str) -> str:
    """Case, whitespace, quotes and dashes folded, so a key fact matches however it was typeset."""
    s = unicodedata.normalize("NFKC", s).lower()
    s = re.sub(r"[‘’‚‛`´]", "'", s)
    s = re.sub(r"[“”„‟]", '"', s)
    s = re.sub(r"[‐‑‒–—―]", "-", s)
    return re.sub(r"\s+", " ", s).strip()


def _dedupe(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


# --- retrieval, over ranked document ids ---------------------------------------------------------------


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if any(d in relevant for d in _dedupe(ranked)[:k]) else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(relevant & set(_dedupe(ranked)[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for rank, d in enumerate(_dedupe(ranked)[:k], 1):
        if d in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    docs = _dedupe(ranked)[:k]
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(docs) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


# --- answers -----------------------------------------------------------------------------------------------


def key_fact_recall(answer: str, key_facts: Sequence[str]) -> float | None:
    if not key_facts:
        return None
    text = normalise_text(answer)
    return sum(1 for f in key_facts if normalise_text(f) in text) / len(key_facts)


def _canon(ids: Iterable[str]) -> set[str]:
    out = set()
    for i in ids:
        out.add(normalise_id(i) or i)
    return out


def citation_scores(cited: Sequence[str], must_cite: Sequence[str]) -> tuple[float | None, float | None]:
    """(precision, recall) of the Kamerstukken an answer relies on against those it must name.

    Precision is only defined where the item names what must be cited: an answer that cites a
    Kamerstuk for a question whose gold names none is not counted as wrong (it may be right context)."""
    if not must_cite:
        return None, None
    want, got = _canon(must_cite), _canon(cited)
    recall = len(want & got) / len(want)
    precision = len(want & got) / len(got) if got else 0.0
    return precision, recall


def support_rate(ask: dict[str, Any]) -> float | None:
    """Share of answer sentences backed by the passage they cite (flagged/dropped ones count against)."""
    sentences = ask.get("sentences")
    unsupported = len(ask.get("unsupported") or [])
    if sentences is not None:
        # A flagged sentence may stand both among the sentences and in `unsupported`: count it once.
        texts = {s.get("text") for s in sentences}
        supported = sum(
            1 for s in sentences if s.get("source") and (s.get("support") or {}).get("supported", True)
        )
        total = len(sentences) + sum(1 for u in ask.get("unsupported") or [] if u not in texts)
    else:
        marked = re.findall(r"[^.!?]*\[\d+\][^.!?]*[.!?]?", ask.get("answer") or "")
        supported = len(marked)
        total = supported + unsupported
    return supported / total if total else None


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    xs = sorted(values)
    idx = min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))
    return xs[idx]


def mean(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return statistics.fmean(xs) if xs else None


def item_metrics(item: dict[str, Any], ask: dict[str, Any], ranked_docs: Sequence[str]) -> dict[str, Any]:
    """Every metric for one gold item, from its ``ask --json`` output and the ranked retrieved doc ids."""
    relevant = set(item.get("sources") or [])
    answerable = bool(item.get("answerable", True))
    abstained = bool(ask.get("abstained"))
    m: dict[str, Any] = {"answerable": answerable, "abstained": abstained}
    if answerable and relevant:
        m.update(
            hit1=hit_at(ranked_docs, relevant, 1),
            hit5=hit_at(ranked_docs, relevant, 5),
            recall5=recall_at(ranked_docs, relevant, 5),
            recall10=recall_at(ranked_docs, relevant, 10),
            mrr10=mrr_at(ranked_docs, relevant, 10),
            ndcg10=ndcg_at(ranked_docs, relevant, 10),
        )
        answer_text = "" if abstained else (ask.get("answer") or "")
        m["key_fact_recall"] = key_fact_recall(answer_text, item.get("key_facts") or [])
        cited = [] if abstained else (ask.get("cited_kamerstukken") or [])
        m["citation_precision"], m["citation_recall"] = citation_scores(cited, item.get("must_cite") or [])
        m["support_rate"] = None if abstained else support_rate(ask)
        m["false_abstention"] = 1.0 if abstained else 0.0
    else:
        m["abstention_accuracy"] = 1.0 if abstained else 0.0
    return m


METRIC_KEYS = [
    "hit1",
    "hit5",
    "recall5",
    "recall10",
    "mrr10",
    "ndcg10",
    "key_fact_recall",
    "citation_precision",
    "citation_recall",
    "support_rate",
    "abstention_accuracy",
    "false_abstention",
]


def aggregate(per_item: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    return {k: mean(m.get(k) for m in per_item) for k in METRIC_KEYS}
