# The two commands of the README: `make train` and `make test`. Both create and reuse .venv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install train test test-fast bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch first, pinned: this pair is on the machines' local index; an unpinned torch is a multi-GB download.
# The sweep/slurm/report/nir extras are small and installed here so that their tests run too.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e .[dev,sweep,slurm,report,nir]
	touch $(STAMP)

install: $(STAMP)

train: $(STAMP)
	$(BIN)/snntrain $(ARGS)

# One pytest process per core (pytest-xdist, a test file per process), each on one intra-op thread:
# most tests are many small ops, which a second thread per process only slows on a shared core.
test: $(STAMP)
	$(BIN)/ruff check snntrain tests scripts
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto --dist loadfile --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/pip install -q -e .[bench]
	$(BIN)/python scripts/bench.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check --fix snntrain tests scripts
	$(BIN)/ruff format snntrain tests scripts

clean:
	rm -rf $(VENV) outputs multirun
