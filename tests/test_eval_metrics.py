"""The metric math, on small hand-worked cases (values computed by hand in the comments)."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    aggregate,
    citation_scores,
    hit_at,
    item_metrics,
    key_fact_recall,
    mrr_at,
    ndcg_at,
    percentile,
    recall_at,
    support_rate,
)

RANKED = ["a", "b", "a", "c", "d"]  # duplicates collapse: a, b, c, d


def test_hit_and_recall() -> None:
    assert hit_at(RANKED, {"b"}, 1) == 0.0
    assert hit_at(RANKED, {"b"}, 2) == 1.0
    assert recall_at(RANKED, {"c", "z"}, 3) == 0.5  # c is third after dedup
    assert recall_at(RANKED, {"d"}, 3) == 0.0  # d is fourth after dedup, not fifth


def test_mrr_and_ndcg() -> None:
    assert mrr_at(RANKED, {"c"}) == pytest.approx(1 / 3)
    assert mrr_at(RANKED, {"x"}) == 0.0
    # relevant b (rank 2) and d (rank 4): dcg = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at(RANKED, {"b", "d"}) == pytest.approx(expected)


def test_key_facts_fold_case_dashes_and_space() -> None:
    answer = "Het kabinet (Kamerstukken II 2017–2018, 33763, nr. 141) achtte het  niet WENSELIJK."
    assert key_fact_recall(answer, ["niet wenselijk", "2017-2018", "ABD Topconsult"]) == pytest.approx(2 / 3)
    assert key_fact_recall(answer, []) is None


def test_citation_scores_normalise_forms() -> None:
    p, r = citation_scores(
        ["kst-33763-141", "30821-153"], ["Kamerstukken II 2017/18, 33763, nr. 141", "35570-17"]
    )
    assert (p, r) == (0.5, 0.5)
    assert citation_scores(["33763-141"], []) == (None, None)
    assert citation_scores([], ["33763-141"]) == (0.0, 0.0)


def test_support_rate_counts_unsupported_against() -> None:
    ok, bad = {"supported": True}, {"supported": False}
    sentences = [{"text": "a", "source": 1, "support": ok}, {"text": "b", "source": 2, "support": ok}]
    sentences.append({"text": "d", "source": 3, "support": bad})
    ask = {"sentences": sentences, "unsupported": ["c"]}
    assert support_rate(ask) == pytest.approx(2 / 4)


def test_item_metrics_answerable_and_unanswerable() -> None:
    item = {"sources": ["nota"], "answerable": True, "key_facts": ["NVR"], "must_cite": ["33763-141"]}
    ask = {
        "answer": "De NVR [1].",
        "abstained": False,
        "cited_kamerstukken": ["33763-141"],
        "unsupported": [],
    }
    m = item_metrics(item, ask, ["nota", "x"])
    assert m["hit1"] == 1.0 and m["key_fact_recall"] == 1.0 and m["citation_recall"] == 1.0
    assert m["false_abstention"] == 0.0
    un = item_metrics({"sources": [], "answerable": False}, {"abstained": True}, ["x"])
    assert un["abstention_accuracy"] == 1.0 and "hit1" not in un
    agg = aggregate([m, un])
    assert agg["hit1"] == 1.0 and agg["abstention_accuracy"] == 1.0 and agg["false_abstention"] == 0.0


def test_percentile() -> None:
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile([1, 2, 3, 4, 100], 95) == 100
