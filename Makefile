# otlp2r2 — every command installs what it needs (pinned, idempotent), then runs.
#
#   make dev    build and run locally (see README)
#   make test   fmt, clippy, every test (what CI runs)
#   make help   everything else

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help dev test rust-tools fmt lint bench bench-peers bench-dhat clean

ROOT := $(abspath .)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
# Re-install the test readers whenever their pinned list changes.
PY_STAMP := $(VENV)/.installed-$(shell cat tests/requirements.txt | cksum | cut -d' ' -f1)

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

rust-tools: ## rustfmt and clippy for the pinned toolchain
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

$(PY_STAMP): tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r tests/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

dev: ## run the pipeline on the sample requests (writes ./out)
	cargo run --release -- convert --signal logs tests/data/logs.pb --out out
	cargo run --release -- convert --signal traces tests/data/traces.pb --out out
	cargo run --release -- convert --signal metrics tests/data/metrics.pb --out out
	cargo run --release -- convert --signal logs --json tests/data/logs.json --out out
	@find out -name '*.parquet' | sort

test: rust-tools $(PY_STAMP) ## fmt, clippy -D warnings, all tests (unit, integration, DuckDB)
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	OTLP2R2_PYTHON=$(PY) OTLP2R2_REQUIRE_READERS=1 cargo test

fmt: ## format the code
	cargo fmt

bench: ## the end-to-end Criterion bench (10k records, protobuf and JSON)
	cargo bench --bench e2e_pipeline

bench-peers: ## this crate vs otlp2records 0.11 on the same bytes
	cargo bench --bench peers

bench-dhat: ## allocated bytes and peak heap per record, ours vs the peer (dhat)
	cargo bench --bench peers --features dhat-heap -- --dhat

clean: ## remove build output and local state
	cargo clean
	rm -rf out $(VENV)
