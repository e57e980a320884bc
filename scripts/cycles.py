"""CPU cycles (or instructions) per request of one stage (make bench-cycles).

usage: cycles.py BENCH_BINARY [WORKLOAD[@RECORDS] [STAGE [N]]]

Runs the peers bench binary's `--cycles` mode with N iterations and with 0
(the same set-up, no work) and prints the difference divided by N.

- Where `perf stat` can read the hardware counters, it counts cycles and
  instructions, three runs each, best taken.
- Where it cannot (virtual machines often hide them: `perf stat -e
  instructions true` says "not supported"), valgrind's callgrind counts
  instructions instead (one run each: the count is deterministic for the same
  binary and input, whatever else the machine is doing), with N at most 5.

Both are far steadier than wall time on a shared machine; use them to compare
two builds one after the other (A/B), and Criterion for the times quoted in
docs/performance.md.
"""
import re
import subprocess
import sys


def perf_count(binary, workload, stage, n):
    out = subprocess.run(
        ["perf", "stat", "-x,", "-e", "cycles,instructions", binary, "--cycles", workload, str(n), stage],
        capture_output=True, text=True, check=True,
    ).stderr
    values = {}
    for line in out.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith(("cycles", "instructions")):
            if not parts[0].isdigit():
                return None
            values[parts[2].split(":")[0]] = int(parts[0])
    if len(values) < 2:
        return None
    return values["cycles"], values["instructions"]


def callgrind_count(binary, workload, stage, n):
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         binary, "--cycles", workload, str(n), stage],
        capture_output=True, text=True, check=True,
    ).stderr
    m = re.search(r"Collected : (\d+)", out)
    if not m:
        sys.exit("callgrind printed no instruction count:\n" + out[-2000:])
    return int(m.group(1))


def main():
    binary = sys.argv[1]
    workload = sys.argv[2] if len(sys.argv) > 2 else "logs-protobuf"
    stage = sys.argv[3] if len(sys.argv) > 3 else "all"
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    if perf_count(binary, workload, stage, 0) is not None:
        base = min(perf_count(binary, workload, stage, 0) for _ in range(3))
        best = min(perf_count(binary, workload, stage, n) for _ in range(3))
        cycles = (best[0] - base[0]) / n
        instructions = (best[1] - base[1]) / n
        print(f"{workload} {stage}: {cycles / 1e6:.1f} M cycles, {instructions / 1e6:.1f} M instructions per request")
        return
    n = min(n, 5)
    instructions = (callgrind_count(binary, workload, stage, n) - callgrind_count(binary, workload, stage, 0)) / n
    print(f"{workload} {stage}: {instructions / 1e6:.2f} M instructions per request (callgrind; no hardware counters here)")


if __name__ == "__main__":
    main()
