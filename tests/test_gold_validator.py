"""The gold Q&A set is proven against the real corpus, and the validator rejects broken items.

No embeddings here: the corpus is read with the project's loader only, once per module."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.gold import KINDS, GoldFormatError, GoldItem, load_gold
from eval.validate import CorpusDoc, check_items, load_corpus, main, normalise, validate_items

REPO = Path(__file__).resolve().parents[1]
QA = REPO / "eval" / "qa"
DEMO = REPO / "corpus" / "documents"
NOTA = "nota-4730561"


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    return load_gold(QA)


@pytest.fixture(scope="module")
def corpus_docs(shared_corpus: Path) -> dict[str, CorpusDoc]:
    docs, errors = load_corpus([shared_corpus, DEMO])
    # Only the deliberate duplicates may be refused: the demo nota (also in the shared corpus) and the
    # ParlaMint TXT beside its XML. Anything else unreadable would silently shrink what items are proven on.
    assert all("duplicate" in e for e in errors), errors
    assert len(docs) >= 24, sorted(docs)
    return docs


def _item(**kw) -> GoldItem:
    base = {
        "id": "t-01",
        "question": "Wanneer reageerde het kabinet op het WRR-rapport?",
        "kind": "when",
        "sources": [NOTA],
        "must_cite": ["33763-141"],
        "key_facts": ["28 maart 2018"],
        "evidence": [
            "In de kabinetsreactie van 28 maart 2018 op dit rapport van de WRR is de Kamer geïnformeerd"
        ],
    }
    base.update(kw)
    return GoldItem.model_validate(base)


# --- the gold set itself ------------------------------------------------------------------------------------


def test_whole_gold_set_validates_against_corpus(
    gold: list[GoldItem], corpus_docs: dict[str, CorpusDoc]
) -> None:
    problems = check_items(gold, corpus_docs)
    assert problems == [], "\n".join(problems)


def test_gold_set_shape(gold: list[GoldItem]) -> None:
    kinds = Counter(i.kind for i in gold)
    assert len(gold) >= 80
    assert kinds["unanswerable"] >= 10
    assert kinds["cross-doc"] >= 6
    assert set(KINDS) <= set(kinds), f"missing kinds: {set(KINDS) - set(kinds)}"
    ids = [i.id for i in gold]
    assert len(ids) == len(set(ids))
    assert all(i.answerable == (i.kind != "unanswerable") for i in gold)
    # Every corpus family is covered, not only the nota.
    sources = {s for i in gold for s in i.sources}
    assert NOTA in sources
    assert any(s.startswith("h-tk-") for s in sources)
    assert any(s.startswith("netherlands_") for s in sources)
    assert any(s.startswith("ParlaMint-") for s in sources)
    assert sum(i.language == "en" for i in gold) >= 3


def test_fast_subset_is_balanced(gold: list[GoldItem]) -> None:
    fast = [i for i in gold if "fast" in i.tags]
    assert 15 <= len(fast) <= 25
    assert sum(i.kind == "unanswerable" for i in fast) >= 4
    assert sum(i.language == "en" for i in fast) >= 2
    assert len({i.kind for i in fast}) >= 5
    # The Planbureau "why" question is the demo's headline question: it must be in the fast run.
    assert any(i.kind == "why" and NOTA in i.sources for i in fast)


def test_every_item_keeps_to_the_size_rules(gold: list[GoldItem]) -> None:
    for i in gold:
        if i.answerable:
            assert 1 <= len(i.key_facts) <= 4, i.id
            assert 1 <= len(i.evidence) <= 4, i.id
            assert all(len(f.split()) <= 5 for f in i.key_facts), i.id


# --- the validator catches broken items ----------------------------------------------------------------------


def test_valid_item_passes_and_matching_is_tolerant(corpus_docs: dict[str, CorpusDoc]) -> None:
    assert check_items([_item()], corpus_docs) == []
    # Other quotes, dashes, case and line breaks than the source still match; the source has straight
    # quotes around the report title and an en dash in "2017–2018".
    tolerant = _item(
        key_facts=["28 MAART 2018", "veiligheid in een wereld van verbindingen"],
        evidence=[
            "volgt uit het rapport \u201cVeiligheid in een wereld\n van verbindingen.",
            "(Kamerstukken II 2017-2018, 33763, nr. 141)",
        ],
    )
    assert check_items([tolerant], corpus_docs) == []


def test_fact_not_in_source_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    problems = check_items([_item(key_facts=["28 maart 2019"])], corpus_docs)
    assert len(problems) == 1 and "t-01" in problems[0] and "28 maart 2019" in problems[0]


def test_fact_from_another_document_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    # "Chemours" is in the corpus (ParlaMint), but not in the nota this item lists.
    problems = check_items([_item(key_facts=["Chemours"])], corpus_docs)
    assert len(problems) == 1 and "Chemours" in problems[0]


def test_evidence_not_verbatim_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    paraphrase = "Het kabinet vond op 28 maart 2018 een Planbureau niet wenselijk."
    problems = check_items([_item(evidence=[paraphrase])], corpus_docs)
    assert len(problems) == 1 and "evidence" in problems[0]


def test_wrong_must_cite_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    # 33763-14 is a prefix of the cited 33763-141: it must not count as cited.
    problems = check_items([_item(must_cite=["33763-14", "35570-17"])], corpus_docs)
    assert len(problems) == 1 and "33763-14'" in problems[0]


def test_must_cite_forms_are_recognised(corpus_docs: dict[str, CorpusDoc]) -> None:
    handelingen = "h-tk-20172018-70-8"
    item = _item(
        sources=[handelingen],
        key_facts=["vervallen"],
        evidence=["de volgende aangehouden moties zijn vervallen"],
        # Written as a bare "28844-139;" in the list, and the document's own id.
        must_cite=["28844-139", handelingen],
    )
    assert check_items([item], corpus_docs) == []


def test_unanswerable_with_sources_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    item = _item(answerable=False, kind="unanswerable", must_cite=[], key_facts=[], evidence=[])
    problems = check_items([item], corpus_docs)
    assert problems == ["t-01: unanswerable item has non-empty sources"]
    clean = item.model_copy(update={"sources": []})
    assert check_items([clean], corpus_docs) == []
    mixed = clean.model_copy(update={"answerable": True})
    assert any("go together" in p for p in check_items([mixed], corpus_docs))


def test_unknown_source_id_is_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    problems = check_items([_item(sources=["nota-0000000"])], corpus_docs)
    assert problems == ["t-01: unknown source id 'nota-0000000'"]


def test_duplicate_ids_and_weak_cross_doc_are_caught(corpus_docs: dict[str, CorpusDoc]) -> None:
    problems = check_items([_item(), _item()], corpus_docs)
    assert problems == ["t-01: id used 2 times"]
    # A second source that supports none of the evidence does not make an item cross-document.
    cross = _item(id="t-02", kind="cross-doc", sources=[NOTA, "netherlands_2023_SecurityStrategy"])
    problems = check_items([cross], corpus_docs)
    assert len(problems) == 1 and "netherlands_2023_SecurityStrategy" in problems[0]


def test_normalise_keeps_words_apart_from_punctuation() -> None:
    assert normalise("( 21501-08 , nr. 719 )") == normalise("(21501-08, nr. 719)")
    assert normalise("Kröger \u2018s\u2019") == normalise("kröger 's'")
    assert normalise("Risico\u00adanalyse") == "risicoanalyse"
    assert normalise("nr. 719") != normalise("nr. 71")


# --- end to end: loader, files, command line ----------------------------------------------------------------


def test_validate_items_reads_a_corpus_folder_with_the_loader(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "memo-1.txt").write_text(
        "Memo\n\nDe minister heeft op 3 april 2018 de Kamer geïnformeerd (Kamerstuk 29911-194).\n",
        encoding="utf-8",
    )
    good = _item(
        id="m-1",
        sources=["memo-1"],
        key_facts=["3 april 2018"],
        evidence=["De minister heeft op 3 april 2018 de Kamer geïnformeerd"],
        must_cite=["29911-194"],
    )
    assert validate_items([good], [corpus]) == []
    bad = good.model_copy(update={"key_facts": ["4 april 2018"], "must_cite": ["29911-195"]})
    problems = validate_items([bad], [corpus])
    assert len(problems) == 2 and all(p.startswith("m-1:") for p in problems)


def test_load_gold_folder_file_and_errors(tmp_path: Path) -> None:
    qa = tmp_path / "qa"
    qa.mkdir()
    rows = [
        {"id": "b-1", "question": "Vraag?", "kind": "fact", "sources": ["x"], "extra_note": "kept"},
        {"id": "a-1", "question": "Vraag?", "answerable": False, "kind": "unanswerable"},
    ]
    (qa / "b.jsonl").write_text(json.dumps(rows[0]) + "\n\n", encoding="utf-8")
    (qa / "a.jsonl").write_text(json.dumps(rows[1]) + "\n", encoding="utf-8")
    items = load_gold(qa)
    assert [i.id for i in items] == ["a-1", "b-1"]  # files in name order
    assert items[1].tags == [] and items[1].model_dump()["extra_note"] == "kept"
    assert [i.id for i in load_gold(qa / "b.jsonl")] == ["b-1"]
    (qa / "c.jsonl").write_text('{"id": "c-1", "question": "q", "kind": "essay"}\n', encoding="utf-8")
    with pytest.raises(GoldFormatError, match=r"c\.jsonl:1"):
        load_gold(qa)


def test_command_line_exits_non_zero_on_a_broken_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "memo-2.txt").write_text(
        "Het kabinet besluit geen planbureau op te richten.\n", encoding="utf-8"
    )
    qa = tmp_path / "qa.jsonl"
    item = {"id": "c-1", "question": "Wat besluit het kabinet?", "kind": "fact", "sources": ["memo-2"]}
    qa.write_text(
        json.dumps({**item, "key_facts": ["geen planbureau"], "evidence": ["geen planbureau"]}) + "\n"
    )
    assert main([str(qa), str(corpus)]) == 0
    qa.write_text(
        json.dumps({**item, "key_facts": ["wel een planbureau"], "evidence": ["geen planbureau"]}) + "\n"
    )
    assert main([str(qa), str(corpus)]) == 1
    out = capsys.readouterr().out
    assert "c-1: key fact 'wel een planbureau'" in out


def test_split_is_frozen_by_document_and_twins_inherit() -> None:
    """Every item's recorded split follows from the recorded test documents (eval/qa/split.json); a twin
    has its original's split, sources, key facts and must_cite; at least a third of the documents is test."""
    import json

    from eval.split import SPLIT_FILE, check

    items = load_gold(REPO / "eval" / "qa")
    assert check(items) == []
    split = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    assert len(split["test_documents"]) * 3 >= split["documents"]
    dev = {i.id for i in items if i.split == "dev"}
    test = {i.id for i in items if i.split == "test"}
    assert dev and test and not dev & test
    # No dev item rests on a test document: tuning never sees their text through an answerable item.
    test_docs = set(split["test_documents"])
    assert not any(set(i.sources) & test_docs for i in items if i.split == "dev")
    # Every answerable and unanswerable original has a paraphrase twin.
    twins = {getattr(i, "paraphrase_of", None) for i in items} - {None}
    assert twins == {i.id for i in items if not getattr(i, "paraphrase_of", None)}


def test_split_check_catches_a_moved_item() -> None:
    from eval.split import check

    items = load_gold(REPO / "eval" / "qa")
    moved = items[0].model_copy(update={"split": "test" if items[0].split == "dev" else "dev"})
    problems = check([moved, *items[1:]])
    assert any(moved.id in p for p in problems)
