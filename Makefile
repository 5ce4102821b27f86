# The README's two commands: `make run` and `make test`. Both set up what they need and are idempotent.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DEMO := corpus/documents
SHARED ?= ../shared

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup models run ingest-demo test eval calibrate lint bench bench-large loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	# torch first and pinned: a CPU build lies on local disk; anything unpinned would pull CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BIN)/briefing models install

ingest-demo: models
	$(BIN)/briefing corpus inspect $(DEMO)
	$(BIN)/briefing ingest $(DEMO)

# The demo's example questions (any deployment sets its own: `examples = [...]` in briefing.toml).
EXAMPLES := ["Waarom is er geen Planbureau voor de Veiligheid opgericht?", "Hoe zat het ook alweer met het onderzoek van ABD Topconsult?", "Wat vroeg Kamerlid Heerma tijdens de Algemene Politieke Beschouwingen?"]

run: ingest-demo
	BRIEFING_EXAMPLES='$(EXAMPLES)' $(BIN)/briefing serve

test: models
	$(BIN)/pytest $(PYTEST_ARGS)

eval: models
	$(BIN)/briefing eval --qa eval/qa --corpus $(SHARED)/corpus --json build/eval/results.json --report build/eval

# Refit the answer stages on the dev split (writes assistant/answer_config.json; see docs/evaluation.md).
calibrate: models
	$(BIN)/python -m eval.calibrate --corpus $(SHARED)/corpus

# Issue 12's benchmarks in sequence (≤ 30 minutes), then docs/performance.md rewritten from build/bench/*.json.
bench: models
	$(BIN)/pip install --quiet -e '.[dev,bench]'  # the levers bench's OpenVINO/NNCF/ONNX Runtime
	$(BIN)/python bench/run_all.py --corpus $(SHARED)/corpus

# The scale bench with 1M points (hours; not part of `make bench`), then docs/performance.md rewritten.
bench-large: models
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py --large --corpus $(SHARED)/corpus

# 20 simulated users asking through the running app for 60 s while an ingest runs through it (issue 11).
loadtest: models
	$(BIN)/python bench/loadtest.py --users 20 --seconds 60 --corpus $(SHARED)/corpus --json build/bench/loadtest.json

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf build .pytest_cache
