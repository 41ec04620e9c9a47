# Each target creates .venv on first use and installs the project into it.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench lint templates clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xlplan demo

lint: $(STAMP)
	$(VENV)/bin/ruff check xlplan udfs tests benchmarks
	$(VENV)/bin/ruff format --check xlplan udfs tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(PY) -m benchmarks

templates: $(STAMP)
	$(VENV)/bin/xlplan templates build

clean:
	rm -rf $(VENV) out build *.egg-info
