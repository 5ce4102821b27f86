"""The frozen dev/test split of the gold set, by document.

Tuning (``eval/calibrate.py``) sees only ``dev`` items; ``test`` items are reported, never tuned on. The
split is by document, so no test document's text ever shaped a fitted constant: within each kind of
document (Handelingen, strategie, debat, nota, ...) the documents are ordered by a seeded hash of their id
and the first third (rounded up) goes to test. Documents the product ships as its demo (``corpus/documents``)
stay in dev: everyone who runs ``make run`` sees their answers, so they cannot be held out.

An answerable item is ``test`` when any of its sources is a test document; an unanswerable item when any
document of its ``topic`` is. Paraphrase twins inherit their original's split.

The split was made once and is recorded in ``eval/qa/split.json`` and in each item's ``split`` field; this
module re-derives it to check that nothing drifted (``tests/test_gold_validator.py``) and, with
``--write``, to record it (refused when a recorded split would change, unless ``--force``).

    python -m eval.split            # check the recorded split
    python -m eval.split --write    # record it (first time only)
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from eval.gold import GoldItem, load_gold

REPO = Path(__file__).resolve().parents[1]
QA = REPO / "eval" / "qa"
SPLIT_FILE = QA / "split.json"
DEMO = REPO / "corpus" / "documents"
SEED = "briefing-gold-split-2026-12"
TEST_SHARE = 1 / 3


def _order(doc_id: str) -> str:
    return hashlib.sha256(f"{SEED}\x00{doc_id}".encode()).hexdigest()


def choose_test_documents(kinds: dict[str, str], pinned_dev: Iterable[str] = ()) -> list[str]:
    """Per kind, the first third (rounded up) of the documents in seeded-hash order, minus pinned ones."""
    pinned = set(pinned_dev)
    by_kind: dict[str, list[str]] = {}
    for doc_id, kind in kinds.items():
        by_kind.setdefault(kind, []).append(doc_id)
    test: list[str] = []
    for _kind, ids in sorted(by_kind.items()):
        candidates = sorted((i for i in ids if i not in pinned), key=_order)
        test.extend(candidates[: math.ceil(len(ids) * TEST_SHARE)] if candidates else [])
    return sorted(test)


def item_split(item: GoldItem, test_docs: set[str], originals: dict[str, GoldItem]) -> str:
    twin_of = getattr(item, "paraphrase_of", None)
    if twin_of:
        return item_split(originals[twin_of], test_docs, originals)
    docs = item.sources if item.answerable else list(getattr(item, "topic", None) or [])
    return "test" if set(docs) & test_docs else "dev"


def corpus_kinds(corpus_dirs: Sequence[Path]) -> dict[str, str]:
    from corpus.loader import load_paths
    from corpus.models import ReadError

    return {d.id: d.kind for d in load_paths(list(corpus_dirs)) if not isinstance(d, ReadError)}


def derive(items: Sequence[GoldItem], test_docs: Iterable[str]) -> dict[str, str]:
    """item id -> split, from the recorded test documents."""
    originals = {i.id: i for i in items if not getattr(i, "paraphrase_of", None)}
    docs = set(test_docs)
    return {i.id: item_split(i, docs, originals) for i in items}


def check(items: Sequence[GoldItem], split: dict | None = None) -> list[str]:
    """Problems with the recorded split: items whose ``split`` field disagrees with the rule, twins whose
    inherited fields differ from their original's, a test share under a third."""
    split = split if split is not None else json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    want = derive(items, split["test_documents"])
    problems = [
        f"{i.id}: split {getattr(i, 'split', None)!r}, the recorded split says {want[i.id]!r}"
        for i in items
        if getattr(i, "split", None) != want[i.id]
    ]
    originals = {i.id: i for i in items if not getattr(i, "paraphrase_of", None)}
    for i in items:
        of = getattr(i, "paraphrase_of", None)
        if not of:
            continue
        if of not in originals:
            problems.append(f"{i.id}: paraphrase of unknown item {of!r}")
            continue
        o = originals[of]
        for name in ("sources", "key_facts", "must_cite", "kind", "answerable"):
            if getattr(i, name) != getattr(o, name):
                problems.append(f"{i.id}: {name} differs from its original {of}")
    n_docs = split.get("documents", 0)
    if n_docs and len(split["test_documents"]) < n_docs * TEST_SHARE:
        problems.append(f"only {len(split['test_documents'])} of {n_docs} documents in test")
    return problems


def write(corpus_dirs: Sequence[Path], force: bool = False) -> dict:
    kinds = corpus_kinds(corpus_dirs)
    demo = set(corpus_kinds([DEMO])) if DEMO.is_dir() else set()
    test_docs = choose_test_documents(kinds, pinned_dev=demo)
    record = {
        "rule": "per document kind, the first third (rounded up) of the documents by sha256(seed, id); "
        "shipped demo documents stay dev; an item is test when a source (or, unanswerable, a topic) is",
        "seed": SEED,
        "documents": len(kinds),
        "test_documents": test_docs,
        "dev_documents": sorted(set(kinds) - set(test_docs)),
    }
    if SPLIT_FILE.exists() and not force:
        old = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
        if old["test_documents"] != test_docs:
            raise SystemExit(f"{SPLIT_FILE} records another split; it is frozen (use --force to redo it)")
        record["created"] = old.get("created")
    else:
        from datetime import date

        record["created"] = date.today().isoformat()
    SPLIT_FILE.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    items = load_gold(QA)
    want = derive(items, test_docs)
    for f in sorted(QA.glob("*.jsonl")):
        lines = []
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            obj["split"] = want[obj["id"]]
            lines.append(json.dumps(obj, ensure_ascii=False))
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--write" in args:
        from eval.validate import DEFAULT_CORPUS

        record = write([Path(p) for p in DEFAULT_CORPUS], force="--force" in args)
        print(f"test documents ({len(record['test_documents'])} of {record['documents']}):")
        for d in record["test_documents"]:
            print(f"  {d}")
    items = load_gold(QA)
    problems = check(items)
    for p in problems:
        print(p)
    counts: dict[tuple[str, str], int] = {}
    for i in items:
        key = (getattr(i, "split", "?"), "paraphrase" if getattr(i, "paraphrase_of", None) else "original")
        counts[key] = counts.get(key, 0) + 1
    print(", ".join(f"{s}/{v}: {n}" for (s, v), n in sorted(counts.items())), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
