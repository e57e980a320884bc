# otlp2r2 — every command installs what it needs (pinned, idempotent), then runs.
#
#   make dev    build the Worker and run it locally (wrangler dev + local R2)
#   make test   fmt, clippy, every test incl. the end-to-end Worker tests (what CI runs)
#   make help   everything else

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help dev serve compact-local query bench-compact bench-compact-worker bench-compact-dhat test test-rust test-e2e loadtest build-worker-faults rust-tools wasm-tools node-tools py-tools \
        build-worker size size-check convert-samples fmt bench bench-peers bench-cycles bench-dhat local-objects bench-stages bench-wasm bench-worker bench-inflate profile-worker profile-compact bench-baseline bench-compare bloat llvm-lines flamegraph profile-all perf-audit clean

ROOT := $(abspath .)
CARGO_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
CARGO_BIN := $(CARGO_DIR)/bin

# ---- pinned tool versions -------------------------------------------------------
# wasm-bindgen-cli must equal the wasm-bindgen pinned in Cargo.toml (=0.2.130).
WASM_BINDGEN_VERSION := 0.2.130
WORKER_BUILD_VERSION := 0.8.7
# JavaScript tools (wrangler, workerd, esbuild) are pinned in scripts/package.json
# and scripts/package-lock.json; Python tools in tests/requirements.txt.

# ---- local run settings ---------------------------------------------------------
PORT ?= 8787
STATE ?= $(ROOT)/.wrangler/state
# The Worker's gzipped wasm must stay under this (bytes): 1.2 MB.
WASM_GZ_BUDGET := 1200000

VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
NODE_BIN := $(ROOT)/scripts/node_modules/.bin
PY_STAMP := $(VENV)/.installed-$(shell cksum < tests/requirements.txt | cut -d' ' -f1)
NODE_STAMP := $(ROOT)/scripts/node_modules/.installed-$(shell cksum < scripts/package-lock.json | cut -d' ' -f1)
WASM := $(ROOT)/build/index_bg.wasm

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- tools ----------------------------------------------------------------------
rust-tools: ## rustfmt and clippy
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

wasm-tools: ## wasm32 target, wasm-bindgen-cli and worker-build at their pinned versions
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@[ "$$($(CARGO_BIN)/wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@$(CARGO_BIN)/worker-build --version 2>/dev/null | grep -qx "$(WORKER_BUILD_VERSION)" || \
		cargo install worker-build --version $(WORKER_BUILD_VERSION) --force

$(NODE_STAMP): scripts/package.json scripts/package-lock.json
	cd scripts && npm ci --no-audit --no-fund
	rm -f scripts/node_modules/.installed-* && touch $@

node-tools: $(NODE_STAMP) ## wrangler, workerd and esbuild from the lock file

$(PY_STAMP): tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r tests/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

py-tools: $(PY_STAMP) ## DuckDB, pytest and the OpenTelemetry SDK in .venv

# ---- the Worker -----------------------------------------------------------------
# worker-build would download wasm-bindgen, esbuild and wasm-opt; point it at the
# pinned local tools instead. wasm-opt is skipped (--no-opt): size comes from the
# Rust side (opt-level, LTO, one codegen unit, panic=abort).
# The profile is Cargo.toml's [profile.worker]. WORKER_OPT_LEVEL overrides its
# base opt-level (the hot crates stay at 3) for `make bench-worker`'s variants.
# The wasm's "name" section (function names for stack traces, ~20 % of the
# gzipped module) and its toolchain notes are dropped afterwards: there is no
# wasm-opt here to do it.
WORKER_OUT ?= build
# wasm SIMD (simd128, which V8 and so workerd run) lets simdutf8 check UTF-8
# 16 bytes at a time: 4 % less time per protobuf request, 4 % on top of the
# whole-body check for JSON, and the JSON parser scan strings 16 bytes at a
# time (docs/performance.md).
# Panic locations name their source files: the registry's path is cut from them
# (--remap-path-prefix), so the module's bytes do not depend on where CARGO_HOME is.
WORKER_ENV = WASM_BINDGEN_BIN=$(CARGO_BIN)/wasm-bindgen ESBUILD_BIN=$(NODE_BIN)/esbuild \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 \
	--remap-path-prefix=$(CARGO_DIR)/registry/src/=" \
	$(if $(WORKER_OPT_LEVEL),CARGO_PROFILE_WORKER_OPT_LEVEL=$(WORKER_OPT_LEVEL))
build-worker: wasm-tools node-tools ## build the Worker (build/) with local, pinned tools only
	$(WORKER_ENV) $(CARGO_BIN)/worker-build --profile worker --no-opt --out-dir $(WORKER_OUT)
	$(if $(WORKER_KEEP_NAMES),,python3 scripts/wasm_strip_names.py $(WORKER_OUT)/index_bg.wasm)

# The fault-injection test build (never deployed): R2 puts fail as its [vars]
# ask (FAULT_PUT_EVERY, FAULT_PUT_FRACTION). The load test runs it.
FAULTS_OUT := target/worker-faults
build-worker-faults: wasm-tools node-tools ## the fault-injection test build of the Worker (target/worker-faults/)
	$(WORKER_ENV) $(CARGO_BIN)/worker-build --profile worker --no-opt --out-dir $(FAULTS_OUT) --features fault-injection
	python3 scripts/wasm_strip_names.py $(FAULTS_OUT)/index_bg.wasm

size: ## gzipped size of the Worker's wasm
	@[ -f $(WASM) ] || $(MAKE) -s build-worker
	@echo "wasm: $$(wc -c < $(WASM)) bytes raw, $$(gzip -9 -c $(WASM) | wc -c) bytes gzipped (budget $(WASM_GZ_BUDGET))"

size-check: size ## fail when the gzipped wasm is over budget
	@gz=$$(gzip -9 -c $(WASM) | wc -c); [ $$gz -le $(WASM_GZ_BUDGET) ] || \
		{ echo "wasm is $$gz bytes gzipped, over the $(WASM_GZ_BUDGET)-byte budget"; exit 1; }

# Locally the Cron Trigger looks at every hour of the bucket (a local bucket is small, and the
# sample requests' hours lie years back), not only the Worker's last 7 days.
serve: node-tools ## run the built Worker: wrangler dev on PORT with local R2 state in STATE
	WRANGLER_SEND_METRICS=false $(NODE_BIN)/wrangler dev --config $(ROOT)/wrangler.toml \
		--ip 127.0.0.1 --port $(PORT) --persist-to $(STATE) --test-scheduled \
		--var COMPACT_LOOKBACK_HOURS:0

compact-local: ## with make dev running (same PORT and STATE): run the Cron Trigger and wait until the queue has compacted every eligible partition
	python3 scripts/compact_local.py $(PORT) $(STATE)

query: py-tools ## DuckDB over the files that make local-objects exported into ./out (SQL="...")
	$(PY) -c "import duckdb,sys; print(duckdb.sql(sys.argv[1]))" \
		"$${SQL:-SELECT ServiceName, count(*) AS n FROM read_parquet('out/otel_logs/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY n DESC}"

dev: build-worker ## build, then run the Worker locally (PORT=8787 STATE=.wrangler/state)
	@$(MAKE) -s serve PORT=$(PORT) STATE=$(STATE)

local-objects: ## copy the local bucket's objects (STATE) into ./out for DuckDB (its folders there replaced)
	python3 scripts/local_r2_export.py $(STATE) out

convert-samples: ## run the native CLI on the sample requests (writes ./out)
	cargo run --release -- convert --signal logs tests/data/logs.pb --out out
	cargo run --release -- convert --signal traces tests/data/traces.pb --out out
	cargo run --release -- convert --signal metrics tests/data/metrics.pb --out out
	cargo run --release -- convert --signal logs --json tests/data/logs.json --out out

# ---- tests ----------------------------------------------------------------------
test-rust: rust-tools py-tools ## fmt, clippy -D warnings, cargo test (unit, integration, DuckDB)
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	OTLP2R2_PYTHON=$(PY) cargo test -- --include-ignored

test-e2e: build-worker size-check build-worker-faults py-tools node-tools ## the Worker under wrangler dev, fed by the OTel SDK (incl. a 15 s load test)
	cd tests/e2e && $(PY) -m pytest -q -p no:cacheprovider .

LOADTEST_SECONDS ?= 60
LOADTEST_SENDERS ?= 8
LOADTEST_FAULT_FRACTION ?= 0.1
loadtest: build-worker build-worker-faults py-tools node-tools ## concurrent senders vs wrangler dev with failing puts; every acknowledged row stored once (LOADTEST_SECONDS=60 LOADTEST_SENDERS=8)
	cd tests/e2e && LOADTEST_SECONDS=$(LOADTEST_SECONDS) LOADTEST_SENDERS=$(LOADTEST_SENDERS) \
		LOADTEST_FAULT_FRACTION=$(LOADTEST_FAULT_FRACTION) $(PY) -m pytest -q -s -p no:cacheprovider test_load.py

test: test-rust fuzz-short test-e2e ## everything CI runs

fmt: ## format the code
	cargo fmt

# ---- benches --------------------------------------------------------------------
bench: ## the end-to-end Criterion bench (10k records, protobuf and JSON)
	cargo bench --bench e2e_pipeline

bench-peers: ## this crate vs otlp2records 0.11 on the same bytes
	cargo bench --bench peers

bench-compact: py-tools ## compaction of one partition of many small files (Criterion), then DuckDB doing the same job on the same files
	rm -rf target/compact-bench
	OTLP2R2_COMPACT_DUMP=$(ROOT)/target/compact-bench cargo bench --bench compact
	$(PY) scripts/bench_compact_peer.py target/compact-bench

bench-compact-dhat: ## compaction's allocated bytes and blocks per row and peak heap (dhat), per partition of bench-compact
	cargo bench --bench compact --features dhat-heap -- --dhat

# The Worker's own queue consumer compacting the same partitions inside workerd
# (a bucket in JavaScript memory), plus one logs partition of COMPACT_LARGE_MIB
# and three of 1,000 one-record requests (the memory bound's tests).
COMPACT_LARGE_MIB ?= 1024
bench-compact-worker: wasm-tools node-tools ## the Worker's queue consumer compacting the bench's partitions, one of COMPACT_LARGE_MIB MiB and three of one-record files in workerd: MB/s and wasm memory
	$(MAKE) -s build-worker WORKER_OUT=target/bench-worker/worker-profile
	rm -rf target/compact-bench-worker
	OTLP2R2_COMPACT_DUMP=$(ROOT)/target/compact-bench-worker OTLP2R2_COMPACT_LARGE_MIB=$(COMPACT_LARGE_MIB) \
		cargo bench --bench compact -- --list >/dev/null
	python3 scripts/bench_worker.py --compact target/compact-bench-worker target/bench-worker/worker-profile $(COMPACT_VARS)

bench-dhat: ## allocated bytes and peak heap per record, ours vs the peer (dhat)
	cargo bench --bench peers --features dhat-heap -- --dhat

CYCLES_WORKLOAD ?= logs-protobuf
CYCLES_STAGE ?= all
bench-cycles: ## CPU cycles (perf stat) or instructions (callgrind, where perf has no counters) per request (CYCLES_WORKLOAD=logs-protobuf|traces-protobuf|metrics-protobuf|logs-json, @N for N records instead of 10,000; CYCLES_STAGE=all|decode|transform|write|peer: the peer's whole conversion)
	@command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf; }
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	@bin=$$(cargo bench --bench peers --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))/\1/p'); \
		python3 scripts/cycles.py $$bin $(CYCLES_WORKLOAD) $(CYCLES_STAGE)

bench-stages: ## decode, transform and write alone (Criterion: decode_otlp, transform_arrow, parquet_write)
	cargo bench --bench decode_otlp --bench transform_arrow --bench parquet_write

# The harness is its own crate (bench-wasm/Cargo.toml) built for wasm32 at
# opt-level 3; wasm-bindgen --target web glue is loaded by bench-wasm/runner.js.
# Its `native` binary runs the same stages natively, timed back to back with
# each workerd run (scripts/bench_wasm.py).
BENCH_WASM_ARGS ?=
# With simd128 like the Worker (WORKER_ENV), so the harness runs the code users deploy.
BUILD_HARNESS = CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
	cargo build --release --lib --target wasm32-unknown-unknown --manifest-path bench-wasm/Cargo.toml && \
	$(CARGO_BIN)/wasm-bindgen --target web --out-dir bench-wasm/pkg bench-wasm/target/wasm32-unknown-unknown/release/otlp2r2_bench_wasm.wasm
bench-wasm: wasm-tools node-tools ## native vs WASM-in-workerd, timed back to back, with the peer: writes bench-wasm/report.md (BENCH_WASM_ARGS=--quick)
	$(BUILD_HARNESS)
	cargo build --release --manifest-path bench-wasm/Cargo.toml --bin native
	python3 scripts/bench_wasm.py $(BENCH_WASM_ARGS)

# The deployed Worker's fetch handler, timed in workerd (bench-wasm/worker/):
# the shipped profile beside the same code at other base opt-levels, on the
# harness's fixtures. Writes bench-wasm/worker-report.md.
BENCH_WORKER_LEVELS ?= 3 s
bench-worker: wasm-tools node-tools ## the shipped Worker build in workerd beside base opt-levels BENCH_WORKER_LEVELS: time per request and gzipped size
	@[ -f bench-wasm/pkg/otlp2r2_bench_wasm_bg.wasm ] || $(BUILD_HARNESS)
	$(MAKE) -s build-worker WORKER_OUT=target/bench-worker/worker-profile
	for l in $(BENCH_WORKER_LEVELS); do $(MAKE) -s build-worker WORKER_OPT_LEVEL=$$l WORKER_OUT=target/bench-worker/base-$$l || exit 1; done
	python3 scripts/bench_worker.py --ships worker-profile target/bench-worker/worker-profile $(foreach l,$(BENCH_WORKER_LEVELS),target/bench-worker/base-$(l))

# The gzip inflaters that build for wasm32, side by side on one gzipped
# request, natively and in workerd (scripts/inflate_compare: its own crate).
bench-inflate: wasm-tools node-tools ## miniz_oxide vs zlib-rs vs zune-inflate (+ CRC-32), natively and in workerd
	@[ -f bench-wasm/pkg/otlp2r2_bench_wasm_bg.wasm ] || $(BUILD_HARNESS)
	python3 scripts/inflate_compare/run.py

# V8's CPU profiler on the Worker's fetch handler in workerd, through the
# inspector: the shipped profile with its function names kept.
PROFILE_WORKLOAD ?= logs-protobuf-8192
PROFILE_QUERY ?= path=/v1/logs&mode=full
PROFILE_FOCUS ?=
profile-worker: wasm-tools node-tools ## where the Worker's time goes inside workerd (PROFILE_WORKLOAD, PROFILE_QUERY, PROFILE_FOCUS=function for its callers)
	@[ -f bench-wasm/pkg/otlp2r2_bench_wasm_bg.wasm ] || $(BUILD_HARNESS)
	$(MAKE) -s build-worker WORKER_OUT=target/bench-worker/names WORKER_KEEP_NAMES=1
	python3 scripts/bench_worker.py --fixture $(PROFILE_WORKLOAD) target/bench-worker/$(PROFILE_WORKLOAD).bin
	python3 scripts/bench_worker.py --profile target/bench-worker/names \
		target/bench-worker/$(PROFILE_WORKLOAD).bin '$(PROFILE_QUERY)' $(PROFILE_FOCUS)

# The same profiler over the Worker's queue consumer compacting one of the
# compaction bench's partitions (every run), dumped as bench-compact-worker does.
PROFILE_PARTITION ?= logs-40x8192
profile-compact: wasm-tools node-tools ## where compaction's time goes inside workerd (PROFILE_PARTITION=logs-500x100|logs-40x8192|traces-500x100|metrics-200x100, PROFILE_FOCUS)
	@[ -f bench-wasm/pkg/otlp2r2_bench_wasm_bg.wasm ] || $(BUILD_HARNESS)
	$(MAKE) -s build-worker WORKER_OUT=target/bench-worker/names WORKER_KEEP_NAMES=1
	@[ -d target/compact-bench-worker/$(PROFILE_PARTITION) ] || OTLP2R2_COMPACT_DUMP=$(ROOT)/target/compact-bench-worker \
		cargo bench --bench compact -- --list >/dev/null
	python3 scripts/bench_worker.py --profile-compact target/compact-bench-worker/$(PROFILE_PARTITION) \
		target/bench-worker/names $(PROFILE_FOCUS)

# ---- profiling and audit ----------------------------------------------------------
CARGO_BLOAT_VERSION := 0.12.1
CARGO_LLVM_LINES_VERSION := 0.4.48
FLAMEGRAPH_VERSION := 0.6.15
TWIGGY_VERSION := 0.8.0
BENCH_FILTER ?= e2e/logs/protobuf/10000

define cargo_tool # $(1) binary, $(2) crate, $(3) version
	@$(CARGO_BIN)/$(1) --version 2>/dev/null | grep -q '$(3)' || cargo install $(2) --version $(3) --locked || cargo install $(2) --version $(3)
endef

bench-baseline: ## save Criterion baseline "main" for the e2e and stage benches
	cargo bench --bench e2e_pipeline --bench decode_otlp --bench transform_arrow --bench parquet_write -- --save-baseline main

bench-compare: ## compare the e2e and stage benches against baseline "main"
	cargo bench --bench e2e_pipeline --bench decode_otlp --bench transform_arrow --bench parquet_write -- --baseline main

bloat: ## biggest crates and functions: native CLI (cargo-bloat) and the Worker's wasm (twiggy)
	$(call cargo_tool,cargo-bloat,cargo-bloat,$(CARGO_BLOAT_VERSION))
	$(call cargo_tool,twiggy,twiggy,$(TWIGGY_VERSION))
	cargo bloat --release --bin otlp2r2 --crates -n 20
	@[ -f $(WASM) ] || $(MAKE) -s build-worker
	$(CARGO_BIN)/twiggy top -n 25 $(WASM)

llvm-lines: ## LLVM IR lines per generic function (monomorphisation cost)
	$(call cargo_tool,cargo-llvm-lines,cargo-llvm-lines,$(CARGO_LLVM_LINES_VERSION))
	cargo llvm-lines --release --lib | head -40

flamegraph: ## flame graph of one bench (BENCH_FILTER=...) into target/flamegraph.svg
	@command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf; }
	$(call cargo_tool,cargo-flamegraph,flamegraph,$(FLAMEGRAPH_VERSION))
	CARGO_PROFILE_BENCH_DEBUG=true cargo flamegraph -c "record -e cpu-clock -F 997 --call-graph dwarf,16384 -g" \
		--bench e2e_pipeline -o target/flamegraph.svg -- --bench --profile-time 5 '$(BENCH_FILTER)'
	rm -f perf.data perf.data.old

profile-all: bench bench-stages bench-peers bench-dhat bench-wasm bloat ## every measurement, then the audit
	python3 scripts/perf_audit.py

perf-audit: ## run the measurements and write findings.json (PERF_AUDIT_ARGS=--quick for a short run)
	python3 scripts/perf_audit.py $(PERF_AUDIT_ARGS)

# ---- fuzzing --------------------------------------------------------------------
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) on *stable* Rust: `-s none`
# builds without a sanitizer (stable refuses -Zsanitizer=address) and with the
# stable-only sancov flags. The fuzz crate is tests/fuzz (its own workspace and
# Cargo.lock); its build and the corpora live in tests/fuzz/target and
# tests/fuzz/corpus (git-ignored). docs/reliability.md, "Coverage-guided fuzzing" has the details.
CARGO_FUZZ_VERSION := 0.13.2
.PHONY: fuzz-tools fuzz-seeds fuzz fuzz-short
FUZZ_TARGETS := proto json gzip process
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 30
FUZZ_DIR := tests/fuzz
FUZZ_SEEDS := $(ROOT)/$(FUZZ_DIR)/seeds
# Its own target dir even when CARGO_TARGET_DIR is set: the sancov build must
# not share artifacts with the ordinary one.
FUZZ_TARGET_DIR := $(ROOT)/$(FUZZ_DIR)/target

fuzz-tools: ## cargo-fuzz at its pinned version
	$(call cargo_tool,cargo-fuzz,cargo-fuzz,$(CARGO_FUZZ_VERSION))

# Deterministic seeds: the fixtures, tests/data and the malformed-request corpus
# of tests/errors.rs, written by two #[ignore]d tests into $(FUZZ_SEEDS)/<target>.
fuzz-seeds: ## the seed corpora (tests/fuzz/seeds/<target>)
	rm -rf $(FUZZ_SEEDS)
	OTLP2R2_FUZZ_SEEDS=$(FUZZ_SEEDS) cargo test --test fuzz_regressions --test errors -- --ignored write_fuzz_seeds

# One run per target: libFuzzer exits non-zero on a crash (the input is kept in
# tests/fuzz/artifacts/<target>/), which fails make. New corpus entries go to
# tests/fuzz/corpus/<target>; the seeds are read, never written.
define fuzz_run # $(1) seconds per target
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t && \
		echo "== fuzz $$t for $(1) s" && \
		CARGO_TARGET_DIR=$(FUZZ_TARGET_DIR) cargo +stable fuzz run --fuzz-dir $(FUZZ_DIR) -s none $$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_SEEDS)/$$t -- \
			-max_total_time=$(1) -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 || exit 1; \
	done
endef

fuzz: fuzz-tools fuzz-seeds ## every fuzz target for FUZZ_SECONDS (300) each
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-short: fuzz-tools fuzz-seeds ## every fuzz target for FUZZ_SHORT_SECONDS (30) each (part of make test)
	$(call fuzz_run,$(FUZZ_SHORT_SECONDS))

clean: ## remove build output and local state
	cargo clean
	rm -rf out build .wrangler $(VENV) scripts/node_modules
