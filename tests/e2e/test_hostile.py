"""Hostile input sent to the real Worker under `wrangler dev`: gzip bombs, deep nesting, absurd
lengths, a million attributes, wrong types, a BOM, mixed encodings, lying Content-Lengths.

Every request is refused with a 4xx whose body is a google.rpc.Status in the request's encoding
with a clear message, nothing is written to the bucket, and the Worker still answers GET / with 200
afterwards. (Duplicate and unknown fields that the protobuf and proto3 JSON specs allow are not
hostile: the last test sends those and checks they are accepted, exactly as the specs say, even
an unknown JSON key nested 100,000 arrays deep.)
"""
import gzip
import http.client
import json
import socket
import time
import zlib

import pytest
from conftest import own_worker, parquet, query

worker = own_worker("hostile", "Its bucket must hold only what these requests wrote.")
stack_worker = own_worker(
    "hostile-stack",
    "For the lying Content-Lengths: they leave wrangler dev's local HTTP stack (not the Worker) "
    "in a state where a later streamed body can see 'Network connection lost'. Its bodies "
    "have 3 s to arrive instead of 30.",
    toml_vars={"BODY_TIMEOUT_SECS": "3"})
chunked_worker = own_worker(
    "hostile-chunked",
    "For the chunked body past the limit, which can make wrangler dev's own proxy exit.")
from test_worker import rpc_status

GIB = 1 << 30
MIB = 1 << 20


# ---- building bodies --------------------------------------------------------------------------

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def logs_pb(record: bytes) -> bytes:
    """ExportLogsServiceRequest{resource_logs{scope_logs{log_records: record}}}."""
    return field(1, field(2, field(2, record)))


def logs_json(record: str) -> bytes:
    return ('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{' + record + '}]}]}]}').encode()


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes as one gzip member, compressed in 1 MiB steps (never all in memory)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    parts = [z.compress(zeros) for _ in range(size // MIB)]
    parts.append(z.flush())
    return b"".join(parts)


def deep_pb(levels: int) -> bytes:
    """A LogRecord body: `levels` AnyValue{kvlist_value{values[KeyValue{key, value}]}} deep."""
    value = b"\x18\x01"  # AnyValue{int_value: 1}
    for _ in range(levels):
        kv = field(1, b"k") + field(2, value)        # KeyValue{key, value}
        value = field(6, field(1, kv))               # AnyValue{kvlist_value{values: [kv]}}
    return field(5, value)                           # LogRecord.body


def deep_json(levels: int) -> str:
    head = '{"kvlistValue":{"values":[{"key":"k","value":'
    return '"body":' + head * levels + '{"intValue":"1"}' + "}]}}" * levels


PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
GZ = {"Content-Encoding": "gzip"}

BOMB = gzip_bomb(GIB)


# ---- the corpus: (name, path, body, headers, status, a word the message must contain) ---------

def corpus():
    million_attrs_pb = logs_pb(b"\x32\x00" * 1_000_000)  # LogRecord.attributes: empty KeyValues
    million_attrs_json = logs_json('"attributes":[' + ",".join(["{}"] * 1_000_000) + "]")
    near_2_64 = b"\xff" * 9 + b"\x01"  # a varint of 2^64 - 1
    return [
        # gzip bombs
        ("1 GiB gzip bomb, protobuf", "/v1/logs", BOMB, {**PB, **GZ}, 413, "inflates past"),
        ("1 GiB gzip bomb, JSON", "/v1/traces", BOMB, {**JS, **GZ}, 413, "inflates past"),
        ("bomb of many small gzip members", "/v1/logs", gzip_bomb(4 * MIB) * 4, {**PB, **GZ}, 413,
         "inflates past"),
        # nesting
        ("kvlistValue 5,000 deep, protobuf", "/v1/logs", logs_pb(deep_pb(5000)), PB, 400, "deeper than 16"),
        ("kvlistValue 5,000 deep, JSON", "/v1/logs", logs_json(deep_json(5000)), JS, 400, "deeper than 16"),
        ("unknown protobuf groups 10,000 deep", "/v1/logs", b"\x7b" * 10_000 + b"\x7c" * 10_000, PB, 400,
         "deeper than 16"),
        # lengths
        ("length varint 2^64 - 1", "/v1/logs", b"\x0a" + near_2_64, PB, 400, "runs past the end"),
        ("length varint of 11 bytes", "/v1/logs", b"\x0a" + b"\xff" * 10 + b"\x01", PB, 400, "varint"),
        ("string declared 2^62 bytes", "/v1/logs", logs_pb(b"\x1a" + varint(1 << 62) + b"abc"), PB, 400,
         "runs past the end"),
        ("record declared 2^31 bytes", "/v1/traces", field(1, field(2, b"\x12" + varint(1 << 31))), PB, 400,
         "runs past the end"),
        ("a million empty attributes, protobuf", "/v1/logs", million_attrs_pb, PB, 413, "bytes of records"),
        ("a million empty attributes, JSON", "/v1/logs", million_attrs_json, JS, 413, "bytes of records"),
        # duplicate and unknown fields that are wrong
        ("unknown protobuf field, wire type 7", "/v1/logs", logs_pb(b"\xff\x01\x00"), PB, 400, "protobuf"),
        ("unknown protobuf field, group never closed", "/v1/logs", logs_pb(b"\x7b\x08\x01"), PB, 400,
         "not closed"),
        ("unknown protobuf field running past the end", "/v1/logs", logs_pb(b"\x7a\x7f"), PB, 400,
         "runs past the end"),
        ("field number 0", "/v1/logs", b"\x02\x00", PB, 400, "field number"),
        ("a second body, malformed", "/v1/logs", logs_pb(field(5, b"\x0a\x01a") + field(5, b"\x0a\x05a")), PB,
         400, "runs past the end"),
        ("duplicate resourceLogs key, second a string", "/v1/logs",
         b'{"resourceLogs":[],"resourceLogs":"x"}', JS, 400, "invalid type: string"),
        ("duplicate traceId, second invalid", "/v1/traces",
         b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
         b'"traceId":"nope"}]}]}]}', JS, 400, "16-byte id"),
        # wrong JSON types
        ("resourceLogs as a string", "/v1/logs", b'{"resourceLogs":"x"}', JS, 400, "invalid type: string"),
        ("top level an array", "/v1/logs", b"[]", JS, 400, "invalid type: sequence"),
        ("top level a number", "/v1/metrics", b"42", JS, 400, "invalid type: integer"),
        ("timeUnixNano as a bool", "/v1/logs", logs_json('"timeUnixNano":true'), JS, 400, "invalid type: boolean"),
        ("body as a string", "/v1/logs", logs_json('"body":"x"'), JS, 400, "invalid type: string"),
        ("attributes as an object", "/v1/logs", logs_json('"attributes":{}'), JS, 400, "invalid type: map"),
        ("intValue as a float", "/v1/logs", logs_json('"body":{"intValue":1.5}'), JS, 400, "not a valid i64"),
        ("severityNumber unknown name", "/v1/logs", logs_json('"severityNumber":"LOUD"'), JS, 400,
         "unknown enum name"),
        ("span kind out of range", "/v1/traces",
         b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":4294967296}]}]}]}', JS, 400, "int32 range"),
        ("bucketCounts of strings", "/v1/metrics",
         b'{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"bucketCounts":'
         b'["x"]}]}}]}]}]}', JS, 400, "not a valid u64"),
        # a byte order mark
        ("UTF-8 BOM before JSON", "/v1/logs", b"\xef\xbb\xbf" + logs_json('"severityText":"x"'), JS, 400,
         "line 1 column 1"),
        ("UTF-8 BOM before protobuf", "/v1/logs", b"\xef\xbb\xbf" + logs_pb(b""), PB, 400, "protobuf"),
        # mixed encodings
        ("JSON declared as protobuf", "/v1/logs", logs_json('"severityText":"x"'), PB, 400, "protobuf"),
        ("protobuf declared as JSON", "/v1/logs", logs_pb(field(3, b"x")), JS, 400, "OTLP/JSON"),
        ("gzip JSON declared as protobuf", "/v1/logs", gzip.compress(logs_json('"severityText":"x"')),
         {**PB, **GZ}, 400, "protobuf"),
        ("plain body declared gzip", "/v1/logs", logs_pb(field(3, b"x")), {**PB, **GZ}, 400, "gzip"),
        # A LogRecord's fixed64 time read as a Metric's name (field 1, a string): wrong wire type.
        ("logs protobuf sent to /v1/metrics", "/v1/metrics", logs_pb(b"\x09" + bytes(8)), PB, 400,
         "wire type"),
    ]


def assert_alive(worker):
    """GET / answers 200; otherwise fails with the end of wrangler's log."""
    try:
        status = worker.get("/")[0]
    except OSError as e:
        status = e
    if status != 200:
        tail = open(worker.log.name, encoding="utf-8", errors="replace").read()[-4000:]
        raise AssertionError(f"the Worker stopped answering ({status}):\n{tail}")


def refused(worker, path, body, headers, status, says):
    """Sends one request; checks the 4xx, its google.rpc.Status, the bucket, and that the Worker lives."""
    before = set(worker.objects())
    start = time.monotonic()
    got, h, resp = worker.request("POST", path, body, headers)
    took = time.monotonic() - start
    assert got == status, (got, resp[:300])
    if headers["Content-Type"] == "application/json":
        assert h["Content-Type"] == "application/json"
        err = json.loads(resp)
        code, msg = err["code"], err["message"]
    else:
        assert h["Content-Type"] == "application/x-protobuf"
        code, msg = rpc_status(resp)
    assert code and msg, resp
    assert says in msg, msg
    assert set(worker.objects()) == before, "something was written"
    assert_alive(worker)
    return msg, took


@pytest.mark.parametrize("case", corpus(), ids=lambda c: c[0])
def test_hostile_request_is_refused_cleanly(worker, case):
    name, path, body, headers, status, says = case
    msg, took = refused(worker, path, body, headers, status, says)
    print(f"{name}: {len(body)} bytes -> {status} in {took * 1000:.0f} ms: {msg}")


def test_the_bomb_is_a_gibibyte_from_under_a_mebibyte():
    """The corpus's bomb is what it claims: under 1 MiB on the wire, 1 GiB inflated."""
    assert len(BOMB) < MIB
    d = zlib.decompressobj(31)
    total, data = 0, BOMB
    while data:
        total += len(d.decompress(data, 64 * MIB))
        data = d.unconsumed_tail
    assert total == GIB


# ---- lying Content-Lengths ---------------------------------------------------------------------
#
# Here the local HTTP stack in front of the Worker has its own say, which a test cannot change:
# - wrangler dev wraps the Worker in a middleware that drains an unread request body after the
#   Worker answered; when the client never sends the declared bytes, the drain waits (the client
#   sees nothing) or fails, and wrangler answers 503 "Your worker restarted mid-request"
#   (WRANGLER_DRAIN) in place of the Worker's 4xx;
# - workerd's HTTP parser answers a Content-Length that is not a number with a bare 500
#   "Internal Server Error" (WORKERD_BAD_LENGTH) without calling the Worker.
# So these tests check the Worker's own answer in its log line (a 4xx, or not called at all),
# accept only those two known answers of the stack besides a 4xx or a closed connection, and
# check that nothing is written and the Worker keeps answering.

WRANGLER_DRAIN = b"Your worker restarted mid-request"
WORKERD_BAD_LENGTH = b"Internal Server Error"


def raw(worker, request: bytes, close_write=True, timeout=10):
    """Sends raw bytes on one connection; returns (status, response bytes) of the first response,
    status None when the connection closed, was reset or timed out without one."""
    s = socket.create_connection(("127.0.0.1", worker.port), timeout=timeout)
    data = b""
    try:
        s.sendall(request)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    finally:
        s.close()
    if not data.startswith(b"HTTP/1."):
        return None, data
    return int(data.split(b" ", 2)[1]), data


def head(path, length, content_type="application/x-protobuf"):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


def log_lines(worker):
    """The Worker's own log lines (one JSON object per request) so far."""
    lines = []
    for line in open(worker.log.name, encoding="utf-8", errors="replace"):
        line = line.strip()
        if line.startswith("{") and '"otlp2r2 request"' in line:
            lines.append(json.loads(line))
    return lines


def worker_answers(worker, before, settle=2.0):
    """The statuses the Worker logged for export requests since `before` lines."""
    time.sleep(settle)
    return [line["status"] for line in log_lines(worker)[before:] if line["signal"]]


def stack_answer_ok(status, data, worker_statuses):
    """A 4xx, a closed connection, or one of the stack's two known answers (see above)."""
    if status is None or 400 <= status < 500:
        return True
    if status == 503 and WRANGLER_DRAIN in data:
        return bool(worker_statuses) and all(400 <= s < 500 for s in worker_statuses)
    if status == 500 and data.endswith(WORKERD_BAD_LENGTH):
        return not worker_statuses
    return False


# The Worker's answer to a body it could not read whole (cut short, or not there): the transport's
# failure, which exporters retry with the data they kept.
UNREAD = 503


def lying_length(worker, request, close_write=True, unread_ok=False):
    """Sends `request` raw; the Worker answers a 4xx (or, with `unread_ok`, UNREAD), the client
    sees that or one of the stack's known answers, nothing is stored, the Worker still answers."""
    objects, lines = set(worker.objects()), len(log_lines(worker))
    status, data = raw(worker, request, close_write)
    answers = worker_answers(worker, lines)
    allowed = lambda s: 400 <= s < 500 or (unread_ok and s == UNREAD)  # noqa: E731
    assert all(allowed(s) for s in answers), answers
    unread = unread_ok and answers == [UNREAD] and status in (None, UNREAD)
    assert unread or stack_answer_ok(status, data, answers), (status, data[:300], answers)
    assert set(worker.objects()) == objects
    assert_alive(worker)
    return status, answers


def test_declared_length_over_the_limit_with_a_small_body(stack_worker):
    """Content-Length says 100 MiB, 10 bytes follow and the connection stays open: the Worker
    answers 413 at once, before reading (it logs no body bytes)."""
    lines = len(log_lines(stack_worker))
    status, answers = lying_length(stack_worker, head("/v1/logs", 100 * MIB) + b"\x00" * 10, close_write=False)
    assert answers == [413], answers
    assert log_lines(stack_worker)[lines]["bytes_in"] == 0


def test_declared_length_larger_than_the_body(stack_worker):
    """Content-Length says 1,000, 10 bytes follow, then the client stops sending: the Worker
    answers 503 (the body could not be read: the transport's failure, which exporters retry)."""
    status, answers = lying_length(
        stack_worker, head("/v1/logs", 1000) + b"\x0a\x05" + b"x" * 8, unread_ok=True)
    assert answers == [UNREAD], answers


def test_a_body_that_stops_arriving_is_cut_off_at_its_deadline(stack_worker):
    """Content-Length says 1,000, 10 bytes follow, then the client waits with the connection
    open: the Worker answers 503 with Retry-After when the body's deadline passes
    (`BODY_TIMEOUT_SECS`, 3 s for this Worker), instead of holding the request, and its share of
    the memory budget, until the client goes away. (wrangler dev then keeps the connection open: the answer is timed to its
    status line.)"""
    worker = stack_worker
    objects, lines = set(worker.objects()), len(log_lines(worker))
    started = time.monotonic()
    s = socket.create_connection(("127.0.0.1", worker.port), timeout=20)
    data = b""
    try:
        s.sendall(head("/v1/logs", 1000) + b"\x0a\x05" + b"x" * 8)
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        waited = time.monotonic() - started
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 503 "), data[:200]
    assert 3 <= waited < 8, waited
    assert worker_answers(worker, lines) == [503]
    line = log_lines(worker)[lines]
    assert line["error"] == "the request body did not arrive within 3 s; nothing was stored, retry", line
    assert set(worker.objects()) == objects
    assert_alive(worker)


def test_declared_length_smaller_than_the_body(stack_worker):
    """Content-Length says 10, 1,000 bytes follow: the Worker sees the 10 bytes, a truncated
    message (400); the rest is not a request of the Worker's."""
    status, answers = lying_length(stack_worker, head("/v1/logs", 10) + logs_pb(field(3, b"x" * 990)))
    assert status == 400 and answers == [400], (status, answers)


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "99999999999999999999999"])
def test_unparsable_content_length(stack_worker, value):
    """A Content-Length that is not a length: refused by the stack or by the Worker (a 4xx, or
    UNREAD when the stack passes it on and the body cannot be read), never stored."""
    lying_length(stack_worker, head("/v1/logs", value) + b"\x00" * 10, unread_ok=True)


# When the Worker stops reading a streamed body at its limit, it cancels the stream (the runtime
# stops receiving it). wrangler dev's own proxy, which is still piping the client's upload into
# the Worker, then sometimes loses that connection: the next request gets a 500 "Network
# connection lost" from miniflare's entry worker, not from the Worker (which logged its 413 and
# logs nothing for that request), and wrangler exits (2026-12-01: about one run of this test in
# seven, with this build and with the one before). Neither the Worker nor the production runtime
# is involved, so the test accepts exactly that failure of the local stack and nothing else.
PROXY_LOST = b"Network connection lost"


def wrangler_proxy_lost_the_worker(worker, status, body) -> bool:
    """The answer is the proxy's 500 "Network connection lost", and wrangler exits after it."""
    if status != 500 or PROXY_LOST not in body or b"miniflare" not in body:
        return False
    deadline = time.time() + 15
    while worker.proc.poll() is None:
        if time.time() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_chunked_body_past_the_limit(chunked_worker):
    """No Content-Length, a chunked 12 MiB body: the Worker cuts it at the 8 MiB limit with a 413
    (its own log line says so) and writes nothing. The client sees that 413, a closed connection
    while it still sends, or one of the stack's known answers; then the Worker keeps answering,
    unless wrangler's proxy lost it over the cancelled upload (above)."""
    worker = chunked_worker
    before, lines = set(worker.objects()), len(log_lines(worker))

    def chunks():
        for _ in range(12):
            yield b"\x00" * MIB

    conn = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=60)
    status, data = None, b""
    try:
        conn.request("POST", "/v1/logs", body=chunks(), headers=PB, encode_chunked=True)
        resp = conn.getresponse()
        status, data = resp.status, resp.read()
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        pass
    finally:
        conn.close()
    answers = worker_answers(worker, lines)
    assert answers == [413], answers
    assert stack_answer_ok(status, data, answers), (status, data[:300], answers)
    assert set(worker.objects()) == before
    # The first request after the cancelled upload is the one that can find the proxy broken.
    status, _, body = worker.get("/")
    if not wrangler_proxy_lost_the_worker(worker, status, body):
        assert status == 200, (status, body[:300])


# ---- what the specs allow is not hostile --------------------------------------------------------

def test_allowed_duplicate_and_unknown_fields_are_accepted(worker, tmp_root):
    """Protobuf: a repeated scalar field keeps its last value and unknown fields (every wire type)
    are skipped; JSON: unknown keys are ignored. Such requests are valid: they land (200), with
    the last of the duplicated values."""
    now = int(time.time() * 1e9)
    fixed = lambda n, v: varint(n << 3 | 1) + v.to_bytes(8, "little")  # noqa: E731
    record = (fixed(1, now - 1) + fixed(1, now)              # time_unix_nano twice: the last wins
              + field(3, b"first") + field(3, b"hostile-dup")  # severity_text twice
              + varint(99 << 3 | 0) + varint(7)                # unknown varint
              + varint(98 << 3 | 5) + b"\x00" * 4              # unknown fixed32
              + varint(97 << 3 | 3) + varint(96 << 3 | 0) + b"\x01" + varint(97 << 3 | 4))  # group
    status, _, _ = worker.request("POST", "/v1/logs", logs_pb(record), PB)
    assert status == 200
    # An unknown JSON key whose value nests 100,000 arrays deep is skipped (serde_json skips
    # without recursing) and the request, without records, writes nothing.
    before = set(worker.objects())
    deep = b'{"resourceLogs":[{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}]}"
    assert worker.request("POST", "/v1/logs", deep, JS)[0] == 200
    assert set(worker.objects()) == before
    body = logs_json(f'"timeUnixNano":"{now}","severityText":"hostile-json","unknownKey":{{"deep":[1,[2]]}}')
    status, _, _ = worker.request("POST", "/v1/logs", body, JS)
    assert status == 200
    tree = worker.export_tree(tmp_root / "hostile-allowed")
    rows = query(tree, f"SELECT SeverityText, epoch_ns(Timestamp) FROM {parquet(tree, 'otel_logs')} "
                       "WHERE SeverityText IN ('first', 'hostile-dup', 'hostile-json') ORDER BY 1")
    assert rows == [("hostile-dup", now), ("hostile-json", now)]
