"""The regression gate: the fast subset of the gold set (items tagged "fast") through the default
configuration on the indexed shared corpus, with thresholds just under what the defaults measure.
A change that makes retrieval, citations or abstention worse fails CI here. Raise the thresholds as the
numbers improve (figures in docs/evaluation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.settings import Settings
from eval.gold import load_gold
from eval.metrics import aggregate

REPO = Path(__file__).resolve().parents[1]

# Measured on the defaults (see docs/evaluation.md); each threshold sits a little under its figure.
# Measured 2026-12-02 on the 21 fast items after the refit on 274 dev items (issue 10 added the motion
# items; `make calibrate`): hit5 1.00, mrr10 1.00, key facts 0.68, citation recall 0.50 (2 of the 4 items
# with a must-cite), abstention accuracy 0.75 (3 of 4), false abstention 0.18 (3 of 17). The refit raised
# the answer threshold (p 0.17 -> 0.25): on the test split abstention on unanswerable questions went from
# 0.37 to 0.53 and false abstention from 0.14 to 0.10 (`make eval`), on this subset one more item with a
# must-cite is abstained on. Margins are wider than 0.05 where one item moves a figure by 0.25 (4 items)
# or 0.06 (17 answerable ones).
THRESHOLDS = {
    "hit5": 0.95,
    "mrr10": 0.95,
    "key_fact_recall": 0.60,
    "citation_recall": 0.45,
    "abstention_accuracy": 0.50,
}
MAX_FALSE_ABSTENTION = 0.24


@pytest.fixture(scope="module")
def fast_run(indexed_settings: Settings) -> list[dict]:
    from eval.run import run_items

    items = [i for i in load_gold(REPO / "eval" / "qa") if "fast" in i.tags]
    assert 15 <= len(items) <= 30, f"the fast subset should hold about 20 items, has {len(items)}"
    records, _ = run_items(items, indexed_settings)
    return records


def test_fast_subset_meets_thresholds(fast_run: list[dict]) -> None:
    agg = aggregate([r["metrics"] for r in fast_run])
    report = ", ".join(f"{k}={v:.2f}" for k, v in agg.items() if v is not None)
    for key, minimum in THRESHOLDS.items():
        assert agg[key] is not None and agg[key] >= minimum, f"{key} fell below {minimum}: {report}"
    assert (agg["false_abstention"] or 0.0) <= MAX_FALSE_ABSTENTION, report


def test_every_record_carries_the_full_ask_output(fast_run: list[dict]) -> None:
    for r in fast_run:
        assert {"outcome", "direct", "points"} <= set(r["ask"])
        assert {
            "question",
            "answer",
            "abstained",
            "engine",
            "sources",
            "cited_kamerstukken",
            "unsupported",
        } <= set(r["ask"])
