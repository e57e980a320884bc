#!/usr/bin/env python3
"""Writes OTLP logs requests (protobuf) whose values are as large as a request allows.

usage: .venv/bin/python scripts/wide_value_logs.py OUT_DIR [REQUESTS [VALUE_BYTES [WHERE [SMALL
       [SERVICES]]]]]
       (defaults: 6 requests, 8,000,000-byte values, WHERE `body`; `attr` puts the value in a
       log attribute instead, `both` alternates; 20 small records a request; 3 services)

Each request holds one record of VALUE_BYTES random letters (Snappy cannot shrink them) and SMALL
records of 300 letters, request i at minute i of the hour 2024-05-01 12:00 UTC (so up to 60
requests share one partition), of SERVICES services taking turns so that a merge interleaves
them (with SMALL 0 and SERVICES 1 the wide rows end up next to each other once merged).
The default value makes a request of 8,006,471 bytes, just under `MAX_BODY_BYTES` (8 MiB,
8,388,608): about the widest row a partition can hold. For the compaction memory bound (docs/performance.md, "Values at the
request limit"): convert each file with `otlp2r2 convert --signal logs F --out DUMP/<name>`,
then `python3 scripts/bench_worker.py --compact DUMP BUILD_DIR`. Needs the OpenTelemetry
protobuf package (`make py-tools`).
"""
import random
import string
import sys
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

HOUR_NS = 1_714_564_800_000_000_000  # 2024-05-01T12:00:00Z


def letters(rng, n):
    return "".join(rng.choices(string.ascii_letters, k=n))


def request(i, value_bytes, where, small, services, rng):
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=f"svc-{i % services}")))
    sl = rl.scope_logs.add()
    sl.scope.name = "wide"
    base = HOUR_NS + i * 60_000_000_000
    for j in range(small):
        r = sl.log_records.add()
        r.time_unix_nano = base + j * 1000
        r.severity_number = 9
        r.body.string_value = letters(rng, 300)
    r = sl.log_records.add()
    r.time_unix_nano = base + 500
    r.severity_number = 17
    value = AnyValue(string_value=letters(rng, value_bytes))
    if where == "body" or (where == "both" and i % 2 == 0):
        r.body.CopyFrom(value)
    else:
        r.body.string_value = "wide attribute"
        r.attributes.append(KeyValue(key="payload", value=value))
    return req.SerializeToString()


def main():
    out = Path(sys.argv[1])
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    value_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 8_000_000
    where = sys.argv[4] if len(sys.argv) > 4 else "body"
    small = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    services = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    if where not in ("body", "attr", "both"):
        sys.exit(f"WHERE must be body, attr or both, not {where!r}")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for i in range(requests):
        body = request(i, value_bytes, where, small, services, rng)
        (out / f"wide-{i:03}.pb").write_bytes(body)
        print(f"{out / f'wide-{i:03}.pb'}: {len(body):,} bytes")


if __name__ == "__main__":
    main()
