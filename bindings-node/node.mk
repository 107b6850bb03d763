# The Node package (bindings-node/): included by the root Makefile, which defines ROOT,
# CARGO_TARGET_DIR (exported) and CARGO.
#
#   make test-node   npm ci (builds the native module, debug), the node --test suite, tsc
#   make demo-node   examples/quickstart.js against a local partly-mock

NODE_DIR := $(ROOT)/bindings-node

.PHONY: test-node demo-node build-node

## build-node: install the package's dependencies from the lockfile; its install script
## builds the native module partly.node with @napi-rs/cli (debug: quick to compile).
build-node:
	cd $(NODE_DIR) && PARTLY_NODE_PROFILE=debug npm ci --no-audit --no-fund

## test-node: the Node suite (node --test), then the TypeScript example under tsc --strict
test-node: build-node
	cd $(NODE_DIR) && node --test test/*.test.js test/*.test.mjs
	cd $(NODE_DIR) && ./node_modules/.bin/tsc -p tsconfig.json --strict --noEmit
	@echo "tsc --strict --noEmit: the TypeScript example and declarations type-check"

## demo-node: the Node quickstart against a partly-mock started by scripts/with-mock.sh
demo-node: build-node build-mock
	bash scripts/with-mock.sh $(CARGO_TARGET_DIR)/debug/partly-mock -- node $(NODE_DIR)/examples/quickstart.js
