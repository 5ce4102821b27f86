"""The OpenVINO embedding backend (``embedding_backend = "openvino"``) on the real model: a real export from
the installed model folder, recorded and reused, whose vectors agree with torch bf16 on Dutch texts.

    .venv/bin/pytest tests/test_embedding_backend.py     # ~2 minutes the first time (the export), then less

OpenVINO is the default backend; ``torch`` stays selectable and is what these tests compare against.
The export is kept in build/test-cache/models (beside a link to the installed model), so a developer
re-running the suite does not export again; CI starts from a fresh clone and exports for real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from corpus.settings import DEFAULT_MODEL, Settings
from index.embeddings import Embedder, OpenVINOEncoder, _weights_fingerprint
from index.models_install import (
    OPENVINO_MARKER,
    OPENVINO_XML,
    export_openvino,
    install_model,
    openvino_dir,
    openvino_ready,
)
from tests.conftest import TEST_CACHE
from tests.test_embeddings import PASSAGES, QUERIES

pytestmark = pytest.mark.slow

# bf16 against bf16 through other kernels: measured ≥ 0.999 on the corpus's chunks and sentences
# (bench/bench_levers.py); torch fp32 against torch bf16 is ~0.997 at worst, the bar for "the same vectors".
MIN_COSINE = 0.997


@pytest.fixture(scope="module")
def ov_models(models_dir: Path) -> Path:
    """A models folder of its own, linking the installed model, so the export lands under build/."""
    models = TEST_CACHE / "models"
    models.mkdir(parents=True, exist_ok=True)
    link = models / DEFAULT_MODEL
    if not link.exists():
        link.symlink_to((models_dir / DEFAULT_MODEL).resolve(), target_is_directory=True)
    return models


@pytest.fixture(scope="module")
def ov_embedder(ov_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    home = tmp_path_factory.mktemp("ov-home")
    return Embedder(Settings(home=home, models=ov_models, embedding_backend="openvino"))


def _texts() -> list[str]:
    return [text for _, text in PASSAGES]


def test_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFING_EMBEDDING_BACKEND", raising=False)
    assert Settings().embedding_backend == "openvino"  # the default (docs/performance.md)
    monkeypatch.setenv("BRIEFING_EMBEDDING_BACKEND", "torch")
    assert Settings().embedding_backend == "torch"


def test_export_is_real_recorded_and_reused(ov_embedder: Embedder, ov_models: Path) -> None:
    assert isinstance(ov_embedder.model, OpenVINOEncoder)  # loading exports on first use when missing
    folder = ov_models / DEFAULT_MODEL
    weights = _weights_fingerprint(folder)
    dest = openvino_dir(ov_models, folder, weights)
    marker = json.loads((dest / OPENVINO_MARKER).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == weights
    assert marker["check_min_cosine"] >= 0.999
    assert set(marker["files"]) == {OPENVINO_XML, "openvino_model.bin"}
    assert openvino_ready(dest, weights)
    assert not openvino_ready(dest, "0" * 64)  # other weights never meet this export

    before = os.stat(dest / OPENVINO_XML).st_mtime_ns
    logs: list[str] = []
    assert export_openvino(folder, dest, weights, log=logs.append) == dest
    assert logs == [] and os.stat(dest / OPENVINO_XML).st_mtime_ns == before


def test_models_install_exports_for_the_openvino_backend(ov_embedder: Embedder, ov_models: Path) -> None:
    ov_embedder.model  # noqa: B018  (the export exists)
    logs: list[str] = []
    s = Settings(models=ov_models, embedding_backend="openvino")
    path = install_model(s, log=logs.append)
    assert path == ov_models / DEFAULT_MODEL
    assert openvino_ready(
        openvino_dir(ov_models, path, _weights_fingerprint(path)), _weights_fingerprint(path)
    )


def test_vectors_agree_with_torch_bf16(ov_embedder: Embedder, models_dir: Path) -> None:
    embedder = Embedder(Settings(models=models_dir, embedding_backend="torch"))
    if embedder.dtype != "bfloat16":
        pytest.skip("this CPU has no native bf16: both backends run float32")
    texts = _texts()
    torch_docs = np.array(embedder.embed_documents(texts))
    ov_docs = np.array(ov_embedder.embed_documents(texts))
    assert ov_docs.shape == torch_docs.shape == (len(texts), 768)
    assert np.allclose(np.linalg.norm(ov_docs, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(ov_docs * torch_docs, axis=1)) >= MIN_COSINE

    torch_q = np.array([embedder.embed_query(q) for q, _ in QUERIES])
    ov_q = np.array([ov_embedder.embed_query(q) for q, _ in QUERIES])
    assert np.min(np.sum(ov_q * torch_q, axis=1)) >= MIN_COSINE
    # The paraphrase check of tests/test_embeddings.py: the same passages win.
    assert [int(np.argmax(ov_docs @ q)) for q in ov_q] == [i for _, i in QUERIES]

    # The vectors share one space: the model id (and so the cache and the store) is the same.
    assert ov_embedder.model_id == embedder.model_id


def test_matryoshka_truncation_matches(ov_embedder: Embedder, ov_models: Path, models_dir: Path) -> None:
    small_ov = Embedder(Settings(models=ov_models, embedding_backend="openvino", embedding_dim=256))
    small_torch = Embedder(Settings(models=models_dir, embedding_backend="torch", embedding_dim=256))
    texts = _texts()[:3]
    a = np.array(small_ov.embed_documents(texts))
    b = np.array(small_torch.embed_documents(texts))
    assert a.shape == (3, 256)
    assert np.min(np.sum(a * b, axis=1)) >= MIN_COSINE
