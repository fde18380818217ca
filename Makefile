# Two commands: `make demo` and `make test`. Each builds .venv when missing
# and installs only what it needs: the demo the core package (a few small
# wheels), the tests the `dev` extra (engines, pytest, moto: about 1.5 GB).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: demo test bench clean

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# One stamp per install: .installed-core (no extra), .installed-dev, ...
$(VENV)/.installed-%: pyproject.toml | $(VENV)/bin/python
	@echo "installing mapfold$(if $(filter core,$*),,[$*]) into $(VENV) (once) ..."
	@$(PIP) -e ".$(if $(filter core,$*),,[$*])"
	@touch $@

demo: $(VENV)/.installed-core
	@$(VENV)/bin/mapfold demo

test: $(VENV)/.installed-dev
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/wordcount.py --size-mb 256

clean:
	rm -rf $(VENV) build src/*.egg-info
