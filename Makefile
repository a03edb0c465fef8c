# The two commands of the README:  make book  and  make test.
# Both create .venv from the pinned requirements (anew whenever a requirements file changes).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements.txt requirements-dev.txt constraints.txt pyproject.toml

.PHONY: help book test lint lock clean

help:
	@echo "make book   build the HTML book, every chapter executed (strict)"
	@echo "make test   lint, then the whole test suite (library, doctests, chapters, prose)"
	@echo "make lint   ruff on the library, tests and benchmarks"
	@echo "make lock   re-pin constraints.txt from the current .venv"
	@echo "make clean  remove _build and .venv"

# Recreate the environment from scratch when any requirement changes, so that a
# dependency removed from the files cannot linger in .venv and hide a missing pin.
$(STAMP): $(REQS)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $(STAMP)

# The execution cache is keyed on the library and the pins: when either changes, the
# whole _build (Sphinx environment and jupyter-cache) is discarded and every page re-runs.
CACHE_KEY = $(shell cat $(REQS) $$(find softmax_lib -name '*.py' | sort) | sha256sum | cut -c1-16)

book: $(STAMP)
	@if [ "$$(cat _build/.cache-key 2>/dev/null)" != "$(CACHE_KEY)" ]; then \
	  echo "softmax_lib or the pins changed (or no previous build): building from clean"; \
	  rm -rf _build; fi
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "$(CACHE_KEY)" > _build/.cache-key
	@echo
	@echo "The book is in _build/html. Open _build/html/index.html in a browser, or serve it:"
	@echo "  $(BIN)/python -m http.server --directory _build/html 8000   (then visit http://127.0.0.1:8000)"

test: $(STAMP)
	$(BIN)/ruff check softmax_lib tests bench
	$(BIN)/ruff format --check softmax_lib tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check softmax_lib tests bench
	$(BIN)/ruff format --check softmax_lib tests bench

lock: $(STAMP)
	echo "# Every package of the environment, pinned (make lock); installs use it as a constraint." > constraints.txt
	$(BIN)/python -m pip freeze --exclude-editable | grep -iv '^softmax.lib' \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' >> constraints.txt

clean:
	rm -rf _build $(VENV)
