# Two commands: `make demo` and `make test`. Each builds .venv when missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev

.PHONY: demo test bench clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

demo: $(VENV)/.installed-dev
	$(VENV)/bin/mapfold demo

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

bench: $(VENV)/.installed-dev
	$(PY) -m pip install -q -e ".[dev,bench]"
	$(PY) benchmarks/wordcount.py --size-mb 256

clean:
	rm -rf $(VENV) build *.egg-info
