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
from pydantic import BaseModel, Field
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

    # Answers.
    engine: Literal["extractive", "llm"] = "extractive"
    abstention: bool = True
    # The answer stages' fitted configuration; default: assistant/answer_config.json (eval/calibrate.py).
    answer_config: Path | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0

    # App.
    host: str = "127.0.0.1"
    port: int = 7860
    users: list[User] = Field(default_factory=list)
    # Example questions the app offers (JSON list in BRIEFING_EXAMPLES, or `examples = [...]` in the TOML).
    examples: list[str] = Field(default_factory=list)
    upload_max_mb: int = 50

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings(...)`` instead of using this."""
    return Settings()
