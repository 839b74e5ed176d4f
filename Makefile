# Two commands on a fresh machine with python3 (3.11+) and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser demo lint test bench bench-scale bench-daemon bench-echoes bench-browser bench-fleet clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	test -x $(VENV)/pywb/bin/python || $(PYTHON) -m venv $(VENV)/pywb
	$(VENV)/pywb/bin/python -m pip install --quiet 'pywb>=2.8'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tgwatch demo

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

# The report's (and browser mode's) tests drive the operating system's Chromium: installed from
# Debian's packages when it is missing and we are root (as on CI); otherwise those tests say why.
browser:
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: lint browser
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.crawl
	$(BIN)/python -m bench.diff

# A whole generated site of 20,000 articles (about half an hour on two cores; ARTICLES=2000 for a quick one).
ARTICLES ?= 20000
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale --articles $(ARTICLES)

bench-echoes: $(STAMP)
	$(BIN)/python -m bench.echoes

bench-fleet: $(STAMP)
	$(BIN)/python -m bench.fleet

bench-daemon: $(STAMP)
	$(BIN)/python -m bench.daemon

bench-browser: $(STAMP) browser
	$(BIN)/python -m bench.browser

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
