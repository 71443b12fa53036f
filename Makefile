# Two commands for a new user: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: demo test release sweep lint bench system-deps browser-deps clean

demo: $(STAMP) system-deps
	python -m autograder demo

test: $(STAMP) system-deps browser-deps
	python -m pytest

# Regenerate release/ from source/ (nbgrader generate_assignment).
release: $(STAMP)
	python -m autograder release

# Refresh the committed sweep plot shown in the README.
sweep: $(STAMP)
	python -m solutions.sweep --out solutions/sweep.png

# The kit against stock nbgrader on one generated batch: figures, not a test.
bench: $(STAMP) system-deps
	python -m bench.run

lint: $(STAMP)
	ruff format --check . && ruff check .

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "make: $(PYTHON) is missing or older than 3.11; install Python 3.11 and pip," \
	       "or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# The sandbox needs bubblewrap. Installed
# here when we are root with apt; otherwise we stop and print the one command to run.
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else \
	    echo "make: the grading sandbox needs bubblewrap. Run:" \
	         "sudo apt-get install -y bubblewrap   and then make again."; exit 1; \
	  fi; }

# The browser test drives Debian's Chromium (Playwright's own download cannot work here).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "make: the browser test needs Debian's Chromium. Run:" \
	         "sudo apt-get install -y chromium   and then make again."; exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) build .pytest_cache
