"""Prove every gold item against the corpus it was written from.

For each item: its sources exist, every key fact and evidence sentence occurs in one of its sources,
every must_cite Kamerstuk is cited there (in any written form) or is a source's own id, and unanswerable
items carry no sources, facts, evidence or citations. Documents are read with the real loader, so the
check sees the text the index sees.

    python -m eval.validate [QA] [CORPUS...]   # defaults: eval/qa, ../shared/corpus and corpus/documents
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.citations import canonical_ids, normalise_id
from eval.gold import KINDS, GoldItem, load_gold

REPO = Path(__file__).resolve().parents[1]
# Same lookup as tests/conftest.py: the shared material lies beside the checkout unless told otherwise.
SHARED = Path(os.environ.get("BRIEFING_SHARED", REPO.parent / "shared")).resolve()
DEFAULT_QA = REPO / "eval" / "qa"
DEFAULT_CORPUS = (SHARED / "corpus", REPO / "corpus" / "documents")

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        # Invisible characters PDF extraction leaves inside words ("Risico\xadanalyse").
        "\u00ad": None,
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
    }
)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Matching form: NFKC, one kind of quote and dash, case-folded, and no whitespace at all.

    Whitespace is dropped rather than collapsed because readers differ in where they put it: the XML
    Handelingen wrap inline elements on their own lines, so one reader gives "( 21501-08 , nr. 719 )" and
    another "(21501-08, nr. 719)". Dropping it makes both the same without making a wrong fact right."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
    return _SPACE.sub("", text)


@dataclass
class CorpusDoc:
    id: str
    raw: str  # text as the loader gives it, plus title/headings/speakers (searchable context)
    kamerstuk_id: str | None = None
    norm: str = ""
    cited_ids: set[str] | None = None  # canonical ids found by corpus.citations, computed on first use

    def __post_init__(self) -> None:
        if not self.norm:
            self.norm = normalise(self.raw)


def load_corpus(corpus_dirs: Iterable[str | Path]) -> tuple[dict[str, CorpusDoc], list[str]]:
    """Every document under the corpus folders, by id, read with the project's loader; plus read errors.

    Should a document id come twice, the longer text is kept."""
    from corpus.loader import load_paths
    from corpus.models import ReadError

    docs: dict[str, CorpusDoc] = {}
    errors: list[str] = []
    for d in load_paths([Path(p) for p in corpus_dirs]):
        if isinstance(d, ReadError):
            errors.append(str(d))
            continue
        parts = [d.title or ""]
        for s in d.sections:
            # Speakers and headings count as text: "who spoke for the PVV" is answered by a speaker label.
            parts.extend(x for x in (s.heading, s.speaker) if x)
        parts.append(d.text)
        raw = "\n".join(parts)
        if d.id in docs and len(docs[d.id].raw) >= len(raw):
            continue
        docs[d.id] = CorpusDoc(id=d.id, raw=raw, kamerstuk_id=d.kamerstuk_id)
    return docs, errors


def _cite_pattern(canonical: str) -> re.Pattern[str] | None:
    """Written forms of a Kamerstuk in running text: "33763, nr. 141", "33763-141", "kst-33763-141",
    "30 821, No. 153", and the motion form "nr. 232 ( 23987 )"."""
    m = re.fullmatch(r"(\d{4,6})((?:-[0-9A-Za-z]+)*?)-([0-9A-Za-z]+)", canonical.strip())
    if not m:
        return None
    digits, suffix, nr = m.groups()
    dossier = r"\s?".join(digits) + "".join(r"\s*[-\s]\s*" + re.escape(p) for p in suffix.split("-") if p)
    nr_re = re.escape(nr) + r"(?![0-9A-Za-z])"
    forward = rf"(?<![0-9]){dossier}\s*(?:,\s*)?(?:(?:nr|no|n°)\.?\s*|-\s*){nr_re}"
    motion = rf"(?:nr|no)\.?\s*{nr_re}\s*\(\s*{dossier}\s*\)"
    return re.compile(f"(?:{forward})|(?:{motion})", re.IGNORECASE)


def cites(doc: CorpusDoc, kamerstuk: str) -> bool:
    """Does the document cite this Kamerstuk in some form, or is it the document's own id?

    ``corpus.citations`` finds the reference forms it knows; the pattern below adds the bare forms of lists
    ("vervallen: 34775-42; 34734-25") so a correct must_cite is not refused for how it was typeset."""
    want = normalise_id(kamerstuk) or kamerstuk.strip()
    own = {x for x in (doc.id, doc.kamerstuk_id) if x}
    if want in own or kamerstuk in own:
        return True
    if doc.cited_ids is None:
        doc.cited_ids = set(canonical_ids(doc.raw))
    if want in doc.cited_ids:
        return True
    pattern = _cite_pattern(want)
    if pattern is None:
        return False
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", doc.raw).translate(_TRANSLATE))
    return pattern.search(text) is not None


def check_items(items: Sequence[GoldItem], docs: dict[str, CorpusDoc]) -> list[str]:
    """Problems with the items against already loaded documents; each names the item and what failed."""
    problems: list[str] = []
    counts = Counter(i.id for i in items)
    for dup in sorted(k for k, n in counts.items() if n > 1):
        problems.append(f"{dup}: id used {counts[dup]} times")
    for item in items:
        p = f"{item.id}:"
        if not item.question.strip():
            problems.append(f"{p} empty question")
        if item.kind not in KINDS:
            problems.append(f"{p} unknown kind {item.kind!r}")
        if not item.answerable or item.kind == "unanswerable":
            if item.answerable or item.kind != "unanswerable":
                problems.append(f"{p} kind 'unanswerable' and answerable=false go together")
            for name in ("sources", "must_cite", "key_facts", "evidence"):
                if getattr(item, name):
                    problems.append(f"{p} unanswerable item has non-empty {name}")
            continue
        if not item.sources:
            problems.append(f"{p} answerable item without sources")
        if not item.key_facts:
            problems.append(f"{p} answerable item without key_facts")
        if not item.evidence:
            problems.append(f"{p} answerable item without evidence")
        if item.kind == "cross-doc" and len(set(item.sources)) < 2:
            problems.append(f"{p} cross-doc item needs at least two sources")
        srcs = []
        for s in item.sources:
            if s in docs:
                srcs.append(docs[s])
            else:
                problems.append(f"{p} unknown source id {s!r}")
        if not srcs:
            continue
        for fact in item.key_facts:
            if not normalise(fact) or not any(normalise(fact) in d.norm for d in srcs):
                problems.append(f"{p} key fact {fact!r} not in {item.sources}")
        for ev in item.evidence:
            if not normalise(ev) or not any(normalise(ev) in d.norm for d in srcs):
                problems.append(f"{p} evidence not in {item.sources}: {ev[:80]!r}")
        for k in item.must_cite:
            if not any(cites(d, k) for d in srcs):
                problems.append(f"{p} must_cite {k!r} not cited in {item.sources}")
        if item.kind == "cross-doc":
            # Each source must contribute: some evidence sentence must come from every listed document.
            for d in srcs:
                if not any(normalise(ev) in d.norm for ev in item.evidence):
                    problems.append(f"{p} cross-doc source {d.id!r} supports none of the evidence")
    return problems


def validate_items(items: Sequence[GoldItem], corpus_dirs: Iterable[str | Path]) -> list[str]:
    """Load the corpus with the real loader and check the items against it.

    Files the loader refuses are not problems of the gold set by themselves (the loader reports the demo
    nota twice and the ParlaMint TXT beside its XML as duplicates); an item relying on one fails as
    "unknown source id"."""
    docs, _errors = load_corpus(corpus_dirs)
    return check_items(items, docs)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    qa = Path(args[0]) if args else DEFAULT_QA
    corpus = [Path(a) for a in args[1:]] or list(DEFAULT_CORPUS)
    items = load_gold(qa)
    docs, errors = load_corpus(corpus)
    for e in errors:
        print(f"note: not read: {e}", file=sys.stderr)
    problems = check_items(items, docs)
    for line in problems:
        print(line)
    print(f"{len(items)} items, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
