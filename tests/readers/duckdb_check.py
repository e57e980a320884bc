"""Reads otlp2r2's output with DuckDB and checks it against the ClickHouse exporter DDL.

usage: duckdb_check.py OUT_DIR DDL_FILE

For every table directory under OUT_DIR (Hive layout `<table>/date=…/hour=…/*.parquet`):
- the exporter's columns that an insert gives (not MATERIALIZED / ALIAS, nor DEFAULT: ClickHouse
  computes those) come first, by name and in order;
- the column types are the DuckDB equivalents of the documented Arrow types;
- the Hive partition columns `date` and `hour` agree with each row's time.
Prints one JSON object: {table: {"rows": N, "columns": [...], "sample": {...}}} on success;
exits 1 with the list of problems otherwise.
"""
import json
import re
import sys

import duckdb


def exporter_columns(ddl: str) -> dict:
    tables = {}
    for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\) ENGINE", ddl, re.S):
        cols = []
        for line in body.split(",\n"):
            line = line.strip()
            if not line or any(f" {k} " in line for k in ("MATERIALIZED", "ALIAS", "DEFAULT")):
                continue
            cols.append(line.split()[0].strip("`"))
        tables[name] = cols
    return tables


def main() -> int:
    out_dir, ddl_file = sys.argv[1], sys.argv[2]
    want = exporter_columns(open(ddl_file).read())
    con = duckdb.connect()
    problems, report = [], {}
    for table, cols in want.items():
        glob = f"{out_dir}/{table}/**/*.parquet"
        try:
            described = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = false)"
            ).fetchall()
        except duckdb.IOException:
            continue  # no files for this table
        got = [(r[0], r[1]) for r in described]
        names = [g[0] for g in got]
        if names[: len(cols)] != cols:
            problems.append(f"{table}: columns {names[:len(cols)]} != exporter {cols}")
        for name, typ in got:
            if name.endswith("Attributes") and typ != "MAP(VARCHAR, VARCHAR)":
                problems.append(f"{table}.{name}: {typ}")
            if name in ("Timestamp", "TimeUnix", "StartTimeUnix") and not typ.startswith("TIMESTAMP"):
                problems.append(f"{table}.{name}: {typ}")
        time_col = "TimeUnix" if table.startswith("otel_metrics") else "Timestamp"
        bad_partition = con.execute(
            f"""SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)
                WHERE strftime({time_col} AT TIME ZONE 'UTC', '%Y-%m-%d') != CAST(date AS VARCHAR)
                   OR CAST(hour AS INTEGER) != hour({time_col} AT TIME ZONE 'UTC')"""
        ).fetchone()[0]
        if bad_partition:
            problems.append(f"{table}: {bad_partition} rows outside their date/hour partition")
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]
        sample = {}
        if table == "otel_logs":
            sample = dict(zip(
                ["services", "with_trace", "max_body", "sev_texts"],
                con.execute(
                    f"""SELECT count(DISTINCT ServiceName), count(*) FILTER (WHERE TraceId != ''),
                               max(length(Body)), list(DISTINCT SeverityText ORDER BY SeverityText)
                        FROM read_parquet('{glob}')"""
                ).fetchone(),
            ))
        elif table == "otel_traces":
            sample = dict(zip(
                ["events", "links", "kinds", "pid"],
                con.execute(
                    f"""SELECT sum(len(Events)), sum(len(Links)), list(DISTINCT SpanKind ORDER BY SpanKind),
                               min(ResourceAttributes['process.pid'])
                        FROM read_parquet('{glob}')"""
                ).fetchone(),
            ))
        elif table == "otel_metrics_histogram":
            sample = dict(zip(
                ["buckets", "bounds"],
                con.execute(
                    f"SELECT min(BucketCounts)::VARCHAR, min(ExplicitBounds)::VARCHAR FROM read_parquet('{glob}')"
                ).fetchone(),
            ))
        report[table] = {"rows": rows, "columns": names, "sample": sample}
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
