"""CPU cycles per request, counted by `perf stat` (make bench-cycles).

usage: cycles.py BENCH_BINARY [WORKLOAD [STAGE [N]]]

Runs the peers bench binary's `--cycles` mode with N iterations and with 0
(the same set-up, no work), three times each, and prints the best
difference divided by N: cycles and instructions per request. Cycle counts
are far steadier than wall time on a shared machine; use them to compare two
builds run one after the other (A/B), and Criterion for the times quoted in
docs/performance.md.
"""
import subprocess
import sys


def count(binary, workload, stage, n):
    out = subprocess.run(
        ["perf", "stat", "-x,", "-e", "cycles,instructions", binary, "--cycles", workload, str(n), stage],
        capture_output=True, text=True, check=True,
    ).stderr
    values = {}
    for line in out.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith(("cycles", "instructions")):
            values[parts[2].split(":")[0]] = int(parts[0])
    return values["cycles"], values["instructions"]


def main():
    binary = sys.argv[1]
    workload = sys.argv[2] if len(sys.argv) > 2 else "logs-protobuf"
    stage = sys.argv[3] if len(sys.argv) > 3 else "all"
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    base = min(count(binary, workload, stage, 0) for _ in range(3))
    best = min(count(binary, workload, stage, n) for _ in range(3))
    cycles = (best[0] - base[0]) / n
    instructions = (best[1] - base[1]) / n
    print(f"{workload} {stage}: {cycles / 1e6:.1f} M cycles, {instructions / 1e6:.1f} M instructions per request")


if __name__ == "__main__":
    main()
