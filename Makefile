# exohub: `make demo` runs the platform locally, `make test` runs every check. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint types pytest test-db browser-deps bench-api bench-signals bench-clinic serve clean model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[ml,federated]" --group dev
	touch $(STAMP)

# Debian's Chromium for the browser tests (never a browser download by Playwright).
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium; \
	fi

demo: $(STAMP)
	$(BIN)/exohub demo

serve: $(STAMP)
	$(BIN)/exohub serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser-deps
	EXOHUB_REQUIRE_BROWSER=1 $(BIN)/pytest

test: lint types pytest

# The database tests alone; .ci/run calls this with EXOHUB_TEST_DATABASE_URL pointing at PostgreSQL.
test-db: $(STAMP)
	$(BIN)/pytest -m db

# Load benchmark on PostgreSQL: uvicorn in one process, wrk (Debian) generating load from another, on loopback.
bench-api: $(STAMP)
	@command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/bench_api.py

# Signals benchmark: the 1-hour session end to end on one core, beside gaitmap and neurokit2. Those two want older
# pandas/numpy than exohub, so they live in their own environment and run in their own process.
REFERENCE := .venv-reference
$(REFERENCE)/.installed:
	$(PYTHON) -m venv $(REFERENCE)
	$(REFERENCE)/bin/pip install --quiet gaitmap==2.6.0 gaitmap_mad==2.6.0 neurokit2==0.2.13
	touch $@

bench-signals: $(STAMP) $(REFERENCE)/.installed
	$(BIN)/python benchmarks/bench_signals.py --reference-python $(REFERENCE)/bin/python

# Clinic upload benchmark: the 1-hour session as Parquet, CSV and EDF, each uploaded through PUT
# /api/v1/clinic/sessions/{id}/recording of `exohub serve` on SQLite (read, analysed, stored); the goal is 10 s.
bench-clinic: $(STAMP)
	$(BIN)/python benchmarks/bench_clinic.py

clean:
	rm -rf $(VENV) $(REFERENCE) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The default gait-phase/locomotion-mode model, trained on all six hip-exo subjects (CPU, 2 threads), then timed per
# tick in onnxruntime; `benchmarks/train_default_model.py --held-out all` scores it leave-one-subject-out.
model: $(STAMP)
	$(BIN)/python benchmarks/train_default_model.py --data ../shared/data/hipexo_gait_phase \
		--out exohub-data/models/gait_phase.onnx
