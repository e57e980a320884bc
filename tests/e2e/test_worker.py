"""End to end: the real Worker under `wrangler dev`, fed by the official OpenTelemetry Python SDK
and hand-written OTLP/JSON and gzip bodies; the stored objects are read back from the local R2
bucket and checked with DuckDB, value by value."""
import gzip
import json
import logging
import time

import pytest
from conftest import Worker, json_body, local_config, parquet, query
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls
from opentelemetry.proto.metrics.v1 import metrics_pb2 as mp
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

N_LOGS = 250


def rpc_status(body: bytes):
    """Decodes a google.rpc.Status protobuf (code = field 1, message = field 2)."""
    i, code, msg = 0, None, None

    def varint():
        nonlocal i
        value, shift = 0, 0
        while True:
            b = body[i]; i += 1
            value |= (b & 0x7F) << shift; shift += 7
            if b < 0x80:
                return value

    while i < len(body):
        key = body[i]; i += 1
        if key == 0x08:
            code = varint()
        elif key == 0x12:
            n = varint()
            msg = body[i:i + n].decode(); i += n
        else:
            raise AssertionError(f"unexpected field {key}")
    return code, msg


def assert_alive(w):
    assert w.get("/")[0] == 200


@pytest.fixture(scope="module")
def sdk_data(worker, tmp_root):
    """Sends logs, traces and metrics through the SDK exporters once; returns what was sent."""
    res = Resource.create({"service.name": "e2e-svc", "deployment.environment.name": "test", "host.cpus": 8})

    tp = TracerProvider(resource=res)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{worker.url}/v1/traces")))
    tracer = tp.get_tracer("e2e.tracer", "0.1.0")

    lp = LoggerProvider(resource=res)
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{worker.url}/v1/logs")))
    log = logging.getLogger("e2e.logger")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=lp))

    with tracer.start_as_current_span("background", kind=SpanKind.INTERNAL) as other:
        pass
    with tracer.start_as_current_span(
        "GET /orders", kind=SpanKind.SERVER,
        attributes={"http.route": "/orders", "retries": 3, "ok": True, "ratio": 0.25, "tags": ["a", "b"]},
    ) as parent:
        parent.add_event("cache.miss", {"cache.key": "k1"})
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT,
                                          links=[Link(other.get_span_context(), {"link.kind": "follows"})]) as child:
            child.set_status(Status(StatusCode.ERROR, "db timeout"))
            for i in range(N_LOGS):
                log.warning("order %d failed", i, extra={"order.id": i, "amount": i * 1.5})
    tp.force_flush()
    lp.force_flush()

    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{worker.url}/v1/metrics"),
                                           export_interval_millis=3_600_000)
    mprov = MeterProvider(resource=res, metric_readers=[reader],
                          views=[View(instrument_name="e2e.size", aggregation=ExponentialBucketHistogramAggregation())])
    meter = mprov.get_meter("e2e.meter", "2.0")
    c = meter.create_counter("e2e.requests", unit="1")
    c.add(5, {"route": "/a"})
    c.add(2, {"route": "/b"})
    u = meter.create_up_down_counter("e2e.queue")
    u.add(10)
    u.add(-3)
    meter.create_gauge("e2e.temperature", unit="Cel").set(21.5, {"room": "lab"})
    h = meter.create_histogram("e2e.latency", unit="ms")
    for v in (1, 5, 50, 500):
        h.record(v)
    eh = meter.create_histogram("e2e.size", unit="By")
    for v in (0.5, 2, 8, 100):
        eh.record(v)
    mprov.shutdown()  # collects and exports once
    tp.shutdown()
    lp.shutdown()
    return {
        "trace_id": format(parent.get_span_context().trace_id, "032x"),
        "parent_id": format(parent.get_span_context().span_id, "016x"),
        "child_id": format(child.get_span_context().span_id, "016x"),
        "other_trace": format(other.get_span_context().trace_id, "032x"),
        "tree": worker.export_tree(tmp_root / "sdk-tree"),
    }


def test_sdk_logs_land_with_their_values(sdk_data):
    tree = sdk_data["tree"]
    rows = query(tree, f"""SELECT ServiceName, SeverityText, SeverityNumber, Body, LogAttributes['order.id'],
                                  LogAttributes['amount'], TraceId, SpanId, ScopeName, ResourceAttributes['host.cpus']
                           FROM {parquet(tree, 'otel_logs')} ORDER BY Timestamp""")
    assert len(rows) == N_LOGS
    for i, r in enumerate(rows):
        assert r[0] == "e2e-svc"
        assert (r[1], r[2]) == ("WARN", 13)
        assert r[3] == f"order {i} failed"
        assert r[4] == str(i)
        assert float(r[5]) == i * 1.5
        assert r[6] == sdk_data["trace_id"] and r[7] == sdk_data["child_id"]
        assert r[8] == "e2e.logger"
        assert r[9] == "8"
    # Maps hold their entries by key, as the ClickHouse exporter's do (the
    # SDK sends its resource's telemetry.sdk.* entries before service.name).
    keys = query(tree, f"SELECT DISTINCT map_keys(ResourceAttributes) FROM {parquet(tree, 'otel_logs')}")
    assert len(keys) == 1 and len(keys[0][0]) > 3, keys
    assert keys[0][0] == sorted(keys[0][0], key=lambda k: k.encode()), keys


def test_sdk_traces_land_with_their_values(sdk_data):
    tree = sdk_data["tree"]
    spans = {r[0]: r for r in query(tree, f"""
        SELECT SpanName, SpanKind, TraceId, SpanId, ParentSpanId, StatusCode, StatusMessage, Duration,
               SpanAttributes['retries'], SpanAttributes['ok'], SpanAttributes['ratio'], SpanAttributes['tags'],
               len(Events), Events[1].Name, Events[1].Attributes['cache.key'], len(Links), Links[1].TraceId,
               ScopeName, ScopeVersion, ServiceName
        FROM {parquet(tree, 'otel_traces')}""")}
    assert set(spans) == {"background", "GET /orders", "SELECT orders"}
    p, c = spans["GET /orders"], spans["SELECT orders"]
    assert p[1:5] == ("Server", sdk_data["trace_id"], sdk_data["parent_id"], "")
    assert p[8:12] == ("3", "true", "0.25", '["a","b"]')
    assert p[12:15] == (1, "cache.miss", "k1")
    assert c[1] == "Client" and c[4] == sdk_data["parent_id"] and c[3] == sdk_data["child_id"]
    assert c[5:7] == ("Error", "db timeout")
    assert c[15:17] == (1, sdk_data["other_trace"])
    assert p[7] >= c[7] > 0
    assert p[17:] == ("e2e.tracer", "0.1.0", "e2e-svc")
    assert spans["background"][5] == "Unset"


def test_sdk_metrics_land_in_all_four_sdk_kinds(sdk_data):
    tree = sdk_data["tree"]
    rows = query(tree, f"""
        SELECT MetricName, Attributes['route'], Value, IsMonotonic, AggregationTemporality, MetricUnit
        FROM {parquet(tree, 'otel_metrics_sum')}""")
    assert len(rows) == 3, rows
    sums = {(r[0], r[1]): r[2:] for r in rows}
    assert sums[("e2e.requests", "/a")] == (5.0, True, 2, "1")
    assert sums[("e2e.requests", "/b")] == (2.0, True, 2, "1")
    assert sums[("e2e.queue", None)][:2] == (7.0, False)
    gauge = query(tree, f"SELECT MetricName, Value, Attributes['room'], MetricUnit FROM {parquet(tree, 'otel_metrics_gauge')}")
    assert gauge == [("e2e.temperature", 21.5, "lab", "Cel")]
    hist = query(tree, f"""SELECT MetricName, Count, Sum, Min, Max, len(BucketCounts), len(ExplicitBounds), list_sum(BucketCounts)
                          FROM {parquet(tree, 'otel_metrics_histogram')}""")
    assert hist[0][:5] == ("e2e.latency", 4, 556.0, 1.0, 500.0)
    assert hist[0][5] == hist[0][6] + 1 and hist[0][7] == 4
    exp = query(tree, f"""SELECT MetricName, Count, Sum, Scale, ZeroCount, list_sum(PositiveBucketCounts), ServiceName, ScopeName
                         FROM {parquet(tree, 'otel_metrics_exponential_histogram')}""")
    assert exp[0][:3] == ("e2e.size", 4, 110.5)
    assert exp[0][4] + exp[0][5] == 4
    assert exp[0][6:] == ("e2e-svc", "e2e.meter")


def summary_request(name="e2e.summary"):
    req = ms.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    kv = rm.resource.attributes.add(); kv.key = "service.name"; kv.value.string_value = "raw-svc"
    m = rm.scope_metrics.add().metrics.add()
    m.name = name
    dp = m.summary.data_points.add()
    dp.time_unix_nano = int(time.time() * 1e9)
    dp.count, dp.sum = 10, 42.0
    for q, v in ((0.5, 3.0), (0.99, 9.0)):
        qv = dp.quantile_values.add(); qv.quantile, qv.value = q, v
    return req.SerializeToString()


def test_summary_by_raw_protobuf_and_gzip(worker, tmp_root):
    assert worker.post("/v1/metrics", summary_request())[0] == 200
    assert worker.post("/v1/metrics", summary_request("e2e.summary.gz"), gz=True)[0] == 200
    tree = worker.export_tree(tmp_root / "summary-tree")
    rows = query(tree, f"""SELECT MetricName, Count, Sum, ValueAtQuantiles[2].Quantile, ValueAtQuantiles[2].Value, ServiceName
                          FROM {parquet(tree, 'otel_metrics_summary')} ORDER BY MetricName""")
    assert rows == [("e2e.summary", 10, 42.0, 0.99, 9.0, "raw-svc"), ("e2e.summary.gz", 10, 42.0, 0.99, 9.0, "raw-svc")]


def test_handwritten_json_and_partial_success(worker, tmp_root):
    now = str(int(time.time() * 1e9))
    logs = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
             "scopeLogs": [{"scope": {"name": "json.scope"}, "logRecords": [
                 {"timeUnixNano": now, "severityNumber": "SEVERITY_NUMBER_ERROR", "severityText": "ERROR",
                  "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
                  "body": {"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "hi"}},
                                                      {"key": "n", "value": {"intValue": "7"}}]}},
                  "attributes": [{"key": "blob", "value": {"bytesValue": "aGVsbG8="}}]}]}]}]}
    status, headers, body = worker.post("/v1/logs", json_body(logs), "application/json; charset=utf-8")
    assert status == 200 and headers["Content-Type"].startswith("application/json") and json.loads(body) == {}
    status, _, _ = worker.post("/v1/logs", json_body(logs), "application/json", gz=True)
    assert status == 200

    traces = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
               "scopeSpans": [{"spans": [{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708",
                                          "name": "json-span", "kind": 2, "startTimeUnixNano": now,
                                          "endTimeUnixNano": str(int(now) + 1500), "status": {"code": "STATUS_CODE_OK"}}]}]}]}
    assert worker.post("/v1/traces", json_body(traces), "application/json")[0] == 200

    metrics = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "json.gauge", "gauge": {"dataPoints": [{"timeUnixNano": now, "asInt": "12"}]}},
        {"name": "json.empty", "sum": {"dataPoints": []}}]}]}]}
    status, _, body = worker.post("/v1/metrics", json_body(metrics), "application/json")
    assert status == 200
    ps = json.loads(body)["partialSuccess"]
    # An empty metric holds no data point: a warning, not a rejected point.
    assert ps.get("rejectedDataPoints", "0") in ("0", 0) and "json.empty" in ps["errorMessage"]

    tree = worker.export_tree(tmp_root / "json-tree")
    assert query(tree, f"""SELECT Body, TraceId, SpanId, SeverityNumber, LogAttributes['blob'], ScopeName, count(*)
                           FROM {parquet(tree, 'otel_logs')} WHERE ServiceName = 'json-svc' GROUP BY ALL""") == [
        ('{"msg":"hi","n":7}', "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", 17, "aGVsbG8=", "json.scope", 1)]
    assert query(tree, f"SELECT SpanKind, StatusCode, Duration FROM {parquet(tree, 'otel_traces')} WHERE SpanName = 'json-span'") == [
        ("Server", "Ok", 1500)]
    assert query(tree, f"SELECT Value FROM {parquet(tree, 'otel_metrics_gauge')} WHERE MetricName = 'json.gauge'") == [(12.0,)]


def test_retried_request_does_not_duplicate(worker, tmp_root):
    req = ls.ExportLogsServiceRequest()
    rec = req.resource_logs.add().scope_logs.add().log_records.add()
    rec.time_unix_nano = int(time.time() * 1e9)
    rec.body.string_value = "retry me"
    body = req.SerializeToString()
    assert worker.post("/v1/logs", body)[0] == 200
    before = worker.objects()
    assert worker.post("/v1/logs", body)[0] == 200
    assert worker.post("/v1/logs", body, gz=True)[0] == 200
    after = worker.objects()
    assert set(after) == set(before)
    tree = worker.export_tree(tmp_root / "retry-tree")
    assert query(tree, f"SELECT count(*) FROM {parquet(tree, 'otel_logs')} WHERE Body = 'retry me'") == [(1,)]


@pytest.mark.parametrize("case", [
    ("garbage protobuf", "POST", "/v1/logs", b"\xff\xff\xff\xff", {"Content-Type": "application/x-protobuf"}, 400, "protobuf"),
    ("truncated protobuf", "POST", "/v1/traces", b"\x0a\x10\x12", {"Content-Type": "application/x-protobuf"}, 400, "protobuf"),
    ("invalid JSON", "POST", "/v1/logs", b"{\"resourceLogs\": [", {"Content-Type": "application/json"}, 400, "json"),
    ("bad hex id", "POST", "/v1/traces", b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}',
     {"Content-Type": "application/json"}, 400, "json"),
    ("not gzip", "POST", "/v1/logs", b"plain", {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}, 400, "protobuf"),
    ("unsupported type", "POST", "/v1/logs", b"x", {"Content-Type": "text/plain"}, 415, "json"),
    ("unsupported encoding", "POST", "/v1/logs", b"x", {"Content-Type": "application/json", "Content-Encoding": "br"}, 415, "json"),
    ("too large", "POST", "/v1/logs", b"\x00" * (8 * 1024 * 1024 + 1), {"Content-Type": "application/x-protobuf"}, 413, "protobuf"),
    ("gzip bomb", "POST", "/v1/logs", gzip.compress(b"\x00" * (20 * 1024 * 1024)),
     {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}, 413, "protobuf"),
    ("wrong method", "GET", "/v1/logs", None, {}, 405, "json"),
    ("unknown path", "POST", "/v1/profiles", b"", {"Content-Type": "application/x-protobuf"}, 404, "protobuf"),
], ids=lambda c: c[0])
def test_bad_requests_get_clear_errors(worker, case):
    _, method, path, body, headers, want, encoding = case
    status, h, resp = worker.request(method, path, body, headers)
    assert status == want, resp
    if encoding == "json":
        assert h["Content-Type"] == "application/json"
        err = json.loads(resp)
        assert err["message"] and isinstance(err["code"], int)
    else:
        assert h["Content-Type"] == "application/x-protobuf"
        code, msg = rpc_status(resp)
        assert code and msg
    if want == 405:
        assert h["Allow"] == "POST"
    assert_alive(worker)


def test_bearer_token_is_required_when_configured(authed_worker):
    body = summary_request("auth.summary")
    assert authed_worker.post("/v1/metrics", body)[0] == 401
    assert authed_worker.post("/v1/metrics", body, headers={"Authorization": "Bearer nope"})[0] == 401
    assert authed_worker.post("/v1/metrics", body, headers={"Authorization": "Bearer e2e-secret-token"})[0] == 200
    assert_alive(authed_worker)


def largest_logs_request(limit=8 * 1024 * 1024):
    """A realistic protobuf logs request just under `limit` bytes; returns (body, records)."""
    req = ls.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add(); kv.key = "service.name"; kv.value.string_value = "big-svc"
    sl = rl.scope_logs.add()
    sl.scope.name = "big.scope"
    t0 = int(time.time() * 1e9)
    template = ls.ExportLogsServiceRequest()
    rec = template.resource_logs.add().scope_logs.add().log_records.add()
    rec.time_unix_nano = t0
    rec.body.string_value = "x" * 240
    per = len(template.SerializeToString())
    n = (limit - 1024) // (per - 4)
    for i in range(n):
        r = sl.log_records.add()
        r.time_unix_nano = t0 + i
        r.severity_number = 9
        r.body.string_value = f"{i:08d} " + "payload " * 29
        a = r.attributes.add(); a.key = "i"; a.value.int_value = i
    body = req.SerializeToString()
    while len(body) >= limit:
        del sl.log_records[-1]
        body = req.SerializeToString()
    return body, len(sl.log_records)


def test_largest_accepted_request_fits(worker, tmp_root):
    body, n = largest_logs_request()
    assert 8 * 1024 * 1024 - 4096 < len(body) < 8 * 1024 * 1024
    status, _, resp = worker.post("/v1/logs", body)
    assert status == 200, resp
    status, _, resp = worker.post("/v1/logs", body, gz=True)  # inflates to the same 8 MiB: accepted, same keys
    assert status == 200, resp
    tree = worker.export_tree(tmp_root / "big-tree")
    assert query(tree, f"SELECT count(*), count(DISTINCT Body) FROM {parquet(tree, 'otel_logs')} WHERE ServiceName = 'big-svc'") == [(n, n)]
    assert_alive(worker)


def test_storage_failure_is_503_with_retry_after(bucketless_worker):
    status, headers, body = bucketless_worker.post("/v1/metrics", summary_request("no.bucket"))
    assert status == 503
    assert headers["Retry-After"] == "5"
    code, msg = rpc_status(body)
    assert code == 14 and "retry" in msg  # UNAVAILABLE
    assert_alive(bucketless_worker)


def test_a_setting_written_as_a_toml_number_is_read(tmp_root):
    """`MAX_BODY_BYTES = 1000` (a TOML number, which wrangler passes as JSON, not a string) is
    the limit; it was taken for an unset setting and replaced by the 8 MiB default. Likewise
    `AUTH_TOKEN = 123456789`: read as a secret (strings only), it was taken for no token and
    auth was off. A 401 names the scheme to use."""
    path = local_config(tmp_root, "toml-number", toml_vars={"MAX_BODY_BYTES": "1000"})
    path.write_text(path.read_text().replace("[vars]\n", "[vars]\nAUTH_TOKEN = 123456789\n", 1))
    w = Worker(tmp_root, config=path)
    authed = {"Authorization": "Bearer 123456789"}
    try:
        small = summary_request("toml.small")
        assert len(small) < 1000
        status, headers, _ = w.post("/v1/metrics", small)
        assert status == 401, status
        assert {k.lower(): v for k, v in headers.items()}.get("www-authenticate") == "Bearer"
        assert w.post("/v1/metrics", small, headers=authed)[0] == 200
        status, _, body = w.post("/v1/metrics", small + b"\x00" * 1000, headers=authed)
        code, msg = rpc_status(body)
        assert status == 413 and "1000" in msg, (status, msg)
    finally:
        w.stop()
