#!/usr/bin/env python3
"""bench-wasm driver: times the same hot paths natively and as WASM inside workerd.

usage: bench_wasm.py [--quick]        (run by `make bench-wasm`, after the harness is built)

For each workload it fetches the request body once from the harness (same fixture generator and
seeds as the native benches). Then for each (library, stage) it times the stage natively
(`bench-wasm/target/release/native`, the harness's own code and profile built for this machine),
then as WASM in a *fresh* workerd on a free loopback port (POST the body to /run: median time and
the peak of wasm linear memory), then natively again. The native time is the median of both native
runs' rounds. This machine's speed wanders by up to 2x in phases lasting seconds to minutes, so the
two sides are timed back to back, seconds apart, with the same rounds (warm-up, 9 rounds of at
least 150 ms each); a ratio of figures taken minutes apart (Criterion's, say) mixes phases.

Writes bench-wasm/report.json and bench-wasm/report.md. Python standard library only.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "bench-wasm"
PKG = HARNESS / "pkg"
WORKERD = ROOT / "scripts" / "node_modules" / ".bin" / "workerd"
NATIVE = HARNESS / "target" / "release" / "native"
WORKER_CPU_LIMIT_MS = 10  # Workers Free plan, per request
ISOLATE_MEMORY = 128 * 1000 * 1000  # bytes

# (workload, [(library, stage), ...]); ids are parsed by bench-wasm/src/lib.rs.
FULL = [
    ("logs-protobuf-10000", [("otlp2r2", "e2e"), ("otlp2r2", "decode"), ("otlp2r2", "transform"),
                             ("otlp2r2", "write"), ("otlp2records", "e2e")]),
    ("traces-protobuf-10000", [("otlp2r2", "e2e"), ("otlp2r2", "decode"), ("otlp2r2", "transform"),
                               ("otlp2r2", "write"), ("otlp2records", "e2e")]),
    ("metrics-protobuf-10000", [("otlp2r2", "e2e"), ("otlp2records", "e2e")]),
    # No peer here: otlp2records 0.11's JSON path calls std::time::Instant::now,
    # which panics on wasm32-unknown-unknown (seen 2026-11-21).
    ("logs-json-10000", [("otlp2r2", "e2e"), ("otlp2r2", "decode")]),
    ("logs-protobuf-gzip-10000", [("otlp2r2", "e2e")]),
    ("logs-protobuf-8192", [("otlp2r2", "e2e"), ("otlp2records", "e2e")]),
    ("logs-protobuf-mib-10", [("otlp2r2", "e2e"), ("otlp2records", "e2e")]),
]
QUICK = [FULL[0], FULL[5], FULL[6]]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def single_worker_config(port: int, name: str, modules) -> str:
    """A workerd config serving one Worker on `port`; `modules` are (name, kind, embedded file)
    with kind `esModule`, `wasm` or `data`, the files relative to the config file."""
    listed = ",\n".join(f'    (name = "{m}", {kind} = embed "{path}")' for m, kind, path in modules)
    return f"""using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "{name}", worker = .{name})],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "{name}")],
);
const {name} :Workerd.Worker = (
  modules = [
{listed},
  ],
  compatibilityDate = "2026-04-01",
);
"""


def config(port: int) -> str:
    return single_worker_config(port, "harness", [
        ("runner.js", "esModule", "../runner.js"),
        ("otlp2r2_bench_wasm.js", "esModule", "otlp2r2_bench_wasm.js"),
        ("otlp2r2_bench_wasm_bg.wasm", "wasm", "otlp2r2_bench_wasm_bg.wasm"),
    ])


class Workerd:
    """One workerd process serving the harness (or another config) on a free port (a fresh isolate)."""

    def __init__(self, tmp: Path, cfg_dir: Path = PKG, config_text=config, args=()):
        self.port = free_port()
        # embed paths are relative to the config file, so it lives beside the
        # modules (pkg/ is git-ignored)
        cfg = cfg_dir / f"harness-{self.port}.capnp"
        self.cfg = cfg
        cfg.write_text(config_text(self.port))
        self.log = open(tmp / f"workerd-{self.port}.log", "w")
        self.proc = subprocess.Popen([str(WORKERD), "serve", str(cfg), *args], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError((tmp / f"workerd-{self.port}.log").read_text()[-2000:])
                time.sleep(0.1)

    def call(self, path, body=None, timeout=600):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body,
                                     method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:  # the runner reports errors as JSON
            return e.read(), dict(e.headers)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        self.cfg.unlink(missing_ok=True)


def fixture_bodies(tmp: Path, workloads) -> dict:
    """workload -> (request body, records), from the harness's fixture generator in one workerd."""
    harness = Workerd(tmp)
    try:
        bodies = {}
        for workload in workloads:
            if workload not in bodies:
                data, headers = harness.call(f"/fixture?workload={workload}")
                bodies[workload] = (data, int(headers.get("x-records") or headers.get("X-Records")))
        return bodies
    finally:
        harness.stop()


def native_rounds(workload, records, library, stage, body_file):
    """The native runner's rounds (ms per iteration) for one stage on the body in `body_file`."""
    out = subprocess.run([str(NATIVE), workload, str(records), library, stage, str(body_file)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"native {workload} {library} {stage}: {out.stderr.strip()}")
    return json.loads(out.stdout)["rounds_ms"]


def fmt(v, unit=""):
    return "—" if v is None else f"{v:.2f}{unit}"


def main():
    plan = QUICK if "--quick" in sys.argv else FULL
    if not (PKG / "otlp2r2_bench_wasm_bg.wasm").exists() or not NATIVE.exists():
        sys.exit("bench-wasm/pkg or the native runner is missing: run `make bench-wasm`")
    results = []
    with tempfile.TemporaryDirectory(prefix="otlp2r2-bench-wasm-") as tmp:
        tmp = Path(tmp)
        bodies = fixture_bodies(tmp, [workload for workload, _ in plan])
        for workload, runs in plan:
            data, records = bodies[workload]
            body_file = tmp / f"{workload}.bin"
            body_file.write_bytes(data)
            for library, stage in runs:
                before = native_rounds(workload, records, library, stage, body_file)
                w = Workerd(tmp)
                try:
                    out, _ = w.call(f"/run?workload={workload}&records={records}&library={library}&stage={stage}", data)
                finally:
                    w.stop()
                r = json.loads(out)
                if "error" in r:
                    sys.exit(f"{workload} {library} {stage}: {r['error']}")
                after = native_rounds(workload, records, library, stage, body_file)
                r["native_rounds_ms"] = before + after
                r["native_ms"] = statistics.median(before + after)
                r["native_drift"] = statistics.median(after) / statistics.median(before)
                r["ratio"] = r["median_ms"] / r["native_ms"]
                r["peak_minus_body_bytes"] = r["memory_peak_bytes"] - r["memory_loaded_bytes"]
                results.append(r)
                print(f"{workload:26} {library:13} {stage:9} wasm {r['median_ms']:8.2f} ms  native {fmt(r['native_ms'], ' ms'):>10}"
                      f"  ratio {fmt(r['ratio']):>5} (native after/before {r['native_drift']:.2f})  peak {r['memory_peak_bytes'] / 2**20:6.1f} MiB", flush=True)

    def find(workload, library, stage="e2e"):
        return next((r for r in results if r["workload"] == workload and r["library"] == library and r["stage"] == stage), None)

    ours_8k, peer_8k = find("logs-protobuf-8192", "otlp2r2"), find("logs-protobuf-8192", "otlp2records")
    big, big_peer = find("logs-protobuf-mib-10", "otlp2r2"), find("logs-protobuf-mib-10", "otlp2records")
    answers = {}
    if ours_8k:
        answers["logs_8192_within_10ms"] = {
            "wasm_ms": ours_8k["median_ms"], "within": ours_8k["median_ms"] <= WORKER_CPU_LIMIT_MS,
            "peer_wasm_ms": peer_8k and peer_8k["median_ms"],
        }
    if big:
        per_body_byte = big["memory_peak_bytes"] / big["body_bytes"]
        answers["largest_request_in_128MB"] = {
            "body_bytes": big["body_bytes"], "records": big["records"], "wasm_peak_bytes": big["memory_peak_bytes"],
            "peer_wasm_peak_bytes": big_peer and big_peer["memory_peak_bytes"],
            "peak_per_body_byte": per_body_byte,
            "largest_body_bytes_estimate": int(ISOLATE_MEMORY / per_body_byte),
        }
    report = {"date": time.strftime("%Y-%m-%d"), "workerd": subprocess.run([str(WORKERD), "--version"], capture_output=True,
              text=True).stdout.strip(), "results": results, "answers": answers}
    (HARNESS / "report.json").write_text(json.dumps(report, indent=2))

    lines = [f"# bench-wasm report ({report['date']}, {report['workerd']})", "",
             "Same bytes, the harness's code and profile (`opt-level = 3`, LTO, one codegen unit) built natively and as "
             "wasm32 (+simd128). Each case is timed natively, then as WASM in a fresh workerd, then natively again, "
             "seconds apart, each side the median of 9 rounds of at least 150 ms; the native time is the median of "
             "both native runs' 18 rounds, and `after/before` is the second native run's median over the first's "
             "(how far the machine drifted during the case: far from 1.00, read that row's ratio with care). "
             "Peak memory is wasm linear memory after the run (it only grows), body included.", "",
             "| stage | workload | library | native time | WASM time | WASM/native ratio | native after/before | WASM peak memory |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['stage']} | {r['workload']} | {r['library']} | {fmt(r['native_ms'], ' ms')} | {r['median_ms']:.2f} ms "
                     f"| {fmt(r['ratio'], '×')} | {r['native_drift']:.2f} | {r['memory_peak_bytes'] / 2**20:.1f} MiB |")
    lines += ["", "## Our time beside the peer's", "",
              "The two libraries' cases of a workload run one after the other, some seconds apart, so these ratios carry more of the machine's drift than the WASM/native ones, whose two sides share each case.", "",
              "| workload | otlp2r2 WASM | otlp2records WASM | speed-up in WASM | speed-up natively |", "|---|---:|---:|---:|---:|"]
    for workload, _ in plan:
        o, p = find(workload, "otlp2r2"), find(workload, "otlp2records")
        if o and p:
            lines.append(f"| {workload} | {o['median_ms']:.2f} ms | {p['median_ms']:.2f} ms | {p['median_ms'] / o['median_ms']:.2f}× "
                         f"| {p['native_ms'] / o['native_ms']:.2f}× |")
    lines += ["", "## Questions", ""]
    pb, js = find("logs-protobuf-10000", "otlp2r2", "decode"), find("logs-json-10000", "otlp2r2", "decode")
    if pb and js:
        lines.append(f"- **OTLP/JSON decode against protobuf decode, 10k logs:** {js['median_ms'] / pb['median_ms']:.2f}× in WASM, "
                     f"{js['native_ms'] / pb['native_ms']:.2f}× natively.")
    plain, gzip = find("logs-protobuf-10000", "otlp2r2"), find("logs-protobuf-gzip-10000", "otlp2r2")
    if plain and gzip:
        lines.append(f"- **gzip's cost on a protobuf request, 10k logs end to end:** +{100 * (gzip['median_ms'] / plain['median_ms'] - 1):.0f} % "
                     f"in WASM, +{100 * (gzip['native_ms'] / plain['native_ms'] - 1):.0f} % natively.")
    if "logs_8192_within_10ms" in answers:
        a = answers["logs_8192_within_10ms"]
        verdict = "yes" if a["within"] else f"no, {a['wasm_ms'] - WORKER_CPU_LIMIT_MS:.1f} ms over"
        lines.append(f"- **Does an 8,192-record logs request finish within the Free plan's 10 ms CPU?** {verdict}: "
                     f"{a['wasm_ms']:.2f} ms in workerd (peer: {fmt(a['peer_wasm_ms'], ' ms')}).")
    if "largest_request_in_128MB" in answers:
        a = answers["largest_request_in_128MB"]
        lines.append(f"- **How large a request fits in 128 MB?** A {a['body_bytes'] / 2**20:.1f} MiB protobuf logs request "
                     f"({a['records']} records) peaks at {a['wasm_peak_bytes'] / 2**20:.1f} MiB of wasm memory "
                     f"({a['peak_per_body_byte']:.1f}× its body; peer: "
                     f"{fmt(a['peer_wasm_peak_bytes'] and a['peer_wasm_peak_bytes'] / 2**20, ' MiB')}); at that ratio about "
                     f"{a['largest_body_bytes_estimate'] / 2**20:.1f} MiB fits. The Worker's default limit is 8 MiB.")
    (HARNESS / "report.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HARNESS / 'report.md'} and report.json")


if __name__ == "__main__":
    main()
