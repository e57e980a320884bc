"""Load: concurrent senders against the Worker under `wrangler dev`, with R2 puts failing.

`test_concurrent_senders_lose_and_duplicate_nothing` runs the fault-injection build
(`make build-worker-faults`; puts fail at `LOADTEST_FAULT_FRACTION`, default 0.1) with
`LOADTEST_SENDERS` threads (default 8) for `LOADTEST_SECONDS` (default 15 here; `make loadtest`
runs 60). Each sender posts mixed signals, protobuf or OTLP/JSON, gzip or not, every record
tagged with a unique id, and retries 503s with backoff as OTLP exporters do (Retry-After scaled
down so a short run still makes progress). At the end the bucket is read back with DuckDB: the
rows stored equal the rows acknowledged, each exactly once, and no answer was other than 200 or
a 503. It prints requests/s, records/s and latency percentiles.

`test_eight_concurrent_largest_requests_fit_in_an_isolate` sends eight 8 MiB requests at once to
the release build: the admission budget turns the excess into 503s that succeed on retry, and the
Worker's wasm memory (from its log lines) stays under 128 MB.
"""
import base64
import gzip
import json
import os
import random
import re
import statistics
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, Worker, local_config, own_worker, parquet, query
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts

SECONDS = float(os.environ.get("LOADTEST_SECONDS", "15"))
SENDERS = int(os.environ.get("LOADTEST_SENDERS", "8"))
FAULT_FRACTION = os.environ.get("LOADTEST_FAULT_FRACTION", "0.1")
RECORDS = 20  # per request
FAULTS_BUILD = ROOT / "target" / "worker-faults" / "worker" / "shim.mjs"
ISOLATE_BYTES = 128 * 1000 * 1000


def request_dict(signal, uids, now):
    """An OTLP/JSON-shaped dict of `signal` with one record per uid (ids as raw bytes)."""
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "load"}}]}
    if signal == "logs":
        recs = [{"timeUnixNano": str(now + i), "severityNumber": 9, "body": {"stringValue": u}}
                for i, u in enumerate(uids)]
        return {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": recs}]}]}
    if signal == "traces":
        spans = [{"traceId": os.urandom(16), "spanId": os.urandom(8), "name": u, "kind": 2,
                  "startTimeUnixNano": str(now + i), "endTimeUnixNano": str(now + i + 1000)}
                 for i, u in enumerate(uids)]
        return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    metrics = [{"name": u, "gauge": {"dataPoints": [{"timeUnixNano": str(now + i), "asDouble": 1.5}]}}
               for i, u in enumerate(uids)]
    return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}


def with_ids(d, encode):
    """A copy of `d` with every trace/span id (bytes) encoded by `encode`."""
    if isinstance(d, dict):
        return {k: encode(v) if isinstance(v, bytes) else with_ids(v, encode) for k, v in d.items()}
    if isinstance(d, list):
        return [with_ids(v, encode) for v in d]
    return d


MESSAGES = {"logs": ls.ExportLogsServiceRequest, "traces": ts.ExportTraceServiceRequest,
            "metrics": ms.ExportMetricsServiceRequest}


def body(signal, uids, now, as_json):
    d = request_dict(signal, uids, now)
    if as_json:  # OTLP/JSON: ids in hex
        return json.dumps(with_ids(d, bytes.hex)).encode(), "application/json"
    # protobuf's JSON mapping takes bytes as base64
    msg = json_format.ParseDict(with_ids(d, lambda b: base64.b64encode(b).decode()), MESSAGES[signal]())
    return msg.SerializeToString(), "application/x-protobuf"


def send(url, path, data, headers):
    """One attempt: (status, body, seconds)."""
    started = time.perf_counter()
    req = urllib.request.Request(url + path, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, resp = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, resp = e.code, e.read()
    return status, resp, time.perf_counter() - started


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {"logs": [], "traces": [], "metrics": []}
        self.statuses = {}
        self.latencies = []
        self.other = []

    def attempt(self, status, resp, seconds):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(seconds)
            if status not in (200, 503):
                self.other.append((status, resp[:200]))


def sender(url, n, deadline, tally, rng):
    j = 0
    while time.time() < deadline:
        signal = ("logs", "traces", "metrics")[(n + j) % 3]
        uids = [f"s{n}-r{j}-i{k}" for k in range(RECORDS)]
        data, ctype = body(signal, uids, time.time_ns(), rng.random() < 0.5)
        headers = {"Content-Type": ctype}
        if rng.random() < 0.5:
            data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
        for attempt in range(30):
            status, resp, seconds = send(url, f"/v1/{signal}", data, headers)
            tally.attempt(status, resp, seconds)
            if status != 503:
                break
            # Exporters back off exponentially and honour Retry-After (5 s here); scaled down.
            time.sleep(min(0.05 * 2 ** attempt, 1.0) * (0.5 + rng.random()))
        if status == 200:
            with tally.lock:
                tally.acked[signal].extend(uids)
        j += 1


worker = own_worker("load-release", "The release build; the other modules count their rows.")


@pytest.fixture(scope="module")
def faulty_worker(tmp_root):
    if not FAULTS_BUILD.exists():
        pytest.fail("run `make build-worker-faults` first (make test and make loadtest do)")
    cfg = local_config(tmp_root, "faults")
    cfg.write_text(cfg.read_text().replace(str(ROOT / "build" / "worker" / "shim.mjs"), str(FAULTS_BUILD)))
    w = Worker(tmp_root, ["--var", f"FAULT_PUT_FRACTION:{FAULT_FRACTION}"], config=cfg)
    yield w
    w.stop()


def test_concurrent_senders_lose_and_duplicate_nothing(faulty_worker, tmp_root):
    tally = Tally()
    deadline = time.time() + SECONDS
    threads = [threading.Thread(target=sender, args=(faulty_worker.url, n, deadline, tally, random.Random(n)))
               for n in range(SENDERS)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started

    assert not tally.other, f"answers other than 200/503: {tally.other[:5]}"
    injected = log_count(faulty_worker, "injected failure")
    assert tally.statuses.get(503, 0) >= 1 and injected >= 1, "the run saw no injected failure"

    tree = faulty_worker.export_tree(tmp_root / "load-tree")
    stored = {
        "logs": query(tree, f"SELECT Body FROM {parquet(tree, 'otel_logs')}"),
        "traces": query(tree, f"SELECT SpanName FROM {parquet(tree, 'otel_traces')}"),
        "metrics": query(tree, f"SELECT MetricName FROM {parquet(tree, 'otel_metrics_gauge')}"),
    }
    for signal, rows in stored.items():
        uids = [r[0] for r in rows]
        assert len(uids) == len(set(uids)), f"{signal}: a row is stored twice"
        assert sorted(uids) == sorted(tally.acked[signal]), f"{signal}: stored rows differ from acknowledged"

    records = sum(len(v) for v in tally.acked.values())
    lat = sorted(tally.latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    print(f"\nloadtest: {SENDERS} senders, {elapsed:.1f} s, {len(lat)} requests "
          f"({len(lat) / elapsed:.1f}/s), {records} records acknowledged and stored once "
          f"({records / elapsed:.0f}/s), statuses {tally.statuses}, injected put failures {injected}, "
          f"latency p50 {p(0.5):.1f} ms p99 {p(0.99):.1f} ms")


def log_count(worker, text):
    worker.log.flush()
    return Path(worker.log.name).read_text().count(text)


def largest_logs_body():
    """A protobuf logs request just under the 8 MiB body limit."""
    pad = "x" * 200
    per = len(body("logs", [pad], 0, False)[0])
    n = (8 * 1024 * 1024 - 4096) // (per - 40)
    data = b""
    while True:
        data, _ = body("logs", [f"{i:08}{pad}" for i in range(n)], time.time_ns(), False)
        if len(data) <= 8 * 1024 * 1024:
            return data
        n = int(n * 0.98)


def test_eight_concurrent_largest_requests_fit_in_an_isolate(worker):
    data = largest_logs_body()
    results = []

    def one():
        statuses = []
        for attempt in range(100):
            status, _, _ = send(worker.url, "/v1/logs", data, {"Content-Type": "application/x-protobuf"})
            statuses.append(status)
            if status != 503:
                break
            time.sleep(0.2 + 0.2 * random.random())
        results.append(statuses)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s[-1] == 200 for s in results), results
    assert all(x in (200, 503) for s in results for x in s), results
    worker.log.flush()
    text = Path(worker.log.name).read_text()
    lines = [json.loads(m) for m in re.findall(r'^(\{.*"msg":"otlp2r2 request".*\})\s*$', text, re.M)]
    memory = max(line.get("memory_bytes", 0) for line in lines)
    busy = sum(1 for s in results for x in s if x == 503)
    print(f"\n8 concurrent {len(data)}-byte requests: {busy} answered 503 then retried, "
          f"wasm memory peak {memory / 2**20:.1f} MiB")
    assert 0 < memory < ISOLATE_BYTES
