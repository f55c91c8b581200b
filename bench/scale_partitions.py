"""Scratch measurement for docs/scale.md: claim lines partitioned by plan year vs one table.

Builds, in a scratch database (never the application's), two tables of the same
claim-line-like rows made by ``generate_series`` — ``line_flat`` (one table) and
``line_part`` (``PARTITION BY LIST (year)``, one partition per plan year) — with the
indexes the claims list and the year's figures need, then times with EXPLAIN ANALYZE
(median of ``--repeat`` warm runs, execution time as PostgreSQL reports it):

- ``list``: one plan year's claims list page of one region, newest first (LIMIT 100);
- ``page1000``: the same list at offset 100 000 (page 1 000 of 100 rows);
- ``aggregate``: a year's fund paid by region and claim type (the dashboard figure);
- ``count``: one region's lines in one year;
- ``person``: one person's lines across all years (no partition key in the query).

It prints the tables' sizes (heap, indexes) and ``df -h`` of the data disk before and
after, and drops both tables at the end unless ``--keep``.

    .venv/bin/python bench/scale_partitions.py \\
        --url postgres://postgres@127.0.0.1:5432/medins_hscale_part --rows 30000000
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import time

import psycopg

YEARS = (2022, 2023, 2024, 2025, 2026)
REGIONS = 40  # counties of a province-sized bureau
PERSONS_PER_ROW = 0.1  # one person per ten lines: 30 M lines ~ 3 M persons here

COLUMNS = """
    id bigint NOT NULL,
    year smallint NOT NULL,
    region_id integer NOT NULL,
    person_id bigint NOT NULL,
    claim_id bigint NOT NULL,
    hospital_id integer NOT NULL,
    claim_type smallint NOT NULL,
    status smallint NOT NULL,
    service_date date NOT NULL,
    amount numeric(14, 2) NOT NULL,
    fund numeric(14, 2) NOT NULL,
    personal numeric(14, 2) NOT NULL,
    settlement_no varchar(60) NOT NULL
"""

# one row per generated number n: year by blocks (rows of a year are loaded together, as
# a year's claims arrive), the rest pseudo-random from n
SELECT_ROWS = """
SELECT n, {year}, (n * 7919) % {regions} + 1, (n * 104729) % {persons} + 1, n / 3 + 1,
       (n * 31) % 2000 + 1, (n % 5)::smallint, (n % 7 = 0)::int::smallint,
       make_date({year}, 1, 1) + ((n * 13) % 365)::int,
       ((n * 37) % 500000) / 100.0, ((n * 37) % 500000) / 160.0,
       ((n * 37) % 500000) / 100.0 - ((n * 37) % 500000) / 160.0,
       'H' || ((n * 31) % 2000 + 1) || '-' || n
FROM generate_series({start}::bigint, {stop}::bigint) AS n
"""

QUERIES = {
    "list": """SELECT id, person_id, service_date, fund, status FROM {t}
               WHERE year = 2025 AND region_id = 7
               ORDER BY service_date DESC, id DESC LIMIT 100""",
    "page1000": """SELECT id, person_id, service_date, fund, status FROM {t}
                   WHERE year = 2025 AND region_id = 7
                   ORDER BY service_date DESC, id DESC LIMIT 100 OFFSET 100000""",
    "aggregate": """SELECT region_id, claim_type, count(*), sum(fund) FROM {t}
                    WHERE year = 2025 GROUP BY region_id, claim_type""",
    "count": "SELECT count(*) FROM {t} WHERE year = 2025 AND region_id = 7",
    "person": """SELECT id, year, service_date, fund FROM {t} WHERE person_id = 123457
                 ORDER BY service_date DESC""",
}


def df() -> str:
    usage = shutil.disk_usage("/work")
    return f"used {usage.used / 2**30:.1f} GiB, free {usage.free / 2**30:.1f} GiB"


def run(cur, sql, label):
    start = time.perf_counter()
    cur.execute(sql)
    print(f"  {label}: {time.perf_counter() - start:.1f} s", flush=True)


def build(conn, rows: int) -> None:
    per_year = rows // len(YEARS)
    persons = max(1, int(rows * PERSONS_PER_ROW))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS line_flat, line_part")
        cur.execute(f"CREATE TABLE line_flat ({COLUMNS})")
        cur.execute(f"CREATE TABLE line_part ({COLUMNS}) PARTITION BY LIST (year)")
        for year in YEARS:
            cur.execute(f"CREATE TABLE line_part_{year} PARTITION OF line_part FOR VALUES IN ({year})")
        for i, year in enumerate(YEARS):
            sql = SELECT_ROWS.format(year=year, regions=REGIONS, persons=persons,
                                     start=i * per_year + 1, stop=(i + 1) * per_year)
            run(cur, f"INSERT INTO line_flat {sql}", f"line_flat {year} ({per_year:,} rows)")
            run(cur, f"INSERT INTO line_part {sql}", f"line_part {year} ({per_year:,} rows)")
        # the unique key of a partitioned table must hold the partition key (docs/scale.md)
        run(cur, "ALTER TABLE line_flat ADD PRIMARY KEY (id)", "line_flat primary key")
        run(cur, "ALTER TABLE line_part ADD PRIMARY KEY (id, year)", "line_part primary key (id, year)")
        # the list's index: the flat table needs the year in front, a partition does not
        run(cur, "CREATE INDEX line_flat_list ON line_flat (year, region_id, service_date DESC, id DESC)",
            "line_flat list index")
        # the year leads here too, although each partition holds one year: the query filters on
        # it, and without it in the index the count cannot be an index-only scan (docs/scale.md)
        run(cur, "CREATE INDEX line_part_list ON line_part (year, region_id, service_date DESC, id DESC)",
            "line_part list index")
        run(cur, "CREATE INDEX line_flat_person ON line_flat (person_id)", "line_flat person index")
        run(cur, "CREATE INDEX line_part_person ON line_part (person_id)", "line_part person index")
        run(cur, "VACUUM ANALYZE line_flat", "line_flat vacuum analyze")
        run(cur, "VACUUM ANALYZE line_part", "line_part vacuum analyze")


def sizes(conn) -> None:
    with conn.cursor() as cur:
        for table in ("line_flat", "line_part"):
            cur.execute("""SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0)
                           FROM pg_class c WHERE c.oid = %s::regclass
                              OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)""",
                        (table, table))
            heap, index = cur.fetchone()
            print(f"  {table}: table {heap / 2**30:.2f} GiB, indexes {index / 2**30:.2f} GiB")
        cur.execute("SELECT pg_database_size(current_database())")
        print(f"  database: {cur.fetchone()[0] / 2**30:.2f} GiB")


def execution_ms(cur, sql) -> tuple[float, str]:
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    plan = "\n".join(r[0] for r in cur.fetchall())
    return float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)), plan


def measure(conn, repeat: int, show_plans: bool) -> None:
    with conn.cursor() as cur:
        print("| query | one table (ms) | partitioned (ms) |\n|---|---|---|")
        for name, sql in QUERIES.items():
            cells = []
            for table in ("line_flat", "line_part"):
                q = sql.format(t=table)
                execution_ms(cur, q)  # warm the cache
                runs = [execution_ms(cur, q) for _ in range(repeat)]
                cells.append(statistics.median(ms for ms, _ in runs))
                if show_plans:
                    print(f"-- {name} on {table}\n{runs[-1][1]}\n")
            print(f"| {name} | {cells[0]:.1f} | {cells[1]:.1f} |", flush=True)


def detach(conn) -> None:
    """Removing a closed year: DETACH + DROP of its partition (metadata only)."""
    with conn.cursor() as cur:
        start = time.perf_counter()
        cur.execute("ALTER TABLE line_part DETACH PARTITION line_part_2022")
        cur.execute("DROP TABLE line_part_2022")
        print(f"  detach + drop of the 2022 partition: {(time.perf_counter() - start) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="a scratch database, e.g. …/medins_hscale_part")
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-build", action="store_true", help="measure the tables left by --keep")
    parser.add_argument("--keep", action="store_true", help="do not drop the tables at the end")
    parser.add_argument("--plans", action="store_true", help="print the last plan of each query")
    args = parser.parse_args()
    print(f"disk before: {df()}; load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    with psycopg.connect(args.url, autocommit=True) as conn:
        if not args.skip_build:
            start = time.perf_counter()
            build(conn, args.rows)
            print(f"built in {time.perf_counter() - start:.0f} s; disk: {df()}")
        sizes(conn)
        measure(conn, args.repeat, args.plans)
        if not args.keep:
            detach(conn)
            with conn.cursor() as cur:
                cur.execute("DROP TABLE line_flat, line_part")
            print(f"dropped; disk: {df()}")
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
