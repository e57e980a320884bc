#!/usr/bin/env python3
"""Copies every object of the local R2 bucket that `make dev` writes into a folder, keys as paths.

usage: local_r2_export.py STATE_DIR OUT_DIR [BUCKET]      (`make local-objects`)

The bucket's folders in OUT_DIR (every top-level folder of its keys: `otel_*`, `_compaction`) are
replaced, not merged into: a file that compaction deleted from the bucket must not stay behind
and be read twice.

`wrangler dev --persist-to STATE_DIR` keeps the bucket in miniflare's layout: keys in SQLite
tables `_mf_objects` (key, blob_id) under STATE/v3/r2/miniflare-R2BucketObject/, bytes in
STATE/v3/r2/<bucket>/blobs/<blob_id>; an object written by a multipart upload has no blob of its
own but its parts' (`_mf_multipart_parts`, by part number). That layout belongs to miniflare and
may change; the end-to-end tests use the same reader, so a change shows up there first.
"""
import shutil
import sqlite3
import sys
from pathlib import Path


def _databases(state: Path):
    return sorted((state / "v3" / "r2" / "miniflare-R2BucketObject").glob("*.sqlite"))


def sizes(state: Path):
    """Every object's key and size, without reading its bytes."""
    for db in _databases(state):
        con = sqlite3.connect(db)
        try:
            yield from con.execute("SELECT key, size FROM _mf_objects").fetchall()
        except sqlite3.OperationalError:
            pass  # miniflare's own metadata database
        finally:
            con.close()


def objects(state: Path, bucket: str, prefix: str = ""):
    """Every object's key and bytes (those whose key starts with `prefix`). An object deleted
    between the listing and the read (the Worker is running) is left out."""
    blobs = state / "v3" / "r2" / bucket / "blobs"
    for db in _databases(state):
        con = sqlite3.connect(db)
        try:
            rows = con.execute("SELECT key, blob_id FROM _mf_objects").fetchall()
            parts = {}
            for key, blob in con.execute(
                "SELECT object_key, blob_id FROM _mf_multipart_parts "
                "WHERE object_key IS NOT NULL ORDER BY object_key, part_number"
            ):
                parts.setdefault(key, []).append(blob)
        except sqlite3.OperationalError:
            continue  # miniflare's own metadata database
        finally:
            con.close()
        for key, blob in rows:
            if not key.startswith(prefix):
                continue
            try:
                if blob is not None:
                    data = (blobs / blob).read_bytes()
                else:
                    data = b"".join((blobs / b).read_bytes() for b in parts.get(key, []))
            except FileNotFoundError:
                continue
            yield key, data


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    state, out = Path(sys.argv[1]), Path(sys.argv[2])
    bucket = sys.argv[3] if len(sys.argv) > 3 else "otlp2r2"
    found = list(objects(state, bucket))
    for top in sorted({key.split("/", 1)[0] for key, _ in found if "/" in key}):
        shutil.rmtree(out / top, ignore_errors=True)
    for key, data in found:
        p = out / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    print(f"{len(found)} objects from {state} written under {out}")


if __name__ == "__main__":
    main()
