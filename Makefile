PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test conformance install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m kerosene.cli demo

test: $(STAMP)
	KERAS_BACKEND=torch $(PY) -m pytest tests -q -p no:cacheprovider

# Keras 2.2.4's own tests of the training API, run against kerosene (conformance/run.py).
conformance: $(STAMP)
	KERAS_BACKEND=torch $(PY) conformance/run.py

clean:
	rm -rf $(VENV)
