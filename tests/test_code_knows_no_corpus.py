"""Product code must not know the corpus: answers have to generalise to documents nobody has seen.

The code of ``corpus/``, ``index/``, ``assistant/`` and ``eval/`` (without comments and docstrings, which
may use real examples) must not name a dossier number cited anywhere in the shared corpus, the demo nota's
kenmerk, or a phrase particular to the corpus's documents. The lists are built from the corpus itself where
they can be."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from corpus.citations import canonical_ids
from corpus.loader import load_paths
from corpus.models import ReadError

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("corpus", "index", "assistant", "eval")
# Names and phrases of the documents (the demo nota and the shared corpus's debates), not of Dutch policy
# language in general.
PHRASES = [
    "planbureau", "veiligheidsstrategie", "concept-kamerbrief", "nvr", "abd topconsult", "nationale veiligheidsraad",
    "analistennetwerk", "careyn", "humanitas", "vestia", "brexit", "chemours", "wassenberg", "heerma", "segers",
    "wrr", "jenv", "nctv", "4730561",
]  # fmt: skip


def _code_without_comments_and_docstrings(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT or tok.start[0] in docstrings:
            continue
        out.append(tok.string)
    return " ".join(out)


@pytest.fixture(scope="module")
def dossiers(shared_corpus: Path) -> set[str]:
    found: set[str] = set()
    for doc in load_paths([shared_corpus]):
        if isinstance(doc, ReadError):
            continue
        for cid in canonical_ids(doc.text):
            found.add(cid.split("-")[0])
    assert len(found) > 20, found
    return found


def test_product_code_names_no_dossier_and_no_phrase_of_the_corpus(dossiers: set[str]) -> None:
    files = [p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))]
    assert len(files) > 30
    problems = []
    for path in files:
        code = _code_without_comments_and_docstrings(path).lower()
        for phrase in PHRASES:
            if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", code):
                problems.append(f"{path.relative_to(REPO)}: {phrase!r}")
        for number in dossiers:
            if re.search(rf"(?<!\d){number}(?!\d)", code):
                problems.append(f"{path.relative_to(REPO)}: dossier {number}")
    assert problems == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path, dossiers: set[str]) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""A docstring may say Planbureau and 33763."""\n'
        "# a comment may say 33763 too\n"
        "CUES = ['planbureau', 'x']\n",
        encoding="utf-8",
    )
    code = _code_without_comments_and_docstrings(probe).lower()
    assert "33763" not in code and code.count("planbureau") == 1
