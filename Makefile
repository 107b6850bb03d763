# The only entry points: `make demo`, `make test`, `make bench` (README.md documents them).
# Everything a clean clone needs is installed from the package registries by these targets.

SHELL := /bin/bash
ROOT := $(CURDIR)
export CARGO_TARGET_DIR ?= $(ROOT)/target
CARGO ?= cargo

.PHONY: all test lint-rust demo bench soak reliability test-rust demo-rust build-mock

all: test

## test: the lint gates, then every suite (Rust, Python, Node)
test: lint-rust test-rust test-python test-node

## lint-rust: rustfmt and clippy (warnings are errors) over the workspace and the fuzz crate
lint-rust:
	$(CARGO) fmt --all --check
	cd fuzz && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

## test-rust: the core and the mock server, with doctests
test-rust:
	$(CARGO) test -p partly -p partly-mock

build-mock:
	$(CARGO) build -p partly-mock --bin partly-mock

## demo: the whole integrator flow against a local partly-mock, in Rust, Python and Node
demo: demo-rust demo-python demo-node

demo-rust: build-mock
	$(CARGO) build -p partly --example integrator_flow
	bash scripts/with-mock.sh $(CARGO_TARGET_DIR)/debug/partly-mock -- $(CARGO_TARGET_DIR)/debug/examples/integrator_flow

## bench: side-by-side benchmarks against requests, httpx, aiohttp, fetch, undici and bare
## reqwest (tests/bench/run.py; release builds; about 10 minutes). Never part of `make test`.
bench:
	python3 tests/bench/run.py

## soak: 200,000 calls per language with 1% injected faults and 10,000 in flight
soak:
	python3 tests/bench/soak.py

## reliability: the fault matrix in every language, as the table of docs/reliability.md
reliability: test-python build-node
	python3 tests/bench/reliability_table.py

include bindings-python/python.mk
include bindings-node/node.mk
