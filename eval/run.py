"""`briefing eval`: ingest a corpus into a throw-away store, run every gold item through ``ask`` under
each named configuration, compute the metrics, write JSON and a report."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.settings import Settings
from eval.configs import CONFIGS, DEFAULT_CONFIGS, INDEX_KEYS
from eval.gold import GoldItem, load_gold
from eval.metrics import aggregate, item_metrics, percentile

# The groups every configuration is reported on: each split, each variant (the original questions and
# their paraphrase twins), and their combinations. "dev" is what was tuned on; "test" was not.
GROUPS: tuple[tuple[str, str | None, str | None], ...] = (
    ("dev", "dev", None),
    ("test", "test", None),
    ("dev · original", "dev", "original"),
    ("dev · paraphrase", "dev", "paraphrase"),
    ("test · original", "test", "original"),
    ("test · paraphrase", "test", "paraphrase"),
    ("paraphrase", None, "paraphrase"),
    ("all", None, None),
)


def variant(item: GoldItem) -> str:
    return "paraphrase" if getattr(item, "paraphrase_of", None) else "original"


def by_group(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, split, var in GROUPS:
        chosen = [
            r["metrics"]
            for r in records
            if (split is None or r.get("split") == split) and (var is None or r.get("variant") == var)
        ]
        if chosen:
            out[name] = {**aggregate(chosen), "n": len(chosen)}
    return out


@dataclass
class ConfigResult:
    name: str
    overrides: dict[str, Any]
    overall: dict[str, float | None]
    per_kind: dict[str, dict[str, float | None]]
    latency_ms: dict[str, float]
    records: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "overrides": self.overrides,
            "metrics": self.overall,
            "groups": self.groups,
            "per_kind": self.per_kind,
            "latency_ms": self.latency_ms,
            "extra": self.extra,
            "items": self.records,
        }


@dataclass
class EvalResult:
    configs: list[ConfigResult]
    qa: str
    corpus: str
    n_items: int

    def to_json(self) -> dict[str, Any]:
        return {
            "qa": self.qa,
            "corpus": self.corpus,
            "n_items": self.n_items,
            "configs": [c.to_json() for c in self.configs],
        }

    def summary_text(self) -> str:
        from eval.report import gap_lines, group_table_markdown, metric_table_markdown

        default = self.configs[0]
        return "\n".join(
            [
                f"{default.name}: per split and variant",
                group_table_markdown(default),
                "",
                *gap_lines(default),
                "",
                "configurations (dev)",
                metric_table_markdown(self.configs, group="dev"),
            ]
        )


def _corpus_key(corpus_dirs: list[Path], settings: Settings) -> str:
    """Content hash of the corpus files plus the settings that shape the index: the cache key of the store."""
    h = hashlib.sha256()
    for d in corpus_dirs:
        for p in sorted(d.rglob("*")) if d.is_dir() else [d]:
            if p.is_file():
                h.update(str(p.relative_to(d) if d.is_dir() else p.name).encode())
                h.update(hashlib.sha256(p.read_bytes()).digest())
    for k in INDEX_KEYS:
        h.update(f"{k}={getattr(settings, k)}".encode())
    return h.hexdigest()[:16]


def prepare_store(corpus_dirs: list[Path], settings: Settings, log=print) -> Settings:
    """A store for this corpus and index settings under the cache folder, reused while nothing changed."""
    from index.ingest import ingest_paths

    key = _corpus_key(corpus_dirs, settings)
    home = settings.cache_path / "eval" / key
    eval_settings = settings.model_copy(
        update={
            "home": home,
            # Vectors are shared across stores and configurations: same model, same chunk text, same vector.
            "embedding_cache": settings.embedding_cache or settings.cache_path / "embeddings.sqlite",
            "store": "edge",
        }
    )
    t0 = time.perf_counter()
    summary = ingest_paths(corpus_dirs, eval_settings, progress=True)
    log(f"eval store {home}: {summary.describe()} ({time.perf_counter() - t0:.1f} s)")
    return eval_settings


def run_items(items: list[GoldItem], settings: Settings) -> tuple[list[dict[str, Any]], list[float]]:
    from assistant.answer import Assistant
    from index.search import Searcher

    assistant = Assistant(settings)
    searcher = Searcher(settings)
    records, latencies = [], []
    for item in items:
        t0 = time.perf_counter()
        ask = assistant.ask(item.question).to_json()
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked = [h.doc_id for h in searcher.search(item.question, k=10)]
        metrics = item_metrics(item.model_dump(), ask, ranked)
        records.append(
            {
                "id": item.id,
                "split": getattr(item, "split", None),
                "variant": variant(item),
                "kind": item.kind,
                "question": item.question,
                "ask": ask,
                "retrieved": ranked,
                "metrics": metrics,
                "latency_ms": round(latencies[-1], 1),
            }
        )
    return records, latencies


def _llm_columns(items: list[GoldItem], records: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """llama-index's faithfulness and relevancy evaluators, only where an LLM endpoint is configured."""
    if not (settings.llm_url and settings.llm_model):
        return {}
    from llama_index.core.evaluation import FaithfulnessEvaluator, RelevancyEvaluator

    from assistant.llm_engine import make_llm

    llm = make_llm(settings)
    faith, rel = FaithfulnessEvaluator(llm=llm), RelevancyEvaluator(llm=llm)
    f_scores, r_scores = [], []
    for item, rec in zip(items, records, strict=True):
        ask = rec["ask"]
        if ask.get("abstained"):
            continue
        contexts = [s["passage"] for s in ask.get("sources", [])]
        f = faith.evaluate(query=item.question, response=ask["answer"], contexts=contexts)
        r = rel.evaluate(query=item.question, response=ask["answer"], contexts=contexts)
        rec["metrics"]["llm_faithfulness"] = float(bool(f.passing))
        rec["metrics"]["llm_relevancy"] = float(bool(r.passing))
        f_scores.append(float(bool(f.passing)))
        r_scores.append(float(bool(r.passing)))
    return {
        "llm_faithfulness": statistics.fmean(f_scores) if f_scores else None,
        "llm_relevancy": statistics.fmean(r_scores) if r_scores else None,
    }


def evaluate_config(
    name: str,
    overrides: dict[str, Any],
    items: list[GoldItem],
    corpus_dirs: list[Path],
    settings: Settings,
    log=print,
) -> ConfigResult:
    cfg_settings = settings.model_copy(update=overrides)
    store_settings = prepare_store(corpus_dirs, cfg_settings, log=log)
    records, latencies = run_items(items, store_settings)
    per_item = [r["metrics"] for r in records]
    kinds = sorted({r["kind"] for r in records})
    per_kind = {k: aggregate([r["metrics"] for r in records if r["kind"] == k]) for k in kinds}
    result = ConfigResult(
        name=name,
        overrides=overrides,
        overall=aggregate(per_item),
        per_kind=per_kind,
        latency_ms={
            "median": round(statistics.median(latencies), 1) if latencies else 0.0,
            "p95": round(percentile(latencies, 95), 1),
        },
        records=records,
        groups=by_group(records),
    )
    result.overall.update(_llm_columns(items, records, store_settings))
    return result


def run_eval(
    qa: Path,
    corpus_dir: Path | list[Path],
    settings: Settings,
    configs: list[str] | None = None,
    json_out: Path | None = None,
    report_dir: Path | None = None,
    limit: int | None = None,
    tags: list[str] | None = None,
    splits: list[str] | None = None,
    log=print,
) -> EvalResult:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = load_gold(qa)
    if tags:
        items = [i for i in items if set(tags) & set(i.tags)]
    if splits:
        items = [i for i in items if getattr(i, "split", None) in splits]
    if limit:
        items = items[:limit]
    corpus_dirs = corpus_dir if isinstance(corpus_dir, list) else [corpus_dir]
    names = configs or list(DEFAULT_CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown configuration(s) {unknown}; known: {sorted(CONFIGS)}")
    results = []
    for name in names:
        log(f"configuration {name}: {len(items)} items")
        results.append(evaluate_config(name, CONFIGS[name], items, corpus_dirs, settings, log=log))
    result = EvalResult(
        configs=results, qa=str(qa), corpus=", ".join(map(str, corpus_dirs)), n_items=len(items)
    )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
    if report_dir:
        from eval.report import write_report

        write_report(result, report_dir)
    return result
