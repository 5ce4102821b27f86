"""Incremental ingest on small folders copied from the shared corpus, with the real model and a real store.

Covers: first run embeds everything, second run nothing; a changed document replaces exactly its own points;
prune and delete; bad files are skipped with a reason and lose nothing; a store left inconsistent (orphan
points, missing manifest rows) is repaired; and a real SIGKILL in the middle of `briefing ingest`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.loader import load_paths
from corpus.models import Document
from corpus.settings import Settings
from index.chunking import chunk_document, document_units
from index.ingest import MANIFEST_NAME, delete_documents, ingest_paths, open_manifest
from index.search import close_indexes, get_index
from index.store.base import ChunkRecord, Filters

TINY = [
    "h-tk-20172018-70-1.xml",
    "h-tk-20172018-50-1.xml",
    "h-tk-20172018-70-7.xml",
    "h-tk-20172018-70-2.xml",
]
NOTA_TEXT = """Ministerie van Justitie en Veiligheid

Datum
3 maart 2024

Ons kenmerk
9990001

nota

Dijkbewaking door vrijwilligers

1. Aanleiding

De waterschappen vragen om duidelijkheid over de inzet van vrijwilligers bij dijkbewaking tijdens hoogwater.
Deze nota geeft een overzicht van de afspraken met de veiligheidsregio's en de verzekering van vrijwilligers.

2. Advies

Wij adviseren in te stemmen met een landelijke regeling voor de verzekering van vrijwillige dijkwachten.
"""


@pytest.fixture
def folder(tmp_path: Path, shared_corpus: Path) -> Path:
    d = tmp_path / "docs"
    (d / "handelingen").mkdir(parents=True)
    for name in TINY:
        shutil.copy(shared_corpus / "handelingen" / name, d / "handelingen" / name)
    (d / "nota-9990001.txt").write_text(NOTA_TEXT, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Tests after the first reuse vectors; only test_first_run_embeds_second_run_nothing needs a cold cache.
    return tmp_path_factory.mktemp("emb-cache") / "embeddings.sqlite"


def _docs(folder: Path) -> dict[str, Document]:
    return {d.id: d for d in load_paths([folder]) if isinstance(d, Document)}


def _points(settings: Settings, doc_id: str | None = None) -> dict[str, dict]:
    """Every point (id -> payload) of a document, or of the whole store, via an exhaustive filtered query."""
    store = get_index(settings).store
    flt = Filters(match={"doc_id": doc_id}) if doc_id else None
    n = store.count(flt)
    hits = store.query(
        dense=[1.0] * settings.embedding_dim, sparse=None, limit=max(n, 1), filters=flt, mode="dense"
    )
    assert len(hits) == n
    return {h.id: h.payload for h in hits}


def test_first_run_embeds_second_run_nothing_and_change_replaces(settings: Settings, folder: Path) -> None:
    docs = _docs(folder)
    assert len(docs) == 5
    first = ingest_paths([folder], settings, progress=False)
    assert first.skipped == []
    assert first.documents == 5 and first.added == 5
    assert first.chunks == sum(
        len(chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)) for d in docs.values()
    )
    units = sum(len(document_units(d, settings.chunk_tokens, settings.chunk_overlap)) for d in docs.values())
    assert first.chunks + first.sentences == units and first.sentences > first.chunks
    # Every chunk and sentence was embedded once (a sentence repeated inside the corpus only once).
    assert 0 < first.embedded <= units
    assert get_index(settings).store.count() == units

    second = ingest_paths([folder], settings, progress=False)
    assert (second.documents, second.chunks, second.embedded, second.unchanged) == (5, first.chunks, 0, 5)
    assert get_index(settings).store.count() == units

    nota_id = next(i for i, d in docs.items() if (folder / "nota-9990001.txt").samefile(d.path))
    before = {i: set(_points(settings, i)) for i in docs}
    text = NOTA_TEXT.replace("landelijke regeling", "regionale regeling met een evaluatie na twee jaar")
    (folder / "nota-9990001.txt").write_text(text, encoding="utf-8")
    third = ingest_paths([folder], settings, progress=False)
    assert (third.replaced, third.unchanged, third.added) == (1, 4, 0)
    new_nodes = document_units(_docs(folder)[nota_id], settings.chunk_tokens, settings.chunk_overlap)
    # Only the changed chunk(s) and sentence(s) were embedded; the unchanged ones came from the cache.
    assert 1 <= third.embedded < len(new_nodes)
    after = {i: set(_points(settings, i)) for i in docs}
    assert after[nota_id] == {n.node_id for n in new_nodes} != before[nota_id]
    for i in docs:
        if i != nota_id:
            assert after[i] == before[i]
    assert get_index(settings).store.count() == sum(len(v) for v in after.values())
    payloads = _points(settings, nota_id)
    assert not any("landelijke regeling" in p["text"] for p in payloads.values())
    assert any("evaluatie na twee jaar" in p["text"] for p in payloads.values())


def test_prune_delete_and_cli_json(
    tmp_path: Path, models_dir: Path, module_cache: Path, folder: Path, monkeypatch
) -> None:
    from click.testing import CliRunner

    from assistant.cli import main

    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=module_cache)
    docs = _docs(folder)
    first = ingest_paths([folder], settings, progress=False)
    total = get_index(settings).store.count()
    assert total == first.chunks + first.sentences

    gone = folder / "handelingen" / "h-tk-20172018-70-7.xml"
    gone_id = "h-tk-20172018-70-7"
    gone_chunks = len(_points(settings, gone_id))
    assert gone_chunks >= 1
    gone.unlink()
    kept = ingest_paths([folder], settings, progress=False)  # no --prune: nothing deleted
    assert kept.deleted == [] and get_index(settings).store.count() == total
    pruned = ingest_paths([folder], settings, progress=False, prune=True)
    assert pruned.deleted == [gone_id]
    assert get_index(settings).store.count() == total - gone_chunks
    assert gone_id not in {d.doc_id for d in get_index(settings).store.list_documents()}

    other = "h-tk-20172018-50-1"
    n_other = len(_points(settings, other))
    result = delete_documents([other, "bestaat-niet"], settings)
    assert result["deleted"] == {other: n_other} and result["not_found"] == ["bestaat-niet"]
    assert _points(settings, other) == {}

    # The CLI re-adds it from the cache: documents read, nothing embedded.
    monkeypatch.setenv("BRIEFING_MODELS", str(models_dir))
    monkeypatch.setenv("BRIEFING_EMBEDDING_CACHE", str(module_cache))
    res = CliRunner().invoke(main, ["--home", str(settings.home), "ingest", "--json", str(folder)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"documents", "chunks", "embedded", "skipped"} <= set(out)
    assert out["documents"] == len(docs) - 1 and out["embedded"] == 0 and out["added"] == 1
    assert len(_points(settings, other)) == n_other


def test_bad_files_are_skipped_and_nothing_is_lost(
    tmp_path: Path, models_dir: Path, module_cache: Path, folder: Path
) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=module_cache)
    ingest_paths([folder], settings, progress=False)
    before = _points(settings)
    broken = folder / "handelingen" / "h-tk-20172018-70-2.xml"  # not -1: siblings take their date from -1
    broken.write_text("<officiele-publicatie><handelingen><agendapunt>", encoding="utf-8")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.7\n this is not a pdf at all")
    summary = ingest_paths([folder, tmp_path / "bestaat-niet"], settings, progress=False, prune=True)
    skipped = {Path(s["path"]).name: s["reason"] for s in summary.skipped}
    assert set(skipped) == {"h-tk-20172018-70-2.xml", "kapot.pdf", "bestaat-niet"}, summary.skipped
    assert all(reason.strip() for reason in skipped.values())
    # The document whose file broke keeps its points (also under --prune: the file still exists).
    assert summary.deleted == []
    assert _points(settings) == before
    assert summary.embedded == 0 and summary.unchanged == 4


def test_inconsistent_store_is_repaired(
    tmp_path: Path, models_dir: Path, module_cache: Path, folder: Path
) -> None:
    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=module_cache)
    ingest_paths([folder], settings, progress=False)
    clean = _points(settings)
    idx = get_index(settings)
    # 1. An orphan point of a document (as left by an interrupted replace).
    victim_id, victim = next((i, p) for i, p in clean.items() if p["doc_id"] == "h-tk-20172018-70-2")
    idx.store.add(
        [
            ChunkRecord(
                id="00000000-0000-4000-8000-000000000001",
                dense=[0.5] * settings.embedding_dim,
                sparse=idx.bm25.encode_document(victim["text"]),
                payload={**victim, "chunk_index": 99},
            )
        ]
    )
    # 2. A document in the store that the manifest does not know (killed before the manifest write).
    manifest = open_manifest(settings, idx.store)
    manifest.remove("h-tk-20172018-50-1")
    manifest.close()
    assert idx.store.count() == len(clean) + 1
    summary = ingest_paths([folder], settings, progress=False)
    assert sorted(summary.repaired) == ["h-tk-20172018-50-1", "h-tk-20172018-70-2"]
    assert summary.embedded == 0
    assert _points(settings) == clean
    assert victim_id in clean


def _briefing() -> str:
    exe = Path(sys.executable).with_name("briefing")
    assert exe.exists(), exe
    return str(exe)


def _manifest_rows(home: Path) -> int:
    db = home / MANIFEST_NAME
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=0.1) as con:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet, or locked for a moment
        return 0


def test_kill_midway_and_rerun_equals_clean_run(
    tmp_path: Path, models_dir: Path, shared_corpus: Path, folder: Path
) -> None:
    # A document big enough that embedding it takes a while after the first one is recorded.
    shutil.copy(shared_corpus / "handelingen" / "h-tk-20172018-70-6.xml", folder / "handelingen")
    cache = tmp_path / "cold-cache.sqlite"  # cold, so the child really embeds and can be caught midway
    home = tmp_path / "killed"
    env = {
        **os.environ,
        "BRIEFING_HOME": str(home),
        "BRIEFING_MODELS": str(models_dir),
        "BRIEFING_EMBEDDING_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [_briefing(), "ingest", str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 600
        while _manifest_rows(home) < 1:
            assert proc.poll() is None, (
                f"ingest ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
            )
            assert time.monotonic() < deadline, "first document never recorded"
            time.sleep(0.05)
        assert proc.poll() is None, "ingest finished before the kill; the test would prove nothing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    recorded = _manifest_rows(home)
    assert 1 <= recorded < 6

    rerun_settings = Settings(home=home, models=models_dir, embedding_cache=cache)
    rerun = ingest_paths([folder], rerun_settings, progress=False)
    assert rerun.skipped == [] and rerun.documents == 6
    assert rerun.unchanged >= 1  # what was recorded before the kill is not redone
    clean_settings = Settings(home=tmp_path / "clean", models=models_dir, embedding_cache=cache)
    clean = ingest_paths([folder], clean_settings, progress=False)
    assert clean.embedded == 0  # everything is in the cache by now
    rerun_points, clean_points = _points(rerun_settings), _points(clean_settings)
    assert len(rerun_points) == len(clean_points) == clean.chunks + clean.sentences + clean.units
    assert set(rerun_points) == set(clean_points)
    docs_rerun = {d.doc_id: d.chunks for d in get_index(rerun_settings).store.list_documents()}
    docs_clean = {d.doc_id: d.chunks for d in get_index(clean_settings).store.list_documents()}
    assert docs_rerun == docs_clean
    close_indexes()


def test_chunk_vectors_from_sentences(
    tmp_path: Path, models_dir: Path, module_cache: Path, folder: Path
) -> None:
    """With chunk_vectors = "sentences" a chunk's vector is the length-weighted mean of its sentences' and
    only chunks without sentences of their own are read by the model."""
    import numpy as np

    from index.embeddings import get_embedder

    settings = Settings(
        home=tmp_path / "home", models=models_dir, embedding_cache=module_cache, chunk_vectors="sentences"
    )
    summary = ingest_paths([folder], settings, progress=False)
    assert summary.skipped == [] and summary.documents == 5
    store = get_index(settings).store
    n = store.count()
    hits = store.query(dense=[1.0] * settings.embedding_dim, sparse=None, limit=n, mode="dense")
    ids = [h.id for h in hits]
    payloads = {h.id: h.payload for h in hits}
    sentences_of: dict[str, list[str]] = {}
    for pid, p in payloads.items():
        if p["unit"] == "sentence":
            sentences_of.setdefault(p["chunk_id"], []).append(pid)
    derived = [pid for pid, p in payloads.items() if p["unit"] == "chunk" and sentences_of.get(pid)]
    assert derived
    # The model read the sentences and the chunks without sentences, never a chunk with them.
    assert summary.embedded <= summary.sentences + summary.chunks - len(derived)
    # Vectors through the embedder (the same texts, from the cache) and the store's scores agree.
    emb = get_embedder(settings)
    for cid in derived[:3]:
        parts = sentences_of[cid]
        vecs = np.asarray(emb.embed_documents([payloads[s]["text"] for s in parts]), dtype=np.float32)
        w = np.array([len(payloads[s]["text"].split()) for s in parts], dtype=np.float32)
        mean = (vecs * w[:, None]).sum(axis=0)
        mean /= np.linalg.norm(mean)
        got = store.query(
            dense=mean.tolist(), sparse=None, limit=1, mode="dense", filters=Filters(match={"unit": "chunk"})
        )
        assert got[0].id == cid and got[0].score > 0.999
    assert len(ids) == n


def test_home_spelled_relative_is_one_folder_wherever_later_commands_run(
    tmp_path: Path, models_dir: Path, module_cache: Path, folder: Path, monkeypatch
) -> None:
    # `--home h` once named a folder relative to each command's working directory: the manifest, lock and
    # store of a later run from elsewhere were other ones. Settings hold one absolute spelling.
    work, elsewhere = tmp_path / "werk", tmp_path / "elders"
    work.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    settings = Settings(home=Path("h"), models=models_dir, embedding_cache=module_cache)
    assert settings.home == work / "h" and settings.store_path.is_absolute()
    assert Settings(home=Path("~/h")).home == Path.home() / "h"
    first = ingest_paths([folder], settings, progress=False)
    close_indexes()

    monkeypatch.chdir(elsewhere)
    again = ingest_paths([folder], settings, progress=False)
    same = Settings(home=work / "h", models=models_dir, embedding_cache=module_cache)
    assert (again.unchanged, again.added, again.embedded) == (first.documents, 0, 0)
    assert get_index(same) is get_index(settings)
    assert not (elsewhere / "h").exists()
    close_indexes()
