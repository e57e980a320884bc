#!/usr/bin/env python3
"""Runs compaction on the local Worker that `make dev` serves (`make compact-local`).

usage: compact_local.py PORT STATE_DIR [TIMEOUT_SECONDS]

Calls wrangler's scheduled-test endpoint (`/__scheduled`, served because `make dev` starts
wrangler with `--test-scheduled`), which runs the Worker's Cron Trigger: it sends one queue
message per eligible partition, and miniflare's queue delivers them to the Worker's consumer.
Then it waits until the queue has drained: no lease or intent is left under `_compaction/` and
the bucket has not changed for three seconds. Prints what the bucket holds before and after.
A run that failed in a way a retry would not mend leaves its intent marked `rolled_back` (its
merge undone) for the next cron: that is reported, and the script exits with an error, rather
than waiting for it.
"""
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_r2_export  # noqa: E402


def snapshot(state: Path):
    """Keys and sizes (not the bytes: the bucket may be large, and the consumer deletes as it
    goes)."""
    return dict(local_r2_export.sizes(state))


def tables(snap):
    return sum(1 for k in snap if k.startswith("otel_"))


def rolled_back(state: Path, bucket="otlp2r2"):
    """The intents left marked `rolled_back`: runs that failed, undid their merge, and were not
    retried (the Worker's log line for the partition says why)."""
    found = []
    for key, data in local_r2_export.objects(state, bucket, "_compaction/intent/"):
        try:
            if json.loads(data).get("rolled_back"):
                found.append(key)
        except ValueError:
            pass
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    port, state = int(sys.argv[1]), Path(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    before = snapshot(state)
    url = f"http://127.0.0.1:{port}/__scheduled?cron=*/15+*+*+*+*"
    with urllib.request.urlopen(url, timeout=60) as r:
        if r.status != 200:
            sys.exit(f"{url}: HTTP {r.status}")
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        snap = snapshot(state)
        leased = any(k.startswith("_compaction/lease/") for k in snap)
        intents = [k for k in snap if k.startswith("_compaction/intent/")]
        if snap != last:
            last, since = snap, time.time()
        elif not leased and intents and time.time() - since >= 45:
            # Well past the queue's 30 s retry: a rolled-back run that nothing retries.
            failed = rolled_back(state)
            if failed and len(failed) == len(intents):
                sys.exit("compaction failed and was undone for the next cron to retry (the Worker's "
                         "log has the error): " + ", ".join(failed))
        elif not (leased or intents) and time.time() - since >= 3:
            print(f"compacted: {tables(before)} table files before, {tables(snap)} after")
            if snap == before:
                print("nothing was eligible (an hour is once it closed more than the grace ago "
                      "and holds two small files); the Worker's log has the planning line")
            return
        time.sleep(0.5)
    sys.exit(f"compaction did not settle within {timeout:.0f} s")


if __name__ == "__main__":
    main()
