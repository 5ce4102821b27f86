"""Ingest progress with an estimate of the time left (issue 12): the ``on_progress`` reports of a real ingest
(real model, real store, a folder the test writes), and the same progress through the running app for
``briefing ingest`` (its bar on stderr, as when the CLI ingests itself).

The documents' sentences carry random amounts, so that no vector is in the embedding cache beforehand: the
estimate is only tested where the model really works. Nothing here asserts on durations."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.settings import Settings
from index.ingest import ingest_documents, ingest_paths
from index.progress import IngestProgress, reporting_progress

BRIEFING = str(Path(sys.executable).with_name("briefing"))

SUBJECTS = ["De gemeente", "Het waterschap", "De provincie", "De veiligheidsregio", "De inspectie"]
PLACES = ["Zwolle", "Leeuwarden", "Middelburg", "Assen", "Lelystad", "Maastricht", "Delft", "Hoorn", "Venlo"]
VERBS = ["besteedt", "reserveert", "vraagt", "ontvangt", "begroot"]
PURPOSES = [
    "voor de versterking van dijken",
    "voor het onderhoud van gemalen",
    "voor extra handhavers op straat",
    "voor de opvang van dak- en thuislozen",
    "voor de aanleg van fietspaden",
]


def sections(rng: random.Random, first: int, count: int, sentences: int = 8) -> str:
    """Numbered sections of ``sentences`` sentences: about one chunk and ``sentences`` sentence units each."""
    lines: list[str] = []
    for p in range(first, first + count):
        body = " ".join(
            f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)} {rng.choice(VERBS)} in {rng.randint(2024, 2031)} een "
            f"bedrag van {rng.randint(1000, 999_999):,} euro {rng.choice(PURPOSES)}.".replace(",", ".")
            for _ in range(sentences)
        )
        lines += [f"{p}. Onderdeel {p}", "", body, ""]
    return "\n".join(lines)


def nota_text(rng: random.Random, paragraphs: int) -> str:
    return "Nota voortgangsrapportage\n\n" + sections(rng, 1, paragraphs)


def _write_folder(folder: Path, sizes: dict[str, int]) -> Path:
    rng = random.Random()  # unseeded: new texts every run, so the shared caches hold none of them
    folder.mkdir(parents=True, exist_ok=True)
    for name, paragraphs in sizes.items():
        (folder / name).write_text(nota_text(rng, paragraphs), encoding="utf-8")
    return folder


def _check_monotonic(reports: list[IngestProgress]) -> None:
    first = reports[0]
    for before, after in zip(reports, reports[1:], strict=False):
        assert after.documents_done >= before.documents_done
        assert after.units_done >= before.units_done
        assert after.model_units_done >= before.model_units_done
        assert after.elapsed_seconds >= before.elapsed_seconds
        # The totals are known from the start (everything is chunked before the model runs).
        assert (after.documents_total, after.units_total) == (first.documents_total, first.units_total)
        assert after.model_units_total == first.model_units_total
    for r in reports:
        assert 0 <= r.units_done <= r.units_total and 0 <= r.documents_done <= r.documents_total
        assert 0 <= r.model_units_done <= r.model_units_total <= r.units_total


@pytest.mark.slow
def test_progress_reports_counts_and_an_estimate_from_the_model_work(
    tmp_path: Path, models_dir: Path
) -> None:
    cache = tmp_path / "cache.sqlite"
    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=cache)
    # "groot" needs three slices of the model (64 texts each): the estimate must move within a document.
    folder = _write_folder(tmp_path / "docs", {"klein.txt": 2, "middel.txt": 6, "groot.txt": 20})
    reports: list[IngestProgress] = []
    summary = ingest_paths([folder], settings, progress=False, on_progress=reports.append)
    assert summary.skipped == [] and summary.added == 3
    points = summary.chunks + summary.sentences + summary.units

    _check_monotonic(reports)
    first, last = reports[0], reports[-1]
    assert (first.units_done, first.documents_done, first.eta_seconds) == (0, 0, None)
    assert (first.documents_total, first.units_total) == (3, points)
    # A cold cache: the model reads every text, and the estimate counts all of them.
    assert first.model_units_total == points == summary.embedded
    assert last.documents_done == last.documents_total == 3
    assert last.units_done == last.units_total and last.model_units_done == last.model_units_total
    assert last.finished and last.eta_seconds == 0.0 and last.document == ""

    # No estimate before the model's first slice, one (non-negative) after it, for every later report.
    first_slice = next(i for i, r in enumerate(reports) if r.model_units_done > 0)
    assert all(r.eta_seconds is None for r in reports[:first_slice])
    later = reports[first_slice:]
    assert all(r.eta_seconds is not None and r.eta_seconds >= 0 for r in later)
    assert all(r.rate is not None and r.rate > 0 for r in later)
    # Work left gives a positive estimate: it is no placeholder zero.
    assert any(r.eta_seconds and r.eta_seconds > 0 for r in later if r.model_units_done < r.model_units_total)

    # Reported within the large document, not only between documents.
    groot = [r.units_done for r in reports if r.document.endswith("groot.txt")]
    assert len(set(groot)) >= 3, groot

    # Changed and new documents: the texts already in the cache cost the model nothing and are not counted
    # as its work; the estimate covers exactly the texts it embeds.
    middel = folder / "middel.txt"
    middel.write_text(middel.read_text(encoding="utf-8") + sections(random.Random(), 7, 2), encoding="utf-8")
    _write_folder(folder, {"nieuw.txt": 1})
    reports = []
    again = ingest_paths([folder], settings, progress=False, on_progress=reports.append)
    assert again.skipped == [] and again.unchanged == 2 and again.replaced == 1 and again.added == 1
    _check_monotonic(reports)
    first, last = reports[0], reports[-1]
    assert first.documents_total == 2
    assert 0 < first.model_units_total == again.embedded < first.units_total
    assert last.finished and last.model_units_done == last.model_units_total and last.eta_seconds == 0.0

    # The same folder into another home with the same cache: nothing for the model, so nothing to wait for.
    other = Settings(home=tmp_path / "other", models=models_dir, embedding_cache=cache)
    reports = []
    cached = ingest_paths([folder], other, progress=False, on_progress=reports.append)
    assert cached.embedded == 0 and cached.added == 4
    assert reports[0].model_units_total == 0
    assert all(r.eta_seconds == 0.0 for r in reports) and reports[-1].finished


def test_a_failing_listener_does_not_fail_the_ingest(tmp_path: Path, models_dir: Path) -> None:
    """The listener of an enclosing ``reporting_progress`` (how the app's upload gets reports) is used,
    and its failure costs neither the document nor the run."""
    from corpus.loader import load_paths

    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=tmp_path / "cache.sqlite")
    folder = _write_folder(tmp_path / "docs", {"kort.txt": 1})
    calls: list[IngestProgress] = []

    def broken(progress: IngestProgress) -> None:
        calls.append(progress)
        raise RuntimeError("display gone")

    with reporting_progress(broken):
        summary = ingest_documents(load_paths([folder], settings), settings, progress=False)
    assert summary.skipped == [] and summary.added == 1
    assert len(calls) == 1  # called, failed, and then left alone


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cli_ingest_through_the_app_shows_the_progress_bar(tmp_path: Path, models_dir: Path) -> None:
    """``briefing ingest`` beside a running app runs the ingest in the app; the app streams its progress and
    the CLI draws the same bar on stderr as when it ingests itself. Its JSON output is unchanged."""
    from assistant.app import start

    cache = tmp_path / "cache.sqlite"
    settings = Settings(home=tmp_path / "home", models=models_dir, embedding_cache=cache)
    folder = _write_folder(tmp_path / "docs", {"een.txt": 2, "twee.txt": 7})
    demo = start(settings, host="127.0.0.1", port=_free_port(), block=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        env.update(
            BRIEFING_HOME=str(settings.home),
            BRIEFING_MODELS=str(models_dir),
            BRIEFING_EMBEDDING_CACHE=str(cache),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        proc = subprocess.run(
            [BRIEFING, "ingest", str(folder), "--json"], env=env, capture_output=True, text=True, timeout=1800
        )
    finally:
        demo.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "runs in the app" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["added"] == 2 and summary["skipped"] == []
    total = summary["chunks"] + summary["sentences"] + summary["units"]
    # tqdm redraws with carriage returns: the bar's last state is complete, with the last document's id.
    states = [s for s in proc.stderr.replace("\r", "\n").splitlines() if s.startswith("ingest:")]
    assert states, proc.stderr[-3000:]
    counts = [tuple(map(int, m.groups())) for s in states if (m := re.search(r"\| *(\d+)/(\d+) \[", s))]
    assert counts[-1] == (total, total) and "100%" in states[-1] and "twee" in states[-1], states[-1]
    assert any(0 < done < total for done, _ in counts), states  # it moved while the app worked
