# WAIT — top-level tasks. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= ./wait-data
BIND ?= 127.0.0.1:8080
# The store's conformance tests also run against PostgreSQL when this is set.
WAIT_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export WAIT_TEST_DATABASE_URL

.PHONY: all bootstrap build web web-test test-browser test lint fmt demo demo-once clean

all: build

bootstrap:
	@scripts/bootstrap

# The web UI (web/, React + Vite) builds to web/dist, which the server embeds.
# npm ci runs only when the lock file changed since the last install.
web/node_modules/.wait-installed: web/package.json web/package-lock.json
	@scripts/check-node
	cd web && npm ci --no-audit --no-fund
	@touch $@

web: web/node_modules/.wait-installed
	cd web && npm run build

# Type check, lint and unit tests of the UI (no browser); builds it too, so a broken
# build fails here.
web-test: web
	cd web && npm run typecheck && npm run lint && npm test

# Browser tests against a real `waitctl demo` in Debian's chromium (installed by bootstrap);
# screenshots go to web/test-artifacts/screenshots. See web/tests/browser.
define browser_tests
	$(CARGO) build --locked --bin waitctl
	cd web && WAITCTL=../target/debug/waitctl npm run test:browser
endef

test-browser: bootstrap web
	$(browser_tests)

build: bootstrap web
	$(CARGO) build --release --locked --bin waitctl

lint: bootstrap
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: lint web-test
	$(CARGO) test --workspace --locked
	$(browser_tests)

fmt:
	$(CARGO) fmt --all

# schemathesis against /api/openapi.json of a live demo server (bounded: a few minutes)
fuzz-api: bootstrap
	@scripts/fuzz-api

# Builds everything, creates a demo repository with a synthetic base image, runs one
# build end to end and keeps serving at http://$(BIND).
demo: build
	./target/release/waitctl demo --data-dir $(DATA_DIR) --bind $(BIND)

demo-once: build
	./target/release/waitctl demo --data-dir $(DATA_DIR) --once

clean:
	$(CARGO) clean
	rm -rf $(DATA_DIR)
