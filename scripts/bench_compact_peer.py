#!/usr/bin/env python3
"""The peer of `benches/compact.rs`: DuckDB doing the same job on the same files.

usage: bench_compact_peer.py DUMP_DIR      (`make bench-compact` runs it after the bench)

For each workload folder the bench dumped (`OTLP2R2_COMPACT_DUMP`), DuckDB reads every file and
writes one Snappy Parquet file sorted by the table's key with row groups of 131,072 rows, once
with `threads=1` and once with its default threads. Each run is a fresh process, so its peak
memory (max RSS, which includes the Python interpreter and DuckDB's library: compare it with
an empty run, printed first) is its own. Prints the median of three runs' wall time and input MB/s.
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUN = r"""
import duckdb, json, resource, sys, time
src, dst, threads, order = sys.argv[1:5]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
if threads != "default":
    con.execute(f"SET threads = {threads}")
t = time.perf_counter()
if src != "-":
    con.execute(f"COPY (SELECT * FROM read_parquet('{src}/**/*.parquet') ORDER BY {order}) TO '{dst}' "
                "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 131072)")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run(src, dst, threads, order):
    out = subprocess.run([sys.executable, "-c", RUN, src, dst, threads, order],
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return report["seconds"], report["rss_kib"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dump = Path(sys.argv[1])
    _, empty = run("-", "/dev/null", "1", "1")
    print(f"an empty DuckDB process peaks at {empty / 1024:.0f} MiB RSS")
    for w in sorted(p for p in dump.iterdir() if p.is_dir()):
        order = "ServiceName, Timestamp" if w.name.startswith(("logs", "traces")) else \
            "ServiceName, MetricName, TimeUnix"
        size = sum(f.stat().st_size for f in w.rglob("*.parquet"))
        for threads in ("1", "default"):
            times, rss = [], 0
            for _ in range(3):
                secs, peak = run(str(w), str(dump / f"{w.name}.duckdb.parquet"), threads, order)
                times.append(secs)
                rss = max(rss, peak)
            med = statistics.median(times)
            print(f"duckdb {w.name} threads={threads}: {med * 1000:.0f} ms, "
                  f"{size / med / 1e6:.1f} MB/s of input, peak RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
