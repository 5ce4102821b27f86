"""Named configurations the eval compares side by side. Each is a set of overrides on the settings;
the first is the product default, and the report checks that it is the best on the dev split.
``DEFAULT_CONFIGS`` run in ``make eval``; the others (a second index with other chunks costs a full
ingest) are available by name."""

from __future__ import annotations

from typing import Any

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "dense": {"retrieval_mode": "dense"},
    "bm25": {"retrieval_mode": "bm25"},
    "small-chunks": {"chunk_tokens": 160, "chunk_overlap": 20},
    "no-abstention": {"abstention": False},
}

DEFAULT_CONFIGS = ["default", "dense", "bm25", "no-abstention"]

# The settings that change what is stored: configurations that share them share one throw-away store.
INDEX_KEYS = ("chunk_tokens", "chunk_overlap", "embedding_model", "embedding_dim", "chunk_vectors")
