"""The one typed settings object of the whole product.

It lives in the bottom layer (``corpus``) so that ``index`` and ``assistant`` can read it without the
data flow ever pointing backwards. Values come, highest priority first, from explicit arguments,
``BRIEFING_*`` environment variables, a TOML file (``BRIEFING_CONFIG`` or ``$BRIEFING_HOME/briefing.toml``)
and the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_MODEL = "embeddinggemma-300m"


class User(BaseModel):
    """A login for the app. ``password_hash`` is a bcrypt hash, never a plain password."""

    name: str
    password_hash: str
    role: Literal["openbaar", "intern"] = "openbaar"
    can_delete: bool = False


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("briefing-assistant"))


def _default_models() -> Path:
    return Path(platformdirs.user_cache_dir("briefing-assistant")) / "models"


def _config_file() -> Path | None:
    explicit = os.environ.get("BRIEFING_CONFIG")
    if explicit:
        return Path(explicit)
    home = Path(os.environ.get("BRIEFING_HOME") or _default_home())
    candidate = home / "briefing.toml"
    return candidate if candidate.exists() else None


def config_file_in_use() -> Path | None:
    """The TOML file settings are read from, if any."""
    return _config_file()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIEFING_", extra="ignore", env_nested_delimiter="__")

    # Where state lives: the store, embedding cache, feedback, logs.
    home: Path = Field(default_factory=_default_home)
    # Where models live; shared between stores so one download serves many.
    models: Path = Field(default_factory=_default_models)

    # Embeddings: a name installed by `briefing models install`, or any local sentence-transformers folder,
    # or a hub id where a hub is reachable.
    embedding_model: str = DEFAULT_MODEL
    embedding_dim: int = 768
    embedding_batch_size: int = 16
    # "auto" picks bfloat16 where the CPU has native bf16 (avx512_bf16/amx), else float32.
    embedding_dtype: Literal["auto", "bfloat16", "float32"] = "auto"
    # "openvino" (default) runs the same model exported to OpenVINO: exported once by `briefing models
    # install` (else on first use), same vectors as torch up to bf16 noise; 1.87x the model's ingest work,
    # 1.64x the whole ingest (docs/performance.md). "torch" runs it through sentence-transformers.
    embedding_backend: Literal["torch", "openvino"] = "openvino"
    # Vectors cached by (model, chunk hash); default: $home/cache/embeddings.sqlite.
    embedding_cache: Path | None = None

    # Store: "edge" (Qdrant Edge, in-process) or "qdrant" (qdrant-client: server URL, or local mode path).
    store: Literal["edge", "qdrant"] = "edge"
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_path: Path | None = None
    collection: str = "briefing"

    # A chunk's dense vector: the model's reading of the chunk, or the mean of its sentences' vectors (every
    # text is then read once: ingest costs the sentences only).
    chunk_vectors: Literal["model", "sentences"] = "model"

    # Chunking (settled by the eval suite; see docs/evaluation.md).
    chunk_tokens: int = 300
    chunk_overlap: int = 40

    # Retrieval.
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = 8
    prefetch_k: int = 50
    # Up to this many points, dense search is exact (reproducible, a few ms); beyond it the HNSW index.
    exact_search_points: int = 100_000
    # Beyond it, how wide the HNSW search looks (Qdrant's ``hnsw_ef``). Sentence points are ~88% of all
    # points and crowd each other: with the engine's default ef, recall@10 of sentence search against exact
    # was 0.74-0.84; at 512, 0.95 (python bench/bench_scale.py, 1k chunks with HNSW built, 2026-12-02).
    hnsw_ef: int = 512

    # Answers.
    engine: Literal["extractive", "llm"] = "extractive"
    abstention: bool = True
    # The answer stages' fitted configuration; default: assistant/answer_config.json (eval/calibrate.py).
    answer_config: Path | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0
    # A question longer than this is refused (CLI, app): it would be echoed into every later sources panel.
    max_question_chars: int = 2000

    # App.
    host: str = "127.0.0.1"
    port: int = 7860
    users: list[User] = Field(default_factory=list)
    # Example questions the app offers (JSON list in BRIEFING_EXAMPLES, or `examples = [...]` in the TOML).
    examples: list[str] = Field(default_factory=list)
    upload_max_mb: int = 50

    # Files read on ingest and upload (docs/security-files.md). The limits are checked before the work they
    # guard, so one big or pathological file is refused in a moment instead of blocking the files after it.
    # Symbolic links that lead out of the folder being ingested are refused unless this is true; the
    # assistant's own configuration and data are never read, whatever this says.
    follow_links: bool = False
    # Bytes of one file on disk, checked before it is read: a Kamerstuk PDF is well under 5 MB, a report
    # full of photos rarely over 30 MB. Uploads also obey ``upload_max_mb``.
    max_file_bytes: int = Field(default=50_000_000, ge=1)
    # A DOCX's XML (text, styles, numbering; images are never unpacked), counted from the zip directory
    # before anything is unpacked: about 1,000 pages of Word text (10-20 KB of XML a page). Parsed XML takes
    # some 30x its size in memory (issue 11: 100 MB of XML took 3.4 GB), so this also caps memory per file.
    max_expanded_bytes: int = Field(default=20_000_000, ge=1)
    # Pages of one PDF, counted before any text is extracted (a begroting or jaarverslag has 300-600).
    max_pdf_pages: int = Field(default=2000, ge=1)
    # Characters of text one file may yield (about 1,000 pages); a larger text is refused before chunking.
    max_text_chars: int = Field(default=3_000_000, ge=1)
    # Chunks of one document, checked before anything is embedded: prose has 1,000-1,250 characters a chunk,
    # a debate's short turns ~800, so max_text_chars stays the limit that speaks first (about 30 minutes of
    # embedding on 2 cores).
    max_chunks_per_document: int = Field(default=4000, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _config_file()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("home", "models", "embedding_cache", "qdrant_path", mode="after")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        # One spelling per folder: `--home h`, `./h` and `/abs/h` name the same store, lock, manifest and
        # in-process index (keyed by path), whatever the working directory of a later command. Links are
        # kept (abspath, not realpath): the user's spelling of a linked folder stays theirs.
        return None if path is None else Path(os.path.abspath(os.path.expanduser(path)))

    # Derived locations, all under `home`.
    @property
    def store_path(self) -> Path:
        return self.home / "store"

    @property
    def cache_path(self) -> Path:
        return self.home / "cache"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.jsonl"

    @property
    def uploads_path(self) -> Path:
        return self.home / "uploads"

    @property
    def audit_path(self) -> Path:
        """Append-only record of uploads, replacements and deletions (JSON lines)."""
        return self.home / "audit.jsonl"

    def protected_paths(self) -> list[Path]:
        """The assistant's own configuration and state, never read as documents (``uploads_path`` aside,
        which is read on purpose). Resolved, so a link to any of them is recognised by its target."""
        paths = [self.home, self.home / "briefing.toml", self.models]
        paths += [p for p in (config_file_in_use(), self.embedding_cache, self.qdrant_path) if p is not None]
        return [Path(os.path.realpath(os.path.expanduser(p))) for p in paths]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings(...)`` instead of using this."""
    return Settings()
