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

.PHONY: pdf pdf-deps help book test unit test-built lint lock clean teacher student assignments browser-deps binder-check binder-env lab cache-guard locales

# $(call apt-install,WHAT,PACKAGES,APT OPTIONS,OTHERWISE): install Debian packages when we can
# (root with apt-get), else run the shell command OTHERWISE.
apt-install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing $(1)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(3) $(2); \
	  else $(4); fi

help:
	@echo "make book   build the HTML book, every chapter executed (strict), then its Chinese"
	@echo "            edition (_build/html/zh_CN; BOOK_ZH=no skips it)"
	@echo "make locales  update the Chinese edition's catalogues (locales/zh_CN) from the English"
	@echo "make test   lint, then the whole test suite (library, doctests, chapters, prose)"
	@echo "make unit   lint, then the tests that need no built book (make test's first half)"
	@echo "make test-built   build the book if needed, then test it (make test's second half)"
	@echo "make lint   ruff on the library, tests and benchmarks"
	@echo "make lock   re-pin constraints.txt from the current .venv"
	@echo "make teacher      the book with solutions (the same as make book)"
	@echo "make student      the book without solutions, in _build/student/_build/html"
	@echo "make assignments  graded nbgrader assignments: _build/assignments(-teacher|-student).zip"
	@echo "make pdf    the whole book as one PDF: _build/latex/book.pdf (XeLaTeX)"
	@echo "make lab    JupyterLab on this checkout; the .md chapters open as notebooks"
	@echo "make binder-check  install binder/ into a clean venv, as Binder does, and run a chapter"
	@echo "make binder-env    only that installation, into _build/binder (binder-check reuses it)"
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

# The execution cache is keyed on the library (code and data) and the pins: when either changes, the
# whole _build (Sphinx environment and jupyter-cache) is discarded and every page re-runs.
CACHE_KEY = $(shell cat $(REQS) $$(find softmax_lib -name '*.py' -o -name '*.txt' | sort) | sha256sum | cut -c1-16)
# The notebooks the build renders for download, Colab, Binder and the assignments depend on
# the renderer, the configuration and the addresses they link to: when one changes, every
# page is written again (--all), from the execution cache.
# The addresses the notebooks link to count too (BOOK_SITE_URL, BOOK_REPOSITORY_URL).
RENDER_KEY = $(shell (cat tools/launch.py tools/notebooks.py tools/graded.py tools/course.py tools/myst.py \
  tools/pages.py tools/assets.py tools/softmax_feedback.py tools/apilinks.py \
  tools/i18n.py tools/templates/language-switch.html \
  _config.yml _toc.yml; echo "$$BOOK_SITE_URL $$BOOK_REPOSITORY_URL") | sha256sum | cut -c1-16)

# A build whose cache key differs from the current one starts from a clean _build.
cache-guard:
	@if [ "$$(cat _build/.cache-key 2>/dev/null)" != "$(CACHE_KEY)" ]; then \
	  echo "softmax_lib or the pins changed (or no previous build): building from clean"; \
	  rm -rf _build; mkdir -p _build; echo "$(CACHE_KEY)" > _build/.cache-key; fi

book: $(STAMP) cache-guard
	@$(BIN)/python -c "from softmax_lib.kernels import warm; print(f'softmax_lib: kernels ready in {warm():.1f} s')"
	@all=""; if [ "$$(cat _build/.render-key 2>/dev/null)" != "$(RENDER_KEY)" ]; then all="--all"; fi; \
	  echo "$(BIN)/jupyter-book build . -W -n --keep-going $$all"; \
	  $(BIN)/jupyter-book build . -W -n --keep-going $$all
	@echo "$(CACHE_KEY)" > _build/.cache-key
	@echo "$(RENDER_KEY)" > _build/.render-key
	@# The Chinese edition, from the same sources and the same execution (it executes nothing:
	@# tools/locales.py checks), into _build/zh_CN and then _build/html/zh_CN.
	@if [ "$(BOOK_ZH)" != no ]; then \
	  echo "$(BIN)/python -m tools.locales build zh_CN"; \
	  $(BIN)/python -m tools.locales build zh_CN; \
	else echo "BOOK_ZH=no: the Chinese edition is not built (its language switches lead nowhere)"; fi
	@echo
	@echo "The book is in _build/html. Open _build/html/index.html in a browser, or serve it:"
	@echo "  $(BIN)/python -m http.server --directory _build/html 8000   (then visit http://127.0.0.1:8000)"
	@echo "The Chinese edition: _build/html/zh_CN/index.html"

# The Chinese edition's catalogues (locales/zh_CN/LC_MESSAGES/<page>.po) updated from the
# English: new messages added, changed ones kept fuzzy, removed ones dropped (tools/locales.py).
locales: $(STAMP)
	$(BIN)/python -m tools.locales

# make test: lint, the unit and chapter tests, then the build of the site (cached: nothing
# is executed again if make book ran) and the tests of what it built: every chapter executed
# without error (read from the build's execution cache: chapters run once, in the build),
# the browser suite, the rendered notebooks, and nbgrader grading real submissions.
# nbgrader grading executes whole chapters, one core's work for minutes: it runs beside the
# browser suite (its log is printed when both are done), and the page-weight test, which
# times a throttled page load, runs after both, on a quiet machine.
SIDE_BY_SIDE = tests/book/test_grading.py
AFTER = tests/book/test_weight.py
# The grading's notebooks keep to one core (BLAS, OpenMP and softmax_lib's threads), so that
# the two runs do not fight over both: BLAS threads that spin on a busy core slow to a crawl.
ONE_CORE = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 SOFTMAX_LIB_THREADS=1
# make test is `make unit` (lint, the library's tests and the chapters' sources: nothing
# that needs the built book) followed by `make test-built`; CI runs `make unit` beside
# `make book`, then `make test-built`.
test: unit test-built

unit: $(STAMP) lint
	$(BIN)/python -m pytest -m "not browser and not binder and not built and not pdf"

# (.ci/run, which has just built the book, runs `make -o book test-built`: no second look at
# the build, whose no-op check of both editions takes half a minute.)
test-built: $(STAMP) browser-deps book
	@echo "$(ONE_CORE) $(BIN)/python -m pytest $(SIDE_BY_SIDE) (beside the next command; log in _build/grading.log)"
	@$(ONE_CORE) $(BIN)/python -m pytest $(SIDE_BY_SIDE) > _build/grading.log 2>&1 & side=$$!; status=0; \
	  echo '$(BIN)/python -m pytest -m "(browser or built) and not binder and not pdf" tests softmax_lib --ignore=$(SIDE_BY_SIDE) --ignore=$(AFTER)'; \
	  $(BIN)/python -m pytest -m "(browser or built) and not binder and not pdf" tests softmax_lib \
	    --ignore=$(SIDE_BY_SIDE) --ignore=$(AFTER) || status=$$?; \
	  wait $$side || status=$$?; echo "----- $(SIDE_BY_SIDE) -----"; cat _build/grading.log; \
	  echo "$(BIN)/python -m pytest $(AFTER)"; $(BIN)/python -m pytest $(AFTER) || status=$$?; \
	  exit $$status

# The browser suite drives Debian's Chromium. Install it where we can (root with apt-get);
# otherwise say loudly that the browser tests will be skipped (CI fails instead of skipping).
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  $(call apt-install,Debian's chromium for the browser tests,chromium,,\
	    echo "!!! Chromium is missing and cannot be installed here: BROWSER TESTS WILL BE SKIPPED !!!"); \
	fi

# The book as a PDF, through LaTeX (XeLaTeX from Debian's TeX Live). Chapters are not
# executed again: the latex builder reads the same execution cache as make book.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
  texlive-fonts-recommended texlive-plain-generic fonts-freefont-otf latexmk

pdf: $(STAMP) pdf-deps cache-guard
	$(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	@test -s _build/latex/book.pdf
	@if grep -q "Missing character" _build/latex/book.log; then \
	  grep "Missing character" _build/latex/book.log | sort -u; \
	  echo "make pdf: the fonts lack the characters above"; exit 1; fi
	$(BIN)/python -m pytest -q -m pdf tests/book/test_pdf.py
	@echo "The book as a PDF: _build/latex/book.pdf"

pdf-deps:
	@if ! command -v xelatex >/dev/null || ! command -v latexmk >/dev/null; then \
	  $(call apt-install,XeLaTeX and latexmk from Debian's TeX Live for make pdf,\
	    $(TEX_PACKAGES),--no-install-recommends,\
	    echo "make pdf needs XeLaTeX and latexmk: apt-get install $(TEX_PACKAGES)"; exit 1); \
	fi

# JupyterLab with the book's environment, on the chapters as the book shows them (the
# notebooks make book renders, in _build/notebooks/public). The .md sources open as notebooks
# too (jupytext; set in this .venv only, not your user settings), for editing.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
lab: book
	mkdir -p $(dir $(LAB_SETTINGS))
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)
	$(BIN)/jupyter lab _build/notebooks/public/chapters/01-softmax.ipynb

# Binder, the way repo2docker reads binder/: a clean venv from binder/requirements.txt,
# postBuild, then one chapter executed there (a few minutes: it installs the whole stack).
binder-check: $(STAMP)
	$(BIN)/python -m pytest -m binder tests/book/test_binder.py

# The installation alone, into _build/binder (it needs the sources, not the book): .ci/run
# makes it first, beside .venv, and make binder-check uses it while the sources match it.
binder-env:
	$(PYTHON) -m tools.binder install _build/binder

lint: $(STAMP)
	$(BIN)/ruff check softmax_lib tests bench tools
	$(BIN)/ruff format --check softmax_lib tests bench tools

# Two editions from one source. The student edition is built from a copy of the sources
# with every solution removed (tools/course.py), then scanned for solution text.
teacher: book
	@echo "Teacher edition (solutions shown): _build/html"

# Its pages are not executed again: their outputs are the teacher build's (make book), put
# in the student build's execution cache first; check-seeded fails if it executed anything.
student: book
	rm -rf _build/student _build/student-src
	$(BIN)/python tools/course.py student-src _build/student-src \
	  _build/.jupyter_cache _build/student/_build/.jupyter_cache
	$(BIN)/jupyter-book build _build/student-src --path-output _build/student -W -n --keep-going
	$(BIN)/python tools/course.py check-seeded _build/student/_build/.jupyter_cache
	$(BIN)/python tools/course.py check-leaks _build/student/_build/html _build/student-src
	@echo "Student edition (no solutions): _build/student/_build/html"

# The graded assignments: an nbgrader course made from the notebooks make book renders, and
# the students' bundle (its release). The leak check reads everything students receive.
assignments: book
	$(BIN)/python tools/course.py assignments _build/assignments
	$(BIN)/python tools/course.py check-leaks _build/assignments/release _build/assignments-student
	@echo "Teacher: the nbgrader course in _build/assignments (zip: _build/assignments-teacher.zip);"
	@echo "read its README.md. Students: _build/assignments-student.zip."

lock: $(STAMP)
	echo "# Every package of the environment, pinned (make lock); installs use it as a constraint." > constraints.txt
	$(BIN)/python -m pip freeze --exclude-editable | grep -iv '^softmax.lib' \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' >> constraints.txt

clean:
	rm -rf _build $(VENV)

# make print-VARIABLE prints a variable (the tests read CACHE_KEY and TEX_PACKAGES this way).
print-%:
	@echo $($*)
