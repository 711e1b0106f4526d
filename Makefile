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

# The failure zoo: seeded scenarios from data/, scored through the tripwire CLI (~15 min, 2 cores).
ZOO ?= zoo-scenarios
bench-zoo: $(VENV)/.dev
	$(PY) -m benchmarks.zoo.generate --out $(ZOO) --seed 0
	$(PY) -m benchmarks.zoo.score --scenarios $(ZOO) --jobs 2 --out benchmarks/results/zoo-tripwire.json

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
