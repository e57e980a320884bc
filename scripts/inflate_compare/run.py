#!/usr/bin/env python3
"""`make bench-inflate`: the gzip inflaters that build for wasm32 (miniz_oxide, zlib-rs,
zune-inflate), natively and in workerd, on the bench's 8,192-record logs request gzipped at
level 6 (what workerd's CompressionStream and most exporters write). Prints a Markdown table:
median ms per inflate + CRC-32 check, the inflated MB/s, and each one's ratio to miniz_oxide.

usage: run.py [ROUNDS]   (30 native rounds, 15 in workerd by default)
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_wasm import Workerd, single_worker_config  # noqa: E402
from bench_worker import fixture  # noqa: E402

WASM_TARGET = "wasm32-unknown-unknown"


def build():
    env = dict(os.environ, CARGO_TARGET_DIR=str(HERE / "target"))
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=HERE, env=env, check=True)
    # The Worker's target features (Makefile: CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS).
    env["CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS"] = "-C target-feature=+simd128"
    subprocess.run(["cargo", "build", "--release", "-q", "--target", WASM_TARGET], cwd=HERE, env=env, check=True)
    return HERE / "target/release/inflate-compare", HERE / f"target/{WASM_TARGET}/release/inflate_compare.wasm"


def config(port: int) -> str:
    return single_worker_config(port, "main", [
        ("worker.js", "esModule", "worker.js"),
        ("inflate_compare.wasm", "wasm", "inflate_compare.wasm"),
        ("body.gz", "data", "body.gz"),
    ])


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    native, wasm = build()
    with tempfile.TemporaryDirectory(prefix="otlp2r2-inflate-") as tmp:
        tmp = Path(tmp)
        raw = tmp / "body.pb"
        fixture("logs-protobuf-8192", raw)
        gz = gzip.compress(raw.read_bytes(), compresslevel=6, mtime=0)
        (tmp / "body.gz").write_bytes(gz)
        (tmp / "inflate_compare.wasm").write_bytes(wasm.read_bytes())
        (tmp / "worker.js").write_text((HERE / "worker.js").read_text())
        out = json.loads(subprocess.run([str(native), str(tmp / "body.gz"), str(rounds)],
                                        capture_output=True, text=True, check=True).stdout)
        names, inflated = list(out["ms"]), out["inflated_bytes"]
        w = Workerd(tmp, cfg_dir=tmp, config_text=config)
        try:
            body, _ = w.call(f"/?candidates={len(names)}&rounds={max(rounds // 2, 5)}")
        finally:
            w.stop()
        in_wasm = json.loads(body)
    print(f"{len(gz):,} B gzipped -> {inflated:,} B (8,192 logs records, protobuf, gzip level 6)\n")
    print("| candidate | native ms | native MB/s | × miniz_oxide | workerd ms | workerd MB/s | × miniz_oxide |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base_n, base_w = out["ms"][names[0]], in_wasm[0]
    for name, w_ms in zip(names, in_wasm):
        n_ms = out["ms"][name]
        print(f"| {name} | {n_ms:.2f} | {inflated / n_ms / 1e3:,.0f} | {n_ms / base_n:.2f} "
              f"| {w_ms:.2f} | {inflated / w_ms / 1e3:,.0f} | {w_ms / base_w:.2f} |")


if __name__ == "__main__":
    main()
