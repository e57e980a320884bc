"""Compaction end to end: the Worker under `wrangler dev` (workerd, local R2, miniflare's queue).

Small requests whose rows lie in an hour that closed more than the grace period ago go in
through the OTLP endpoint; the Cron Trigger runs through wrangler's scheduled-test endpoint,
sends a queue message per partition, and the queue consumer compacts them. The bucket then
holds one file per partition with every row, and DuckDB reads them in sort order; pyarrow reads
every value of every column exactly as in the small files.
"""
import json
import subprocess
import sys
import time

import pytest
from conftest import ROOT, Worker, local_config, parquet, query

HOUR_NS = 3_600_000_000_000


def logs_body(service, uids, t0):
    recs = [{"timeUnixNano": str(t0 + i * 1_000_000), "body": {"stringValue": u}} for i, u in enumerate(uids)]
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return json.dumps({"resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": recs}]}]}).encode()


@pytest.fixture(scope="module")
def cron_worker(tmp_root):
    w = Worker(tmp_root, ["--test-scheduled"], config=local_config(tmp_root, "cron"))
    yield w
    w.stop()


def pyarrow_rows(tree):
    """Every row of the table files under `tree`, read by pyarrow, each as canonical JSON (sorted)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(p) for p in sorted(tree.glob("otel_*/**/*.parquet"))])
    cols = {}
    for name in table.column_names:
        c = table[name]
        if pa.types.is_timestamp(c.type):  # exact nanoseconds, not datetime's microseconds
            c = c.cast(pa.int64())
        cols[name] = c.to_pylist()
    return sorted(json.dumps({k: v[i] for k, v in cols.items()}, sort_keys=True, default=str)
                  for i in range(table.num_rows))


def table_keys(worker):
    return sorted(k for k in worker.objects() if k.startswith("otel_"))


def test_cron_and_queue_compact_closed_hours(cron_worker, tmp_root):
    # Three hours ago: closed well past the 15-minute grace.
    t0 = (time.time_ns() // HOUR_NS - 3) * HOUR_NS
    sent = []
    for i in range(6):
        service = ("checkout", "api")[i % 2]
        uids = [f"r{i}-{k}" for k in range(30)]
        body = logs_body(service, uids, t0 + i * 7_000_000_000)
        assert cron_worker.post("/v1/logs", body, "application/json")[0] == 200
        sent += [(service, u) for u in uids]
    before = table_keys(cron_worker)
    assert len(before) == 6
    small_rows = pyarrow_rows(cron_worker.export_tree(tmp_root / "small"))
    assert len(small_rows) == len(sent)

    subprocess.run([sys.executable, str(ROOT / "scripts" / "compact_local.py"), str(cron_worker.port),
                    str(cron_worker.state), "120"], check=True)

    after = table_keys(cron_worker)
    assert len(after) == 1 and "-c" in after[0], after
    leftovers = [k for k in cron_worker.objects() if k.startswith(("_compaction/lease/", "_compaction/intent/"))]
    assert not leftovers
    tree = cron_worker.export_tree(tmp_root / "compacted")
    assert pyarrow_rows(tree) == small_rows, "pyarrow reads other values after compaction"
    rows = query(tree, f"SELECT ServiceName, Body, epoch_ns(Timestamp) FROM {parquet(tree, 'otel_logs')}")
    assert sorted((s, b) for s, b, _ in rows) == sorted(sent)
    keys = [(s, t) for s, _, t in rows]
    assert keys == sorted(keys), "the compacted file is not in (ServiceName, Timestamp) order"
    log = (tmp_root / f"wrangler-{cron_worker.port}.log").read_text()
    line = next(json.loads(l) for l in log.splitlines() if l.startswith("{") and '"otlp2r2 compaction"' in l)
    assert line["inputs"] == 6 and line["rows"] == len(sent)
