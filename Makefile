# The two commands of the README: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test lint bench bench-zoo bench-peers clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[all]'
	touch $@

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(VENV)/.core $@

demo: $(VENV)/.core
	$(VENV)/bin/tripwire demo --out demo-output

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(VENV)/.dev
	$(PY) -m benchmarks.run

# The failure zoo: seeded scenarios from data/, scored through the tripwire CLI (8 min on 2 cores
# at load 1-3, 21 min under load 6-7).
ZOO ?= zoo-scenarios
bench-zoo: $(VENV)/.dev
	$(PY) -m benchmarks.zoo.generate --out $(ZOO) --seed 0
	$(PY) -m benchmarks.zoo.score --scenarios $(ZOO) --jobs 2 --out benchmarks/results/zoo-tripwire.json

# Peer tools on the same zoo, side by side in one run (15-24 min on 2 cores at load 1-5; about
# 50 min under load 6-10): cleanlab, Evidently, alibi-detect, NannyML and whylogs in
# .venv-peers, deepchecks in .venv-dc (its pins clash with the others). They run by subprocess
# in their own environments; tripwire never imports them. tripwire is scored first, on every
# scenario (all modes), so the one run also gives the full zoo table: it is written to
# benchmarks/results/zoo-tripwire.json and the zoo-tripwire block of benchmarks/RESULTS.md as
# soon as tripwire is done, and the side-by-side tables replace the zoo-peers block at the end.
PEERS_VENV ?= .venv-peers
DC_VENV ?= .venv-dc

$(PEERS_VENV)/.peers: benchmarks/requirements-peers.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install -q --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install -q -r benchmarks/requirements-peers.txt
	touch $@

$(DC_VENV)/.peers: benchmarks/requirements-deepchecks.txt
	$(PYTHON) -m venv $(DC_VENV)
	$(DC_VENV)/bin/python -m pip install -q --upgrade pip
	$(DC_VENV)/bin/python -m pip install -q -r benchmarks/requirements-deepchecks.txt
	touch $@

bench-peers: $(VENV)/.dev $(PEERS_VENV)/.peers $(DC_VENV)/.peers
	$(PY) -m benchmarks.zoo.generate --out $(ZOO) --seed 0
	ZOO_PEERS_PYTHON=$(PEERS_VENV)/bin/python ZOO_DC_PYTHON=$(DC_VENV)/bin/python \
	  $(PY) -m benchmarks.zoo.compare --scenarios $(ZOO) --jobs 2 \
	  --tripwire-out benchmarks/results/zoo-tripwire.json \
	  --out benchmarks/results/zoo-peers.json --results-md benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
