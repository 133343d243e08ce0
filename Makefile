# The commands of the README's "Quick start": `make figures`, `make test`, `make test-fast`.
# Each builds the pinned virtual environment in .venv when it is missing or older than
# pyproject.toml / requirements-lock.txt, then does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
SSL_STAMP := $(VENV)/.installed-ssl
EXTRAS_LOCK := -c requirements-lock.txt -c requirements-extras-lock.txt
PROFILE ?= default
SEED ?= 0

.PHONY: figures figures-torch test test-fast lint env env-ssl bench gpu-check clean-build lab

$(STAMP): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev]"
	touch $(STAMP)

# The optional `bench` extra (PyTorch): notebook 09 and `mer-ser bench train` compare training
# steps with it. PyPI's Linux wheel of torch is a CUDA build; for the CPU-only build, add its
# index: make figures-torch TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
$(BENCH_STAMP): $(STAMP) requirements-extras-lock.txt
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) $(EXTRAS_LOCK) -e ".[dev,bench]"
	touch $(BENCH_STAMP)

# The optional `ssl` extra (transformers + PyTorch): self-supervised embeddings as features
# (docs/experiments.md). Without it the suite skips the tests of mer_ser.features.ssl; CI installs it.
$(SSL_STAMP): $(STAMP) requirements-extras-lock.txt
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) $(EXTRAS_LOCK) -e ".[dev,ssl]"
	touch $(SSL_STAMP)

env: $(STAMP)

env-ssl: $(SSL_STAMP)

figures: $(STAMP)
	$(BIN)/mer-ser figures --profile $(PROFILE) --seed $(SEED)

# The same with PyTorch installed, so notebook 09 times the same models in PyTorch beside mer_ser.
figures-torch: $(BENCH_STAMP)
	$(BIN)/mer-ser figures --profile $(PROFILE) --seed $(SEED)

# The whole suite, notebooks included: what CI runs.
test: $(STAMP)
	$(BIN)/python -m pytest

# Everything but the tests marked slow (notebook runs, corpus builds, whole protocols).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# JupyterLab on the exploration notebook (the clip scrubber); run `make figures` first.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/08_explore.ipynb

# Speed benchmarks against PyTorch (installs the optional `bench` extra: torch).
bench: $(BENCH_STAMP)
	$(BIN)/mer-ser bench train

# The prepared GPU check (docs/performance.md): on a machine with a GPU and jax[cuda] installed,
# writes benchmarks/gpu_<device>.json, which notebook 09 reads. About 5 minutes on one H100/H200.
gpu-check: $(BENCH_STAMP)
	$(BIN)/mer-ser bench gpu

lint: $(STAMP)
	$(BIN)/ruff check mer_ser tests notebooks
	$(BIN)/ruff format --check mer_ser tests
	$(BIN)/lint-imports

clean-build:
	rm -rf build
