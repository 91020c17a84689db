# The two quickstart commands, `make train` and `make test`, each set up a virtualenv in .venv
# (first run only) and then do their job. Needs Python >= 3.11 with venv.

PYTHON ?= python3
VENV ?= .venv
CONFIG ?= configs/article.yaml
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: train test lint format results clean

train: $(STAMP)  ## set up, then train the article's model on the shipped data
	$(BIN)/lstm-train --config $(CONFIG)

test: $(STAMP)  ## set up, then run the whole test suite (slow tests included)
	$(BIN)/python -m pytest

results: $(STAMP)  ## train every shipped config; write the results table into README.md
	$(BIN)/python bench/results_table.py --update-readme

lint: $(STAMP)  ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else "lstm-app needs Python 3.11 to 3.13 (TensorFlow has no wheels for %d.%d); run make PYTHON=python3.12 ..." % v)'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "Python's venv module is missing; on Debian/Ubuntu: apt install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,export,tracking,postgres]'
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
