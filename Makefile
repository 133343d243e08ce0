# Two commands for users: `make figures` and `make test` (README "Quick start").
# Both build the pinned virtual environment in .venv when it is missing or older than
# pyproject.toml / requirements-lock.txt, then do their job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
PROFILE ?= default
SEED ?= 0

.PHONY: figures test lint env bench clean-build lab

$(STAMP): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev]"
	touch $(STAMP)

# The optional `bench` extra (PyTorch, CPU build): the performance notebook (08) compares training
# steps with PyTorch in the same run; `make figures` installs it so the committed figure has both.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev,bench]"
	touch $(BENCH_STAMP)

env: $(STAMP)

figures: $(BENCH_STAMP)
	$(BIN)/mer-ser figures --profile $(PROFILE) --seed $(SEED)

test: $(STAMP)
	$(BIN)/python -m pytest

# JupyterLab on the exploration notebook (the clip scrubber); run `make figures` first.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/07_explore.ipynb

# Speed benchmarks against PyTorch (installs the optional `bench` extra: torch).
bench: $(BENCH_STAMP)
	$(BIN)/mer-ser bench train

lint: $(STAMP)
	$(BIN)/ruff check mer_ser tests notebooks
	$(BIN)/ruff format --check mer_ser tests

clean-build:
	rm -rf build
