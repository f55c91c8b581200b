"""``manage.py migrate`` of an empty database, timed, and what it leaves, dumped (issue 13;
docs/benchmarks.md §Ninth session: migrations folded).

    python bench/migrate_bench.py time --tree . --runs 3 [--postgres NAME] [--sqlite FILE]
    python bench/migrate_bench.py dump OUT_PREFIX (--postgres NAME | --sqlite FILE)

``time`` recreates the PostgreSQL database (``createdb``/``dropdb`` on 127.0.0.1, user
postgres) or removes the SQLite file before each run, runs ``manage.py migrate -v 0`` of the
checkout ``--tree`` in a child process and prints its wall time and CPU (user + sys of the
child) with the load average. ``dump`` writes OUT_PREFIX.schema.sql (PostgreSQL: ``pg_dump
-s --no-owner`` without its random ``\\restrict`` lines; SQLite: every ``sqlite_master`` row)
and OUT_PREFIX.rows.txt (every non-empty table's rows, sorted; the content types and
permissions by app label, model and codename; the applied migrations last): two checkouts'
dumps of a fresh ``migrate`` are compared with ``diff``. SQLite's stored ``CREATE TABLE``
text keeps the column order of the migrations that built it; ``dump --sqlite`` also writes
OUT_PREFIX.sqlite-semantic.txt (each table's columns, foreign keys, indexes and clauses as
sorted lists), which does not.
"""
import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import time

PG = ["-h", "127.0.0.1", "-U", "postgres"]


def time_runs(args) -> None:
    env = dict(os.environ)
    targets = []
    if args.postgres:
        targets.append(("PostgreSQL", f"postgres://postgres@127.0.0.1:5432/{args.postgres}"))
    if args.sqlite:
        targets.append(("SQLite", f"sqlite:///{os.path.abspath(args.sqlite)}"))
    for label, url in targets:
        for run in range(1, args.runs + 1):
            if label == "PostgreSQL":
                subprocess.run(["dropdb", *PG, "--if-exists", args.postgres], check=True)
                subprocess.run(["createdb", *PG, args.postgres], check=True)
            elif os.path.exists(args.sqlite):
                os.remove(args.sqlite)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=args.tree,
                           env={**env, "DATABASE_URL": url}, check=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{label} run {run}: wall {wall:.1f} s, CPU {cpu:.1f} s (load {load})", flush=True)


def _sqlite_semantic(connection) -> list[str]:
    """Each table's columns, foreign keys, indexes and top-level clauses, order-free."""
    out = []
    for (table, sql) in connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        columns = sorted(row[1:] for row in connection.execute(f'PRAGMA table_info("{table}")'))
        keys = sorted(row[2:] for row in connection.execute(f'PRAGMA foreign_key_list("{table}")'))
        indexes = sorted(row[1:] for row in connection.execute(f'PRAGMA index_list("{table}")'))
        clauses, depth, part = [], 0, ""
        for char in sql[sql.index("(") + 1: sql.rindex(")")]:
            depth += (char == "(") - (char == ")")
            if char == "," and depth == 0:
                clauses.append(part.strip())
                part = ""
            else:
                part += char
        clauses.append(part.strip())
        out.append(f"{table}|{columns}|{keys}|{indexes}|{sorted(clauses)}")
    return out


def dump(args) -> None:
    if args.postgres:
        import psycopg

        schema = subprocess.run(["pg_dump", "-s", "--no-owner", *PG, args.postgres],
                                capture_output=True, text=True, check=True).stdout
        schema = "\n".join(line for line in schema.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))
        connection = psycopg.connect(f"host=127.0.0.1 user=postgres dbname={args.postgres}")
        tables = [r[0] for r in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    else:
        connection = sqlite3.connect(args.sqlite)
        schema = "\n".join("|".join(map(str, row)) for row in connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"))
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")]
        with open(f"{args.out}.sqlite-semantic.txt", "w") as f:
            f.write("\n".join(_sqlite_semantic(connection)) + "\n")
    with open(f"{args.out}.schema.sql", "w") as f:
        f.write(schema + "\n")
    queries = {
        "auth_permission": "SELECT ct.app_label, ct.model, p.codename, p.name FROM auth_permission p "
                           "JOIN django_content_type ct ON ct.id = p.content_type_id",
        "django_content_type": "SELECT app_label, model FROM django_content_type",
    }
    with open(f"{args.out}.rows.txt", "w") as f:
        for table in tables:
            if table in ("django_migrations", "sqlite_sequence"):
                continue
            rows = connection.execute(queries.get(table, f'SELECT * FROM "{table}"')).fetchall()
            if rows:
                f.write(f"== {table} {len(rows)}\n" + "".join(f"{r}\n" for r in sorted(map(repr, rows))))
        applied = connection.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
        f.write(f"== django_migrations {len(applied)}\n" + "".join(f"{a}.{n}\n" for a, n in applied))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    timing = sub.add_parser("time")
    timing.add_argument("--tree", default=".")
    timing.add_argument("--runs", type=int, default=3)
    timing.add_argument("--postgres")
    timing.add_argument("--sqlite")
    dumping = sub.add_parser("dump")
    dumping.add_argument("out")
    dumping.add_argument("--postgres")
    dumping.add_argument("--sqlite")
    args = parser.parse_args()
    if args.command == "time":
        time_runs(args)
    elif bool(args.postgres) == bool(args.sqlite):
        parser.error("dump: one of --postgres, --sqlite")
    else:
        dump(args)


if __name__ == "__main__":
    main()
