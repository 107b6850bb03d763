# The Python package (bindings-python/): included by the root Makefile, which defines ROOT,
# CARGO_TARGET_DIR (exported) and CARGO.
#
#   make test-python   virtualenv at $(ROOT)/.venv (created if absent), tools from PyPI
#                      (and redis-server from apt-get when absent, for the Celery test),
#                      a debug build of the package installed in it (maturin develop), then
#                      pytest (with the browser test of the OAuth install: make browser-deps),
#                      mypy.stubtest of the native module, and mypy --strict of the
#                      examples and the package
#   make demo-python   examples/quickstart.py against a local partly-mock (scripts/with-mock.sh)

PY_DIR := $(ROOT)/bindings-python
PY_VENV := $(ROOT)/.venv
PY := $(PY_VENV)/bin/python
PY_TOOLS_STAMP := $(PY_VENV)/.partly-dev-tools

.PHONY: test-python demo-python python-develop redis-server

## redis-server: the broker of the Celery test (tests/test_process.py starts its own on a free
## loopback port); installed from Debian's packages when the machine lacks it
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (apt-get) for the Celery test"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

$(PY_TOOLS_STAMP): $(PY_DIR)/requirements-dev.txt
	test -x $(PY) || python3 -m venv $(PY_VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt
	touch $@

## python-develop: build the native module (debug) and install the package, editable, in the venv
python-develop: $(PY_TOOLS_STAMP)
	cd $(PY_DIR) && VIRTUAL_ENV=$(PY_VENV) $(PY_VENV)/bin/maturin develop --quiet

## test-python: the Python suite, the stub check and the type check of the examples
test-python: python-develop browser-deps redis-server
	cd $(PY_DIR) && $(PY) -m pytest -q -rs tests
	cd $(PY_DIR)/tests && $(PY) -m mypy.stubtest partly._native
	cd $(PY_DIR) && $(PY) -m mypy --strict examples python/partly tests

## demo-python: the Python quickstart against a local partly-mock
demo-python: build-mock python-develop
	bash $(ROOT)/scripts/with-mock.sh $(CARGO_TARGET_DIR)/debug/partly-mock -- $(PY) $(PY_DIR)/examples/quickstart.py
