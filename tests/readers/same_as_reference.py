"""Real readers read each of otlp2r2's files exactly as they read the same
rows written by the parquet crate's own ArrowWriter.

usage: same_as_reference.py DIR

DIR holds pairs `<name>.ours.parquet` / `<name>.reference.parquet`. For each
pair:
- DuckDB: every row and every value (maps, lists, timestamps included) is
  fetched in file order, as DuckDB's text for it, and compared;
- pyarrow (Arrow C++'s Parquet reader, also the one behind ClickHouse's
  Parquet input): the two files read to equal tables, types included.
Prints one JSON object {name: rows} on success; exits 1 with the
differences otherwise.
"""
import json
import pathlib
import sys

import duckdb
import pyarrow.parquet as pq


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    con = duckdb.connect()
    problems, report = [], {}
    for ours in sorted(root.glob("*.ours.parquet")):
        name = ours.name.removesuffix(".ours.parquet")
        ref = root / f"{name}.reference.parquet"
        a = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{ours}')").fetchall()
        b = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{ref}')").fetchall()
        if len(a) != len(b):
            problems.append(f"duckdb {name}: {len(a)} rows != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                problems.append(f"duckdb {name}: row {i} differs:\n  ours {x}\n  ref  {y}")
                break
        ta, tb = pq.read_table(ours), pq.read_table(ref)
        if not ta.equals(tb):
            problems.append(f"pyarrow {name}: tables differ\n  ours {ta.schema}\n  ref  {tb.schema}")
        report[name] = len(a)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
