"""Fit every tuned constant of the answer path on the dev split, and write them where the product reads them.

    python -m eval.calibrate [--corpus DIR] [--out assistant/answer_config.json]

What is fitted, all on ``dev`` items only (originals and paraphrase twins; test items are never loaded):
1. ``retrieve.sentence_task``: the EmbeddingGemma prompt for matching the question against sentences
   (question answering or search), whichever puts more gold key facts among the best-scored sentences.
2. ``select.scorer``: a logistic model p(sentence holds a gold key fact | its features), on every candidate
   sentence of every answerable dev item; a sentence counts as positive when it stands in one of the item's
   source documents and contains one of its key facts.
3. ``decide.model`` and ``decide.answer_at``: a logistic model p(answerable | question-level features) on
   every dev item, and the threshold that abstains on the most unanswerable items while refusing at most
   ``MAX_FALSE_ABSTENTION`` of the answerable ones; ``decide.none_below`` at the 2nd percentile of the
   best passage's similarity over the answerable dev items.
4. ``compose``: the probability cut-offs for the direct answer and the points, by grid search for the
   highest key-fact recall of the composed answers (with a small cost per word); the motion list margin;
   and how close a motion must come for a question saying "voorstel" to be taken as about motions.
Steps 3 and 4 use out-of-fold probabilities (5 folds by source document), so the thresholds are set on
probabilities like those of questions the scorer has not seen. Everything is deterministic: a rerun on the
same corpus and gold set writes the same values (up to bf16 rounding of freshly computed embeddings).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import Proposal, finalize
from assistant.compose import compose
from assistant.config import CONFIG_FILE, AnswerConfig, ComposeConfig, DecideConfig, Fitted, SelectConfig
from assistant.decide import FEATURES as DECIDE_FEATURES
from assistant.decide import features as decide_features
from assistant.scoring import LogisticModel, fit_logistic
from assistant.select import FEATURES as SELECT_FEATURES
from assistant.select import Candidate, candidates
from assistant.support import SupportChecker
from corpus.settings import Settings
from eval.gold import GoldItem, load_gold
from eval.metrics import key_fact_recall, normalise_text
from index.search import Evidence

FOLDS = 5
TASKS: tuple[str | None, ...] = ("question answering", None)
# Refusing an answerable question is the costlier error for an official (the first version refused 70-79%
# of them): the decision threshold abstains as often as it can while refusing at most this share of the
# answerable dev questions (out of fold).
MAX_FALSE_ABSTENTION = 0.08
WORD_COST = 0.0002  # key-fact recall given up per word of answer, to prefer the shorter of equal answers
# A later grid point replaces the best so far only when it is better by more than this: refits on vectors
# that differ by bf16 rounding (another backend, another batch) then keep the same configuration instead of
# flipping between near-ties (one point of 274 items' key facts is ~0.004; one word of answer 0.0002).
COMPOSE_MARGIN = 0.002


@dataclass
class Row:
    item: GoldItem
    evidence: Evidence
    cands: list[Candidate]
    labels: list[int] = field(default_factory=list)
    fold: int = 0
    oof: np.ndarray | None = None  # out-of-fold probabilities of the candidates


def _group(item: GoldItem) -> str:
    docs = item.sources or list(getattr(item, "topic", None) or []) or [item.id]
    return sorted(docs)[0]


def _fold(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest(), 16) % FOLDS


def label(item: GoldItem, cands: Sequence[Candidate], hits_doc: Sequence[str]) -> list[int]:
    facts = [normalise_text(f) for f in item.key_facts]
    sources = set(item.sources)
    return [
        int(doc in sources and any(f in normalise_text(c.text) for f in facts))
        for c, doc in zip(cands, hits_doc, strict=True)
    ]


def collect(items: Sequence[GoldItem], settings: Settings, task: str | None, log=print) -> list[Row]:
    from assistant.answer import Assistant

    config = AnswerConfig()
    config.retrieve.sentence_task = task
    assistant = Assistant(settings, config=config)
    rows = []
    t0 = time.perf_counter()
    for item in items:
        evidence = assistant.retrieve(item.question, None, None)
        cands = candidates(item.question, evidence)
        docs = [evidence.chunks[c.hit].doc_id for c in cands]
        rows.append(Row(item, evidence, cands, label(item, cands, docs), _fold(_group(item))))
    log(f"  evidence for {len(rows)} items ({task or 'search'} prompt) in {time.perf_counter() - t0:.0f} s")
    return rows


def fit_select(rows: Sequence[Row]) -> LogisticModel:
    answerable = [r for r in rows if r.item.answerable and r.cands]
    feats = [c.features for r in answerable for c in r.cands]
    labels = [y for r in answerable for y in r.labels]
    # Every item weighs the same, however many sentences its evidence holds.
    weights = [1.0 / len(r.cands) * 100 for r in answerable for _ in r.cands]
    return fit_logistic(feats, labels, SELECT_FEATURES, l2=1.0, sample_weight=weights)


def cross_fit_select(rows: Sequence[Row]) -> None:
    """Out-of-fold probabilities for every row's candidates."""
    for k in range(FOLDS):
        model = fit_select([r for r in rows if r.fold != k])
        for r in rows:
            if r.fold == k:
                r.oof = model.predict([c.features for c in r.cands]) if r.cands else np.zeros(0)


def _ranked(r: Row) -> list[Candidate]:
    for c, p in zip(r.cands, r.oof if r.oof is not None else [], strict=True):
        c.p = float(p)
    return sorted(r.cands, key=lambda c: (-c.p, c.hit, c.sentence.start))


def hits_at(rows: Sequence[Row], k: int = 5) -> float:
    """Share of answerable items with a key-fact sentence among their k most likely sentences."""
    got = []
    for r in rows:
        if not r.item.answerable or not r.cands:
            continue
        pos = {id(c) for c, y in zip(r.cands, r.labels, strict=True) if y}
        got.append(float(any(id(c) in pos for c in _ranked(r)[:k])))
    return statistics.fmean(got) if got else 0.0


def _answer_text(r: Row, ranked: Sequence[Candidate], config: ComposeConfig) -> tuple[str, int]:
    comp = compose(r.item.question, ranked, r.evidence.chunks, config)
    chosen = comp.all
    proposal = Proposal(
        [(c.text, [c.hit]) for c in chosen],
        roles=["direct"] * len(comp.direct) + ["point"] * len(comp.points),
        speakers=[c.sentence.speaker for c in chosen],
    )
    answer = finalize(r.item.question, r.evidence.chunks, proposal, SupportChecker(), "extractive")
    return answer.answer, len(answer.answer.split())


def fit_compose(rows: Sequence[Row], base: ComposeConfig, log=print) -> ComposeConfig:
    answerable = [r for r in rows if r.item.answerable and r.cands]
    ranked = {id(r): _ranked(r) for r in answerable}
    best: tuple[float, ComposeConfig] | None = None
    grid = itertools.product((0.02, 0.05, 0.1, 0.2, 0.3), (0.1, 0.2, 0.35, 0.5), (0.6, 0.8, 0.95))
    for point_min, point_ratio, direct_ratio in grid:
        cfg = base.model_copy(
            update={"point_min": point_min, "point_ratio": point_ratio, "direct_ratio": direct_ratio}
        )
        recalls, lengths = [], []
        for r in answerable:
            text, n = _answer_text(r, ranked[id(r)], cfg)
            recalls.append(key_fact_recall(text, r.item.key_facts) or 0.0)
            lengths.append(n)
        objective = statistics.fmean(recalls) - WORD_COST * statistics.fmean(lengths)
        if best is None or objective > best[0] + COMPOSE_MARGIN:
            best = (objective, cfg)
            log(
                f"    compose min {point_min} ratio {point_ratio} direct {direct_ratio}: key facts "
                f"{statistics.fmean(recalls):.3f}, {statistics.fmean(lengths):.0f} words"
            )
    assert best is not None
    return best[1]


def _threshold(p: Sequence[float], y: Sequence[int], max_false_abstention: float) -> float:
    """The cut (midway between two observed probabilities) that abstains on the most unanswerable items while
    refusing at most ``max_false_abstention`` of the answerable ones; ties go to the lower cut."""
    pos = [pi for pi, yi in zip(p, y, strict=True) if yi]
    neg = [pi for pi, yi in zip(p, y, strict=True) if not yi]
    xs = sorted(set(p))
    cuts = [0.0] + [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)]
    best: tuple[float, float] | None = None
    chosen = 0.0
    for t in cuts:
        fa = sum(1 for x in pos if x < t) / max(1, len(pos))
        ab = sum(1 for x in neg if x < t) / max(1, len(neg))
        if fa > max_false_abstention:
            continue
        key = (ab, -fa)
        if best is None or key > best:
            best, chosen = key, t
    return round(float(chosen), 4)


def fit_decide(rows: Sequence[Row], base: DecideConfig, log=print) -> DecideConfig:
    feats = [decide_features(r.item.question, r.evidence, _ranked(r)) for r in rows]
    labels = [int(r.item.answerable) for r in rows]
    n_pos, n_neg = sum(labels), len(labels) - sum(labels)
    # Both classes weigh the same in the fit: there are far fewer unanswerable items.
    weights = [1.0 if y else n_pos / max(1, n_neg) for y in labels]
    oof = np.zeros(len(rows))
    for k in range(FOLDS):
        train = [i for i, r in enumerate(rows) if r.fold != k]
        model = fit_logistic(
            [feats[i] for i in train], [labels[i] for i in train], DECIDE_FEATURES, l2=1.0,
            sample_weight=[weights[i] for i in train],
        )  # fmt: skip
        test = [i for i, r in enumerate(rows) if r.fold == k]
        if test:
            oof[test] = model.predict([feats[i] for i in test])
    answer_at = _threshold(list(oof), labels, MAX_FALSE_ABSTENTION)
    model = fit_logistic(feats, labels, DECIDE_FEATURES, l2=1.0, sample_weight=weights)
    best_chunk = [f["best_chunk"] for f, y in zip(feats, labels, strict=True) if y]
    # "Niets gevonden" only where almost no answerable dev question's best passage is as weak (2nd percentile).
    none_below = round(float(np.percentile(best_chunk, 2)), 3) if best_chunk else base.none_below
    fa = sum(1 for p, y in zip(oof, labels, strict=True) if y and p < answer_at) / max(1, n_pos)
    ab = sum(1 for p, y in zip(oof, labels, strict=True) if not y and p < answer_at) / max(1, n_neg)
    log(
        f"  decide: answer at p ≥ {answer_at:.3f} (out of fold: false abstention {fa:.2f}, abstains {ab:.2f})"
    )
    return base.model_copy(update={"model": model, "answer_at": answer_at, "none_below": none_below})


MOTION_MARGINS = [round(0.01 * i, 2) for i in range(21)]


def fit_motion_margin(items: Sequence[Any], settings: Settings, compose: Any, log=print) -> Any:
    """The cosine margin within which "welke moties ..." lists further motions of the best one's debate:
    the value (smallest on ties) with the best mean F1 of listed against must-cite motions, over the dev
    questions that ask for a list of motions."""
    from assistant.motions import about_motions, asks_list, choose
    from eval.metrics import _canon
    from index.search import Searcher

    searcher = Searcher(settings)
    cases = []
    for item in items:
        if item.answerable and item.must_cite and about_motions(item.question) and asks_list(item.question):
            found, _, _ = searcher.motion_evidence(item.question, k=compose.motion_candidates)
            cases.append((item.question, _canon(item.must_cite), found))
    if not cases:
        return compose

    def mean_f1(margin: float) -> float:
        total = 0.0
        for question, want, found in cases:
            chosen, _ = choose(question, found, margin, compose.motion_list_max)
            got = _canon([u.id for u in chosen])
            hit = len(want & got)
            total += 2 * hit / (len(want) + len(got)) if want or got else 1.0
        return total / len(cases)

    best = max(MOTION_MARGINS, key=lambda m: (round(mean_f1(m), 6), -m))
    log(f"  motions: list margin {best:.2f} (mean F1 {mean_f1(best):.3f} on {len(cases)} dev list questions)")
    return compose.model_copy(update={"motion_margin": best})


PROPOSAL_GAPS = [round(0.01 * i, 2) for i in range(31)]


def fit_proposal_gap(items: Sequence[Any], settings: Settings, compose: Any, log=print) -> Any:
    """How far below the best passage the best motion may lie for a question that says "voorstel" to be
    answered as a motion question: the value (smallest on ties) that classifies the dev questions saying
    "voorstel" best. A question counts as about motions when its original wording (a paraphrase twin's
    original) names motions, or when a motion or amendment is among its must-cite stukken."""
    from assistant.motions import about_motions, asks_other_stuk, speaks_of_proposal
    from index.search import Searcher
    from index.units import list_motions

    by_id = {i.id: i for i in items}
    searcher = Searcher(settings)
    motion_ids = {m.id for m in list_motions(settings, limit=100_000)}
    cases: list[tuple[float, bool]] = []
    for item in items:
        q = item.question
        if not speaks_of_proposal(q) or asks_other_stuk(q):
            continue
        original = by_id.get(getattr(item, "paraphrase_of", None) or "", item)
        label = about_motions(original.question) or bool(set(item.must_cite) & motion_ids)
        motions, _, _ = searcher.motion_evidence(q, k=compose.motion_candidates)
        evidence = searcher.evidence(q, k=8)
        gap = max(evidence.chunk_similarity.values(), default=0.0) - max(
            (m.score for m in motions), default=0.0
        )
        cases.append((gap, label))
    if not cases:
        return compose

    def accuracy(g: float) -> float:
        return sum((gap <= g) == label for gap, label in cases) / len(cases)

    best = max(PROPOSAL_GAPS, key=lambda g: (round(accuracy(g), 6), -g))
    log(
        f"  motions: 'voorstel' means motions within {best:.2f} (accuracy {accuracy(best):.2f} on {len(cases)} dev questions)"
    )
    return compose.model_copy(update={"proposal_gap": best})


def calibrate(corpus: list[Path], settings: Settings, out: Path = CONFIG_FILE, log=print) -> AnswerConfig:
    from eval.run import prepare_store

    items = [i for i in load_gold(Path(__file__).parent / "qa") if getattr(i, "split", None) == "dev"]
    if not items:
        raise SystemExit("no dev items in eval/qa (is the split recorded? python -m eval.split)")
    store_settings = prepare_store(corpus, settings, log=log)
    log(f"calibrating on {len(items)} dev items")
    best: tuple[float, str | None, list[Row]] | None = None
    for task in TASKS:
        rows = collect(items, store_settings, task, log=log)
        cross_fit_select(rows)
        score = hits_at(rows)
        log(
            f"  sentence prompt {task or 'search'}: a key-fact sentence in the top 5 for {score:.3f} of items"
        )
        if best is None or score > best[0]:
            best = (score, task, rows)
    assert best is not None
    _, task, rows = best
    config = AnswerConfig()
    config.retrieve.sentence_task = task
    config.select = SelectConfig(scorer=fit_select(rows))
    config.decide = fit_decide(rows, config.decide, log=log)
    config.compose = fit_compose(rows, config.compose, log=log)
    config.compose = fit_motion_margin(items, store_settings, config.compose, log=log)
    config.compose = fit_proposal_gap(items, store_settings, config.compose, log=log)
    config.fitted = Fitted(
        split="dev",
        date=date.today().isoformat(),
        items=len(items),
        command="python -m eval.calibrate",
        notes={"key_fact_sentence_in_top5_oof": round(best[0], 3)},
    )
    config.dump(out)
    log(f"wrote {out}")
    return config


def main(argv: Sequence[str] | None = None) -> int:
    from eval.validate import SHARED

    ap = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, action="append", help="corpus folder (default ../shared/corpus)")
    ap.add_argument("--out", type=Path, default=CONFIG_FILE)
    args = ap.parse_args(argv)
    corpus = args.corpus or [SHARED / "corpus"]
    calibrate(corpus, Settings(), out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
