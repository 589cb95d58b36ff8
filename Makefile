# WAIT — top-level tasks. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= ./wait-data
BIND ?= 127.0.0.1:8080
# The store's conformance tests also run against PostgreSQL when this is set.
WAIT_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export WAIT_TEST_DATABASE_URL

.PHONY: all bootstrap build web test lint fmt demo demo-once clean

all: build

bootstrap:
	@scripts/bootstrap

# The web UI does not exist yet; this target is where its build will go.
web:
	@echo "web: no web UI in this version yet; nothing to build"

build: bootstrap web
	$(CARGO) build --release --locked --bin waitctl

lint: bootstrap
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: lint
	$(CARGO) test --workspace --locked

fmt:
	$(CARGO) fmt --all

# Builds everything, creates a demo repository with a synthetic base image, runs one
# build end to end and keeps serving at http://$(BIND).
demo: build
	./target/release/waitctl demo --data-dir $(DATA_DIR) --bind $(BIND)

demo-once: build
	./target/release/waitctl demo --data-dir $(DATA_DIR) --once

clean:
	$(CARGO) clean
	rm -rf $(DATA_DIR)
