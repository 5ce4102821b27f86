"""Shared fixtures. Each test gets its own data folder; the model and the indexed shared corpus are
session-scoped because loading the model and embedding ~1,000 chunks on 2 CPU cores takes minutes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from corpus.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRIEFING_SHARED", REPO.parent / "shared")).resolve()
DEMO = REPO / "corpus" / "documents"
# Embeddings are cached by (model, chunk hash) across test runs here, so a developer re-running the suite
# does not re-embed the shared corpus. CI starts from a fresh clone, so there it is computed for real.
TEST_CACHE = REPO / "build" / "test-cache"
TEST_OUTPUT = REPO / "test-output"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.fail(
            f"../shared/corpus is missing (looked in {SHARED}); tests need the shared corpus beside the repo"
        )
    return SHARED


@pytest.fixture(scope="session")
def shared_corpus(shared_dir: Path) -> Path:
    return shared_dir / "corpus"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Settings().models


@pytest.fixture
def settings(tmp_path: Path, models_dir: Path) -> Settings:
    """Settings with an isolated, empty data folder and the real installed model."""
    return Settings(home=tmp_path / "home", models=models_dir)


@pytest.fixture(scope="session")
def embedder(models_dir: Path):
    from index.embeddings import Embedder

    return Embedder(Settings(models=models_dir))


@pytest.fixture(scope="session")
def indexed_settings(
    tmp_path_factory: pytest.TempPathFactory, shared_corpus: Path, models_dir: Path
) -> Settings:
    """The shared corpus (which holds the demo nota too), ingested once per session into a throw-away store."""
    from index.ingest import ingest_paths

    home = tmp_path_factory.mktemp("indexed-home")
    s = Settings(home=home, models=models_dir, embedding_cache=TEST_CACHE / "embeddings.sqlite")
    summary = ingest_paths([shared_corpus], s, progress=False)
    assert summary.documents > 0 and summary.chunks > 0, summary
    return s
