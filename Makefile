# latentplay: the two commands a new user runs are `make quickstart` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,faces,app,track,onnx
PYTEST_WORKERS ?= 2
# where pip finds torch: empty takes pip's own settings (a local CPU wheel where one is set up);
# elsewhere `make quickstart TORCH_INDEX=https://download.pytorch.org/whl/cpu` takes the CPU build
# instead of PyPI's default CUDA one (several GB)
TORCH_INDEX ?=

.PHONY: install quickstart test test-all bench gpu-wheels lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

install: $(STAMP)

quickstart: $(STAMP)
	$(VENV)/bin/latentplay quickstart

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" -n $(PYTEST_WORKERS)

test-all: $(STAMP)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

bench: $(STAMP)
	$(PY) bench/run.py $(B)

gpu-wheels: $(STAMP)
	bash bench/gpu/wheels.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache runs/quickstart
