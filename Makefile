# Two commands: `make demo` and `make test`. Each builds .venv when missing
# and installs only what it needs: the demo the core package (a few small
# wheels), the tests the `dev` extra (engines, pytest, moto: about 1.5 GB).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: demo test bench clean lock

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# One stamp per install: .installed-core (no extra), .installed-dev, ...
# constraints.txt pins every package to the set the suite last passed with, so a
# release on the index cannot send pip's resolver backtracking for minutes.
$(VENV)/.installed-%: pyproject.toml constraints.txt | $(VENV)/bin/python
	@echo "installing mapfold$(if $(filter core,$*),,[$*]) into $(VENV) (once) ..."
	@$(PIP) -c constraints.txt -e ".$(if $(filter core,$*),,[$*])"
	@touch $@

demo: $(VENV)/.installed-core
	@$(VENV)/bin/mapfold demo

test: $(VENV)/.installed-dev
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/wordcount.py --size-mb 256

# After changing pyproject.toml's dependencies: `make lock` resolves them afresh in a
# scratch venv and rewrites the pins; then `make clean test` before committing.
lock:
	@rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	@.venv-lock/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	@{ sed -n '1,4p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^mapfold'; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt && rm -rf .venv-lock

clean:
	rm -rf $(VENV) build src/*.egg-info
