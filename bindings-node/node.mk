# The Node package (bindings-node/): included by the root Makefile, which defines ROOT,
# CARGO_TARGET_DIR (exported) and CARGO.
#
#   make test-node   npm ci (dev tools only), a debug build of the native module (napi build),
#                    the node --test suite (with the browser test of the OAuth install: make
#                    browser-deps), tsc
#   make demo-node   examples/quickstart.js against a local partly-mock

NODE_DIR := $(ROOT)/bindings-node

.PHONY: test-node demo-node build-node

NODE_TOOLS_STAMP := $(NODE_DIR)/node_modules/.partly-dev-tools

$(NODE_TOOLS_STAMP): $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

## build-node: the dev tools from the lockfile (@napi-rs/cli, TypeScript), then the native module
## of this platform, partly.<platform>.node, built with napi (debug: quick to compile), which
## native.js loads in a checkout. The package has no install script: users get prebuilt modules.
build-node: $(NODE_TOOLS_STAMP)
	cd $(NODE_DIR) && ./node_modules/.bin/napi build --platform --no-js --output-dir . --dts native.d.ts

## test-node: the Node suite (node --test), then the TypeScript example under tsc --strict
test-node: build-node browser-deps
	cd $(NODE_DIR) && node --test test/*.test.js test/*.test.mjs
	cd $(NODE_DIR) && ./node_modules/.bin/tsc -p tsconfig.json --strict --noEmit
	cd $(NODE_DIR) && ./node_modules/.bin/tsc -p tsconfig.facade.json
	@echo "tsc (checkJs): index.js, errors.js and testing.js call the native module as napi's native.d.ts declares it"
	@echo "tsc --strict --noEmit: the TypeScript example and declarations type-check"

## demo-node: the Node quickstart against a partly-mock started by scripts/with-mock.sh
demo-node: build-node build-mock
	bash scripts/with-mock.sh $(CARGO_TARGET_DIR)/debug/partly-mock -- node $(NODE_DIR)/examples/quickstart.js
