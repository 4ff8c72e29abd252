# engramlab: `make demo` runs the full demo, `make test` runs the test suite.
# Both bootstrap .venv from the pinned requirements.lock on first use; re-runs reuse it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.engramlab-installed
OUT    ?= results/demo
SEED   ?= 0

.PHONY: demo test lint bench lock browser clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/engramlab demo --out $(OUT) --seed $(SEED)

# Headless Chromium for the report tests (Debian package); installed once if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian chromium for the report tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    (sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive sudo apt-get install -y -qq chromium >/dev/null); }

test: $(STAMP) browser
	$(BIN)/ruff check engramlab tests benchmarks
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check engramlab tests benchmarks

# Re-resolve the pins from requirements.in (maintainers only).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install -q --upgrade pip
	.lockenv/bin/python -m pip install -q -r requirements.in
	.lockenv/bin/python -m pip freeze --exclude-editable > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf results .pytest_cache
