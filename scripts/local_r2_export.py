#!/usr/bin/env python3
"""Copies every object of the local R2 bucket that `make dev` writes into a folder, keys as paths.

usage: local_r2_export.py STATE_DIR OUT_DIR [BUCKET]      (`make local-objects`)

`wrangler dev --persist-to STATE_DIR` keeps the bucket in miniflare's layout: keys in SQLite
tables `_mf_objects` (key, blob_id) under STATE/v3/r2/miniflare-R2BucketObject/, bytes in
STATE/v3/r2/<bucket>/blobs/<blob_id>. That layout belongs to miniflare and may change; the
end-to-end tests use the same reader, so a change shows up there first.
"""
import sqlite3
import sys
from pathlib import Path


def objects(state: Path, bucket: str):
    for db in sorted((state / "v3" / "r2" / "miniflare-R2BucketObject").glob("*.sqlite")):
        con = sqlite3.connect(db)
        try:
            rows = con.execute("SELECT key, blob_id FROM _mf_objects").fetchall()
        except sqlite3.OperationalError:
            continue  # miniflare's own metadata database
        finally:
            con.close()
        for key, blob in rows:
            yield key, (state / "v3" / "r2" / bucket / "blobs" / blob).read_bytes()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    state, out = Path(sys.argv[1]), Path(sys.argv[2])
    bucket = sys.argv[3] if len(sys.argv) > 3 else "otlp2r2"
    n = 0
    for key, data in objects(state, bucket):
        p = out / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        n += 1
    print(f"{n} objects from {state} written under {out}")


if __name__ == "__main__":
    main()
