"""Does a change to batch settlement store the same thing? Settle every entered claim of a
PostgreSQL database by ``claims.batch.claims_settle_batch`` with the code of one checkout,
then write every table of the database to a folder, one file per table, so that the
result of two checkouts on two copies of one database can be compared with ``diff -r``.

Values that differ between two runs of the same code are written as placeholders: a
timestamp (``timestamptz``: settled_at, history_date, …) as ``T`` (NULL stays NULL). Rows
are sorted by every column. With one thread the rows are inserted in the same order by
both runs, so the keys given by the sequences are compared too; with two threads
(``--threads 2``) the chunks' order varies, so compare two-thread runs with ``--no-keys``
(every ``id``/``*_id`` column of a serial key written as ``K``; the foreign keys to
existing rows are kept).

    createdb -h 127.0.0.1 -U postgres -T mydb_tpl mydb_a       # two copies of one state
    createdb -h 127.0.0.1 -U postgres -T mydb_tpl mydb_b
    git archive main | tar -x -C /tmp/base                      # the "before" code
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb_a \\
        .venv/bin/python bench/settle_compare.py --code /tmp/base --out /tmp/a
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb_b \\
        .venv/bin/python bench/settle_compare.py --code . --out /tmp/b
    diff -r /tmp/a /tmp/b && echo same
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def dump(out: Path, keys: bool) -> None:
    from django.db import connection

    out.mkdir(parents=True, exist_ok=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                       "AND table_type = 'BASE TABLE' ORDER BY table_name")
        tables = [t for (t,) in cursor.fetchall()]
        for table in tables:
            cursor.execute("SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                           [table])
            columns = cursor.fetchall()
            cursor.execute("SELECT a.attname FROM pg_attribute a JOIN pg_attrdef d "
                           "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                           "WHERE a.attrelid = %s::regclass AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval%%'",
                           [f'"{table}"'])
            serial = {name for (name,) in cursor.fetchall()}
            cursor.execute("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass "
                           "AND a.attidentity <> ''", [f'"{table}"'])
            serial |= {name for (name,) in cursor.fetchall()}
            parts = []
            for name, kind in columns:
                quoted = connection.ops.quote_name(name)
                if kind.startswith("timestamp"):
                    parts.append(f"CASE WHEN {quoted} IS NULL THEN NULL ELSE 'T' END")
                elif not keys and name in serial:
                    parts.append("'K'")
                else:
                    parts.append(f"{quoted}::text")
            order = ", ".join(str(i + 1) for i in range(len(parts)))
            cursor.execute(f"SELECT {', '.join(parts)} FROM {connection.ops.quote_name(table)} ORDER BY {order}")
            with open(out / f"{table}.tsv", "w") as f:
                f.write("\t".join(name for name, _ in columns) + "\n")
                for row in cursor.fetchall():
                    f.write("\t".join("\\N" if v is None else v.replace("\\", "\\\\").replace("\n", "\\n")
                                      .replace("\t", "\\t") for v in row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", default=str(Path(__file__).resolve().parent.parent),
                        help="checkout whose claims.batch settles (default: this one)")
    parser.add_argument("--out", required=True, help="folder for the tables' files")
    parser.add_argument("--threads", type=int, default=1, help="claims.batch.THREADS (default 1)")
    parser.add_argument("--no-keys", action="store_true", help="serial keys written as K")
    parser.add_argument("--dump-only", action="store_true", help="write the tables without settling")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.code).resolve()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("settle_compare: a PostgreSQL DATABASE_URL")
    from claims import batch
    from claims.models import Claim

    assert Path(batch.__file__).resolve().is_relative_to(Path(args.code).resolve()), batch.__file__
    if not args.dump_only:
        batch.THREADS = args.threads
        report = batch.claims_settle_batch(claims=Claim.objects.all(), acting_user=None)
        print(f"settled {report.settled}, failed {len(report.failed)}, persons {report.persons}")
        for pk, number, message in sorted(report.failed):
            print(f"  failed {pk} {number}: {message}")
    dump(Path(args.out), keys=not args.no_keys)


if __name__ == "__main__":
    main()
