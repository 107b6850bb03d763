# The only entry points: `make demo`, `make test`, `make bench`, `make dist`, `make dist-check`
# (README.md documents them).
# Everything a clean clone needs is installed from the package registries by these targets.

SHELL := /bin/bash
ROOT := $(CURDIR)
export CARGO_TARGET_DIR ?= $(ROOT)/target
CARGO ?= cargo


.PHONY: test-readmes
.PHONY: all test lint fmt lint-rust lint-python lint-js test-packaging dist dist-check demo bench soak reliability test-rust demo-rust build-mock browser-deps screenshots

all: test

## test: the lint gates, then every suite (Rust, Python, Node)
test: lint test-rust test-python test-node test-readmes test-packaging

## lint: every linter and formatter check (make fmt rewrites what the formatters would change)
lint: lint-rust lint-python lint-js

## lint-rust: rustfmt and clippy (warnings are errors) over the workspace and the fuzz crate
lint-rust:
	$(CARGO) fmt --all --check
	cd fuzz && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

## test-rust: the core, the wire names, the mock server and the command line (cli/), with doctests
test-rust:
	$(CARGO) test -p partly -p partly-wire -p partly-mock -p partly-cli

build-mock:
	$(CARGO) build -p partly-mock --bin partly-mock

## browser-deps: Debian's chromium and chromium-driver for the browser tests of the OAuth install
## (installed with apt-get where missing and usable; CI fails without them)
browser-deps:
	bash scripts/ensure-chromium.sh

## screenshots: reruns the browser tests, writing the README's pictures to docs/images/
screenshots: python-develop build-node browser-deps
	cd $(PY_DIR) && PARTLY_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q -rs tests/test_install_browser.py
	cd $(NODE_DIR) && PARTLY_UPDATE_SCREENSHOTS=1 node --test test/install.browser.test.js

## demo: the whole integrator flow against a local partly-mock, in Rust, Python and Node
demo: demo-rust demo-python demo-node

demo-rust: build-mock
	$(CARGO) build -p partly --example integrator_flow
	bash scripts/with-mock.sh $(CARGO_TARGET_DIR)/debug/partly-mock -- $(CARGO_TARGET_DIR)/debug/examples/integrator_flow

## bench: side-by-side benchmarks against requests, httpx, aiohttp, fetch, undici and bare
## reqwest (tests/bench/run.py; release builds; about 10 minutes). Never part of `make test`.
bench:
	python3 tests/bench/run.py
	python3 tests/bench/preload.py --skip-build

## soak: 200,000 calls per language with 1% injected faults and 10,000 in flight
soak:
	python3 tests/bench/soak.py

## reliability: the fault matrix in every language, as the table of docs/reliability.md
reliability: test-python build-node
	python3 tests/bench/reliability_table.py

include bindings-python/python.mk
include bindings-node/node.mk

## test-readmes: every fenced code block of every README and CONTRIBUTING.md, as pasted
## (scripts/readme_blocks.py): Python, JavaScript and TypeScript blocks run against a local
## partly-mock, Rust blocks are the crates' doctests, shell blocks name real make targets and paths
test-readmes: python-develop build-node
	$(PY) scripts/readme_blocks.py

## test-packaging: scripts/dist.py, the release workflow, the npm platform manifests and the
## sdist's build backend agree (tests/packaging); the artefacts themselves: make dist-check
test-packaging: $(PY_TOOLS_STAMP)
	$(PY) -m pytest -q tests/packaging

## dist: what the SDK ships, into dist/ (scripts/dist.py all): the Python abi3 wheel (manylinux2014,
## stripped) and sdist, the npm main package and this platform's npm package (glibc 2.17,
## stripped), the .crate files of partly and partly-mock; then their sizes. Release builds.
DIST_TOOLS_STAMP := $(PY_VENV)/.partly-dist-tools

$(DIST_TOOLS_STAMP): scripts/requirements-dist.txt $(PY_TOOLS_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r scripts/requirements-dist.txt
	touch $@

dist: $(DIST_TOOLS_STAMP)
	PATH="$(PY_VENV)/bin:$$PATH" $(PY) scripts/dist.py all

## dist-check: installs every artefact of dist/ where no Rust is on PATH and runs the smoke
## scripts: the wheel on CPython 3.9 and 3.13 (pip --no-index), the sdist (refused without Rust,
## built with it), the npm packages with npm and pnpm on Node 18 and 20 from a local registry,
## the crates' own tests from the packaged .crate files, and a checkout's bindings as
## contributors install them (pip install ./bindings-python, npm install of bindings-node).
dist-check: dist build-node
	PATH="$(PY_VENV)/bin:$$PATH" $(PY) scripts/dist.py check

## lint-python: ruff (lint and format check, ruff.toml) over every Python file
lint-python: $(PY_TOOLS_STAMP)
	$(PY_VENV)/bin/ruff check .
	$(PY_VENV)/bin/ruff format --check .

## lint-js: ESLint and prettier over every JavaScript/TypeScript file (bindings-node's dev tools)
JS_FILES := "bindings-node/**/*.{js,mjs,cjs,ts,mts,json}" "tests/bench/node/**/*.{js,mjs,json}" "scripts/**/*.{js,mjs}"
lint-js: $(NODE_TOOLS_STAMP)
	$(NODE_DIR)/node_modules/.bin/eslint --config bindings-node/eslint.config.mjs bindings-node tests/bench/node scripts
	$(NODE_DIR)/node_modules/.bin/prettier --check $(JS_FILES)

## fmt: rewrite every file the way the lint gates want it (rustfmt, ruff, prettier)
fmt: $(PY_TOOLS_STAMP) $(NODE_TOOLS_STAMP)
	$(CARGO) fmt --all
	cd fuzz && $(CARGO) fmt
	$(PY_VENV)/bin/ruff check --fix .
	$(PY_VENV)/bin/ruff format .
	$(NODE_DIR)/node_modules/.bin/prettier --write --log-level warn $(JS_FILES)
