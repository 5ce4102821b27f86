"""`eval/calibrate.py` refits the committed answer configuration from the dev split: a rerun on the shared
corpus reproduces it (up to the bf16 rounding of freshly computed embeddings), and it never reads a test item."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import CONFIG_FILE, AnswerConfig
from corpus.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def refitted(indexed_settings: Settings, shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    from eval import calibrate

    seen: list[str] = []
    collect = calibrate.collect

    def spy(items, *a, **kw):
        seen.extend(getattr(i, "split", None) for i in items)
        return collect(items, *a, **kw)

    calibrate.collect = spy
    try:
        out = tmp_path_factory.mktemp("calibration") / "answer_config.json"
        config = calibrate.calibrate([shared_corpus], indexed_settings, out=out, log=lambda *a: None)
    finally:
        calibrate.collect = collect
    return config, seen


def test_calibration_sees_only_dev_items(refitted) -> None:
    _, seen = refitted
    assert seen and set(seen) == {"dev"}


def test_a_rerun_reproduces_the_committed_configuration(refitted) -> None:
    config, _ = refitted
    committed = AnswerConfig.load(CONFIG_FILE)
    assert committed.fitted.split == config.fitted.split == "dev"
    assert config.retrieve == committed.retrieve
    assert config.compose == committed.compose
    for new, old in (
        (config.select.scorer, committed.select.scorer),
        (config.decide.model, committed.decide.model),
    ):
        assert new is not None and old is not None and new.features == old.features
        assert max(abs(a - b) for a, b in zip(new.weights, old.weights, strict=True)) < 0.1
    assert abs(config.decide.answer_at - committed.decide.answer_at) < 0.05
    assert abs(config.decide.none_below - committed.decide.none_below) < 0.05
