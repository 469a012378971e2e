# Reloop: two commands do all set-up on a machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
export FLASK_APP := wsgi

.PHONY: run test lint venv migrate seed worker ci bench clean reset

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Python 3.11+ is required (set PYTHON=python3.11)"; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

migrate: venv
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed

# Serves with a local Stripe (localstripe) unless STRIPE_API_BASE is set: see workers/demo.py.
run: seed
	$(BIN)/python -m workers.demo

worker: venv
	$(BIN)/python -m workers

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

ci:
	bash .ci/run

# Drops the embedded database and local files (instance/); keeps .venv. `make run` re-creates
# and re-seeds them. A database set with DATABASE_URL is not touched.
reset:
	rm -rf instance
	@echo "instance/ removed (embedded SQLite database and local files); .venv kept"

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
