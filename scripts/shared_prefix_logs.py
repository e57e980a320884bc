#!/usr/bin/env python3
"""Writes an OTLP logs request (protobuf) whose records' attribute keys share eight-byte prefixes.

usage: .venv/bin/python scripts/shared_prefix_logs.py OUT.pb [RECORDS]   (default 8,192)

Each record carries eight attributes, as semantic conventions name them and out of key order:
`k8s.pod.name` / `k8s.pod.uid`, `exception.type` / `exception.message`,
`http.request.header.*` and `http.request.method` share their first eight bytes, where
`render::KeyOrder` compares keys first. For the notebook's measurement of that order's cache
(docs/performance.md): `valgrind --tool=callgrind target/release/otlp2r2 convert --signal logs
OUT.pb --out DIR`, one binary before and one after. Needs the OpenTelemetry protobuf package
(`make py-tools`).
"""
import sys

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

KEYS = [
    "http.request.method", "k8s.pod.name", "k8s.pod.uid", "exception.type", "exception.message",
    "http.request.header.user_agent", "http.request.header.accept", "k8s.namespace.name",
]


def main():
    out, records = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="checkout")))
    sl = rl.scope_logs.add()
    sl.scope.name = "app"
    for i in range(records):
        r = sl.log_records.add()
        r.time_unix_nano = 1_714_564_800_000_000_000 + i * 1000
        r.severity_number = 9
        r.body.string_value = f"request {i} failed"
        for k in KEYS:
            r.attributes.append(KeyValue(key=k, value=AnyValue(string_value=f"{k[:4]}-{i % 37}")))
    with open(out, "wb") as f:
        f.write(req.SerializeToString())


if __name__ == "__main__":
    main()
