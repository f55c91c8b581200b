"""Benchmark of the spreadsheet imports (issue 6; docs/benchmarks.md): N persons + N payments.

Measures, each in a fresh child process (so that ``ru_maxrss`` is that run's peak; the
import's writer process, on PostgreSQL, is reported apart: ``RUSAGE_CHILDREN``):

(a) ``ours``: ``sheets.engine.run_import`` (every row validated, written with its
    history row by ``sheets.bulk_sql`` in one transaction, all-or-nothing) of the persons
    file, then of the payments file (which also creates the enrollments); csv and xlsx;
(b) ``peer``: a plain django-import-export ``ModelResource`` with default settings (only
    the column names and the natural-key ``import_id_fields`` declared) on the same csv
    files — row-by-row ``save()``; the payments peer needs the enrollments to exist and
    gets them created untimed first;
(c) ``copy``: PostgreSQL ``COPY`` of the same rows (persons; then enrollments and
    payments) — no validation, no history: the floor; reported apart, the other rows
    ours writes: the payments' 缴费到账 journals and entries (COPY), then the history
    and visibility rows (``INSERT … SELECT`` by the database), so that ``--rounds``
    gives the ratio against the bare floor and against the floor of every row written;
(d) ``claims``: the claims sheet (``claims.sheet_kinds.claims``: one 住院 settlement
    sheet per person at one 垫江 hospital, entered in status 录入) of ``--claims-n`` rows,
    after the persons and payments imports (which it reports too, for rows/s side by
    side) and a one-row hospitals import (untimed).

Each run also reports the CPU of its PostgreSQL backends (``server``: the server is local,
read from ``/proc/<backend pid>/stat``; ``ServerCpu``), so that process + server CPU can
be compared when the shared machine's load makes wall times waits for a core. With
``--copy-bare`` (``COPY_BARE=1``) the COPY floor is the bare COPY alone: the persons'
birth date and sex cut out of the number without any check, no other rows.

The files carry codes in the coded columns (``resident``, ``wechat``, ``500231``) so
that the peer, which has no code tables, stores the same values; ours accepts codes and
Chinese names alike. The database named by ``DATABASE_URL`` (default: a temporary
SQLite file) is migrated and loaded with the policy fixtures; the enrollment tables are
emptied before each run (on PostgreSQL by ``TRUNCATE``, then ``ANALYZE``d). Never point it at a database whose persons you want to keep.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_bench \
        .venv/bin/python bench/import_bench.py --n 100000 [--peer-n 10000] [--runs ours,peer,copy]
    DATABASE_URL=… .venv/bin/python bench/import_bench.py --n 100000 --rounds 3 [--copy-bare]
    DATABASE_URL=… .venv/bin/python bench/import_bench.py --n 40000 --runs claims [--claims-n 40000]
    .venv/bin/python bench/import_bench.py --memory 1000000   # streaming check (dry run, import)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PERSON_HEADER = ["证件号码", "姓名", "人员类别", "户籍所在地", "常住地", "联系电话"]
HOSPITAL_HEADER = ["机构编码", "机构名称", "所在统筹区/区县", "医院级别", "等次", "行政级别"]
CLAIM_HEADER = ["证件号码", "姓名", "就医类型", "就诊/入院日期", "出院日期", "医疗机构编码", "医院结算单号",
                "医疗总费用", "全自费（目录外）费用", "政策范围内（合规）费用", "备注"]
PAYMENT_HEADER = ["证件号码", "统筹区", "险种", "年度", "档次", "缴费日期", "应缴金额", "资助金额",
                  "个人缴费", "缴费渠道", "票据/流水号"]


# --------------------------------------------------------------------------- files


def id_numbers(n: int):
    from enrollment.documents import make_id_number

    start = date(1950, 1, 1)
    for i in range(n):
        birth = start + timedelta(days=i // 999)
        yield make_id_number("500231", birth, i % 999 + 1)


def generate(directory: Path, n: int, *, xlsx: bool = True) -> dict[str, Path]:
    files = {"persons.csv": directory / f"persons-{n}.csv", "payments.csv": directory / f"payments-{n}.csv"}
    with open(files["persons.csv"], "w", encoding="utf-8", newline="") as p, \
            open(files["payments.csv"], "w", encoding="utf-8", newline="") as q:
        pw, qw = csv.writer(p), csv.writer(q)
        pw.writerow(PERSON_HEADER)
        qw.writerow(PAYMENT_HEADER)
        for i, number in enumerate(id_numbers(n)):
            pw.writerow([number, f"参保人{i}", "resident", "500231", "500231", f"138{i:08d}"])
            qw.writerow([number, "500231", "resident_basic", 2024, 1, "2023-12-01", "380.00", "0.00",
                         "380.00", "wechat", f"B{i:09d}"])
    if xlsx:
        from openpyxl import Workbook

        for kind in ("persons", "payments"):
            book = Workbook(write_only=True)
            sheet = book.create_sheet()
            with open(files[f"{kind}.csv"], encoding="utf-8") as handle:
                for row in csv.reader(handle):
                    sheet.append(row)
            files[f"{kind}.xlsx"] = directory / f"{kind}-{n}.xlsx"
            book.save(files[f"{kind}.xlsx"])
    return files


def generate_claims(directory: Path, n: int) -> dict[str, Path]:
    """One 住院 sheet per person of ``generate`` (the first ``n``), at hospital BJ0001 in 垫江."""
    files = {"hospitals.csv": directory / "hospitals.csv", "claims.csv": directory / f"claims-{n}.csv"}
    with open(files["hospitals.csv"], "w", encoding="utf-8", newline="") as h:
        writer = csv.writer(h)
        writer.writerow(HOSPITAL_HEADER)
        writer.writerow(["BJ0001", "垫江县人民医院", "500231", "三级", "甲等", "县级"])
    with open(files["claims.csv"], "w", encoding="utf-8", newline="") as c:
        writer = csv.writer(c)
        writer.writerow(CLAIM_HEADER)
        for i, number in enumerate(id_numbers(n)):
            day = date(2024, 2, 1) + timedelta(days=i % 200)
            writer.writerow([number, f"参保人{i}", "住院", day.isoformat(), (day + timedelta(days=7)).isoformat(),
                             "BJ0001", f"JS{i:09d}", f"{5000 + i % 997}.50", "600.00", "", ""])
    return files


# --------------------------------------------------------------------------- child runs


def _setup_django():
    import django

    django.setup()
    SERVER.install()
    if not os.environ.get("PYTHON_GC"):
        from config import worker_gc
        worker_gc.tune()  # as a Celery worker process does (config/celery.py), where imports run


def prepare_db() -> None:
    """Migrate, load the policies once, empty the enrollment tables."""
    _setup_django()
    from django.core.management import call_command

    from enrollment.models import Enrollment, Payment, Person
    from policies.models import PlanYear

    call_command("migrate", verbosity=0)
    if not PlanYear.objects.exists():
        call_command("load_policies", verbosity=0)
    from django.db import connection

    from claims.models import Claim, GivenLayer, Hospital
    from enrollment.models import PersonRegion
    from ledger.models import Entry, Journal

    models = [(Entry, Journal), (PersonRegion,), (GivenLayer, Claim, Hospital), (Payment, Enrollment, Person)]
    tables = [m._meta.db_table for group in models for m in group]
    tables += [m.history.model._meta.db_table for group in models[2:] for m in group]
    if connection.vendor == "postgresql":
        # TRUNCATE (the ledger refuses DELETE: append-only): no dead rows, no per-row
        # triggers, the tables' files emptied at once; CASCADE empties the rows that
        # refer to them (identities, registrations, claim lines …)
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(q(t) for t in tables)} CASCADE")
            for table in tables:  # no stale statistics from the last run
                cursor.execute(f"ANALYZE {q(table)}")
    else:
        for group in models:
            for model in group:
                if hasattr(model, "history"):
                    model.history.all()._raw_delete(model.history.db)
                model.objects.all()._raw_delete(model.objects.db)


class ServerCpu:
    """CPU seconds (user + system) of the PostgreSQL backends of this process's
    connections, the writer thread's included, between ``begin()`` and ``end()``. The
    server is local, so each backend's ``/proc/<pid>/stat`` is read: at ``begin`` (or
    when a connection opens after it) and just before each connection closes (a backend
    ends with its connection) or at ``end``. pg_stat_statements is not installed (it
    needs ``shared_preload_libraries``), and its times are wall times anyway."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self):
        self.started: dict[int, float] = {}
        self.total = 0.0
        self.active = False

    @classmethod
    def read(cls, pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # not local, or gone
            return None
        return (int(fields[11]) + int(fields[12])) / cls.TICK  # utime, stime

    def install(self) -> None:
        from django.db.backends.postgresql.base import DatabaseWrapper
        from django.db.backends.signals import connection_created

        tracker, close = self, DatabaseWrapper.close

        def closing(wrapper):
            if wrapper.connection is not None:
                tracker._stop(wrapper.connection.info.backend_pid)
            close(wrapper)

        DatabaseWrapper.close = closing
        connection_created.connect(lambda sender, connection, **kw: self._start(connection), weak=False)

    def _start(self, wrapper) -> None:
        if self.active and wrapper.vendor == "postgresql":
            pid = wrapper.connection.info.backend_pid
            self.started[pid] = self.read(pid) or 0.0

    def _stop(self, pid: int) -> None:
        if pid in self.started:
            start, now = self.started.pop(pid), self.read(pid)
            if now is not None:
                self.total += now - start

    def begin(self) -> None:
        from django.db import connections

        self.active, self.total, self.started = True, 0.0, {}
        for wrapper in connections.all(initialized_only=True):
            if wrapper.vendor == "postgresql" and wrapper.connection is not None:
                self._start(wrapper)

    def end(self) -> float:
        for pid in list(self.started):
            self._stop(pid)
        self.active = False
        return self.total


SERVER = ServerCpu()


def _fresh_statistics() -> None:
    """PostgreSQL: ANALYZE before the timed part (untimed), as autovacuum would have done
    since the previous import; the tables an import grows inside its own transaction
    keep the statistics of its start."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run_ours(kind: str, path: str, dry_run: bool = False) -> dict:
    _setup_django()
    _fresh_statistics()
    from sheets.engine import run_import
    from sheets.registry import get_kind

    profiler = None
    if os.environ.get("IMPORT_PROFILE"):  # cProfile of the import (checking thread) to that file
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    SERVER.begin()
    started, cpu = time.perf_counter(), time.process_time()
    result = run_import(get_kind(kind), path, user=None, dry_run=dry_run,
                        parallel=os.environ.get("IMPORT_PARALLEL", "1") == "1")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = SERVER.end()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ["IMPORT_PROFILE"])
    if not result.ok:
        raise SystemExit(f"import failed: {[str(e) for e in result.errors[:5]]}")
    return {"rows": result.rows, "seconds": seconds, "cpu": cpu, "server_cpu": server, "counts": result.counts}


def _peer_resources():
    from import_export import fields, resources, widgets

    from enrollment.models import Enrollment, Payment, Person
    from policies.models import Region

    class PersonPeer(resources.ModelResource):
        document_number = fields.Field("document_number", "证件号码")
        name = fields.Field("name", "姓名")
        category = fields.Field("category", "人员类别")
        hukou_region = fields.Field("hukou_region", "户籍所在地", widgets.ForeignKeyWidget(Region, "code"))
        residence_region = fields.Field("residence_region", "常住地", widgets.ForeignKeyWidget(Region, "code"))
        phone = fields.Field("phone", "联系电话")

        class Meta:
            model = Person
            fields = ("document_number", "name", "category", "hukou_region", "residence_region", "phone")
            import_id_fields = ("document_number",)

        def before_save_instance(self, instance, row, **kwargs):
            instance.fill_from_document()  # birth date and sex are NOT NULL

    class PaymentPeer(resources.ModelResource):
        enrollment = fields.Field("enrollment", "证件号码",
                                  widgets.ForeignKeyWidget(Enrollment, "person__document_number"))
        paid_date = fields.Field("paid_date", "缴费日期", widgets.DateWidget("%Y-%m-%d"))
        amount_due = fields.Field("amount_due", "应缴金额", widgets.DecimalWidget())
        subsidy = fields.Field("subsidy", "资助金额", widgets.DecimalWidget())
        self_paid = fields.Field("self_paid", "个人缴费", widgets.DecimalWidget())
        channel = fields.Field("channel", "缴费渠道")
        receipt_no = fields.Field("receipt_no", "票据/流水号")

        class Meta:
            model = Payment
            fields = ("enrollment", "paid_date", "amount_due", "subsidy", "self_paid", "channel", "receipt_no")
            import_id_fields = ("receipt_no",)

    return PersonPeer, PaymentPeer


def run_peer(kind: str, path: str) -> dict:
    _setup_django()
    _fresh_statistics()
    import tablib

    from enrollment.models import Enrollment, Person
    from policies.models import PlanYear

    person_peer, payment_peer = _peer_resources()
    if kind == "payments":  # the peer cannot create enrollments: make them, untimed
        plan_year = PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
        Enrollment.objects.bulk_create([Enrollment(person_id=pk, plan_year=plan_year, category=category, tier=1)
                                        for pk, category in Person.objects.values_list("pk", "category")],
                                       batch_size=2000)
    started = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv")
    res = (person_peer if kind == "persons" else payment_peer)()
    result = res.import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    return {"rows": len(dataset), "seconds": seconds, "counts": dict(result.totals)}


def run_copy(kind: str, path: str) -> dict:
    _setup_django()
    _fresh_statistics()
    from django.db import connection
    from django.utils import timezone

    from enrollment.documents import check_document
    from enrollment.models import Enrollment, Payment, Person
    from policies.models import PlanYear, Region

    if connection.vendor != "postgresql":
        raise SystemExit("COPY needs PostgreSQL")
    now = timezone.now()
    bare = copy_bare()
    SERVER.begin()
    started, cpu = time.perf_counter(), time.process_time()
    rows, ledger_seconds, other_seconds, extra_server = 0, 0.0, 0.0, 0.0
    with connection.cursor() as cursor, open(path, encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        raw = cursor.cursor
        if kind == "persons":
            region = Region.objects.get(code="500231").pk
            cols = ("document_type, document_number, name, sex, birth_date, phone, hukou_region_id, "
                    "residence_region_id, category, resettled, long_term_resident, hk_macao_taiwan, "
                    "basic_insured_in_province, bank_name, bank_account_name, "
                    "bank_account_number, bank_place, note, created_at, updated_at")
            with raw.copy(f"COPY enrollment_person ({cols}) FROM STDIN") as copy:
                for number, name, category, _h, _r, phone in reader:
                    if bare:  # birth date and sex cut out of the number: no check at all
                        sex, birth = "male" if int(number[16]) % 2 else "female", number[6:14]
                    else:
                        info = check_document("id_card", number)  # the derivation only
                        sex, birth = info.sex, info.birth_date
                    copy.write_row(("id_card", number, name, sex, birth, phone, region, region,
                                    category, False, False, False, False, "", "", "", "", "", now, now))
                    rows += 1
        else:
            plan_year = PlanYear.objects.select_related("scheme").get(
                scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
            cursor.execute("SELECT document_number, id, category FROM enrollment_person")
            persons = {number: (pk, category) for number, pk, category in cursor.fetchall()}
            person_ids = {number: pk for number, (pk, _category) in persons.items()}
            data = list(reader)
            cols = ("person_id, plan_year_id, tier, status, coverage_start, coverage_end, paid_off_date, "
                    "window_code, continuous_years, auto_renew, auto_deduct, basic_confirmed, origin, note, "
                    "created_at, category")
            with raw.copy(f"COPY enrollment_enrollment ({cols}) FROM STDIN") as copy:
                for row in data:
                    pk, category = persons[row[0]]
                    copy.write_row((pk, plan_year.pk, 1, "active", "2024-01-01", "2024-12-31",
                                    row[5], "central", 1, False, False, False, "manual", "", now, category))
            cursor.execute("SELECT person_id, id FROM enrollment_enrollment WHERE plan_year_id = %s",
                           [plan_year.pk])
            enrollment_ids = dict(cursor.fetchall())
            cols = ("enrollment_id, scheme_id, amount_due, subsidy, self_paid, paid_date, channel, payer_name, "
                    "relation_to_payer, receipt_no, window_code, completes, subsidy_payer, created_at")
            with raw.copy(f"COPY enrollment_payment ({cols}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row((enrollment_ids[person_ids[row[0]]], plan_year.scheme_id, row[6], row[7],
                                    row[8], row[5], row[9], "", "self", row[10], "central", True, "", now))
                    rows += 1
        bare_seconds, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
        server = SERVER.end()
        if bare:
            return {"rows": rows, "seconds": bare_seconds, "cpu": bare_cpu, "server_cpu": server}
        SERVER.begin()
        if kind == "payments":
            # the 缴费到账 journal and its entries per payment, which ours also writes
            # (reported apart: "ledger_seconds", not in "seconds")
            ledger_started = time.perf_counter()
            cursor.execute("SELECT receipt_no, id FROM enrollment_payment WHERE scheme_id = %s",
                           [plan_year.scheme_id])
            payment_ids = dict(cursor.fetchall())
            region_id = plan_year.scheme.region_id
            cursor.execute("SELECT nextval(pg_get_serial_sequence('ledger_journal', 'id')) "
                           "FROM generate_series(1, %s)", [len(data)])
            journal_ids = [r[0] for r in cursor.fetchall()]
            cols = ("id, kind, scheme_id, region_id, year, person_id, source_kind, source_id, booked_on, memo, "
                    "reference, created_at")
            with raw.copy(f"COPY ledger_journal ({cols}) FROM STDIN") as copy:
                for journal_id, row in zip(journal_ids, data, strict=True):
                    copy.write_row((journal_id, "contribution", plan_year.scheme_id, region_id, plan_year.year,
                                    person_ids[row[0]], "payment", payment_ids[row[10]], row[5], "缴费到账",
                                    row[10], now))
            with raw.copy("COPY ledger_entry (journal_id, account, amount) FROM STDIN") as copy:
                for journal_id, row in zip(journal_ids, data, strict=True):
                    self_paid, subsidy = Decimal(row[8]), Decimal(row[7] or 0)
                    copy.write_row((journal_id, "bank", self_paid + subsidy))
                    if self_paid:
                        copy.write_row((journal_id, "contribution", -self_paid))
                    if subsidy:
                        copy.write_row((journal_id, "subsidy", -subsidy))
            ledger_seconds = time.perf_counter() - ledger_started
        # the history and visibility rows ours also writes, by the database itself
        # (INSERT … SELECT: no parsing, a floor below COPY; "other_seconds", apart)
        other_started = time.perf_counter()
        for model in ((Person,) if kind == "persons" else (Enrollment, Payment)):
            _copy_history(cursor, model, now)
        cursor.execute("INSERT INTO enrollment_personregion (person_id, region_id) "
                       "SELECT id, hukou_region_id FROM enrollment_person WHERE hukou_region_id IS NOT NULL "
                       "UNION SELECT id, residence_region_id FROM enrollment_person "
                       "WHERE residence_region_id IS NOT NULL ON CONFLICT DO NOTHING")
        other_seconds = time.perf_counter() - other_started
        extra_server = SERVER.end()
    return {"rows": rows, "seconds": bare_seconds, "ledger_seconds": ledger_seconds,
            "other_seconds": other_seconds, "cpu": bare_cpu, "server_cpu": server,
            "extra_server_cpu": extra_server}


def copy_bare() -> bool:
    """``COPY_BARE=1`` (or ``--copy-bare``): the COPY floor alone — the persons' birth date
    and sex cut out of the number (no GB 11643 check), and none of the other rows ours
    writes (ledger, history, visibility) — timed and reported."""
    return os.environ.get("COPY_BARE") == "1"


def _copy_history(cursor, model, now) -> None:
    """``model``'s history rows ("+", no user) of every row of its table, by the database."""
    from django.db import connection

    history = model.history.model
    q = connection.ops.quote_name
    tracked = [f.column for f in history.tracked_fields]
    columns = ", ".join(q(c) for c in tracked)
    cursor.execute(f"INSERT INTO {q(history._meta.db_table)} ({columns}, history_date, history_user_id, "
                   f"history_change_reason, history_type) SELECT {columns}, %s, NULL, NULL, '+' "
                   f"FROM {q(model._meta.db_table)}", [now])


def child(args) -> None:
    if args.what == "prepare":
        prepare_db()
        out = {}
    elif args.what == "ours":
        out = run_ours(args.kind, args.path, dry_run=args.dry_run)
    elif args.what == "peer":
        out = run_peer(args.kind, args.path)
    else:
        out = run_copy(args.kind, args.path)
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["writer_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("RESULT " + json.dumps(out, default=str))


def spawn(env, *argv) -> dict:
    proc = subprocess.run([sys.executable, __file__, "child", *argv], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {argv} failed:\n{proc.stdout}\n{proc.stderr}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[7:])


# --------------------------------------------------------------------------- main


def report(label, result):
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())  # 1/5/15 min, after the run
    writer = f" (writer {result['writer_maxrss_mb']:.0f} MiB)" if result.get("writer_maxrss_mb") else ""
    cpu = f" CPU {result['cpu']:.2f} s" if "cpu" in result else ""
    if "server_cpu" in result:
        cpu += f" + server {result['server_cpu']:.2f} s"
    if result.get("extra_server_cpu"):
        cpu += f" (+ {result['extra_server_cpu']:.2f} s for the other rows)"
    ledger = f" (+ ledger journals {result['ledger_seconds']:.2f} s)" if result.get("ledger_seconds") else ""
    if result.get("other_seconds"):
        ledger += f" (+ history and visibility rows {result['other_seconds']:.2f} s)"
    print(f"{label:<34} {result['rows']:>9} rows {result['seconds']:>9.2f} s{ledger}{cpu} {rate:>10,.0f} rows/s "
          f"peak RSS {result['maxrss_mb']:>7.0f} MiB{writer}  load {load}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd")
    c = sub.add_parser("child")
    c.add_argument("what")
    c.add_argument("kind", nargs="?")
    c.add_argument("path", nargs="?")
    c.add_argument("--dry-run", action="store_true")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--peer-n", type=int, default=None, help="rows for the peer (default: --n)")
    parser.add_argument("--runs", default="ours,peer,copy")
    parser.add_argument("--formats", default="csv,xlsx", help="file formats of the ours runs")
    parser.add_argument("--rounds", type=int, default=0,
                        help="only: this many rounds of (COPY, ours) csv persons then payments, "
                             "interleaved so that each ratio is taken under the same machine load; "
                             "prints every round and the median ratio")
    parser.add_argument("--claims-n", type=int, default=None, help="rows of the claims sheet (default: --n)")
    parser.add_argument("--memory", type=int, default=0,
                        help="only: dry-run, then import, a persons csv of this many rows")
    parser.add_argument("--copy-bare", action="store_true",
                        help="the COPY floor alone (as COPY_BARE=1): no ID derivation, no other rows")
    parser.add_argument("--python-gc", action="store_true",
                        help="the runs with Python's own garbage collection settings instead of a "
                             "Celery worker's (config/worker_gc.py; as PYTHON_GC=1)")
    args = parser.parse_args()
    if args.cmd == "child":
        child(args)
        return
    env = dict(os.environ)
    if args.copy_bare:
        env["COPY_BARE"] = "1"
    if args.python_gc:
        env["PYTHON_GC"] = "1"
    tmp = Path(tempfile.mkdtemp(prefix="import-bench-"))
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    if args.memory:
        files = generate(tmp, args.memory, xlsx=False)
        spawn(env, "prepare")
        report(f"ours persons csv dry-run N={args.memory}",
               spawn(env, "ours", "persons", str(files["persons.csv"]), "--dry-run"))
        report(f"ours persons csv import N={args.memory}",
               spawn(env, "ours", "persons", str(files["persons.csv"])))
        spawn(env, "prepare")
        return
    if args.rounds:
        rounds(env, generate(tmp, args.n, xlsx=False), args.rounds)
        return
    runs = args.runs.split(",")
    files = generate(tmp, args.n, xlsx="xlsx" in args.formats and runs != ["claims"])
    if "claims" in runs:
        claims(env, files, generate_claims(tmp, min(args.claims_n or args.n, args.n)))
    if "ours" in runs:
        for fmt in args.formats.split(","):
            spawn(env, "prepare")
            report(f"ours persons {fmt}", spawn(env, "ours", "persons", str(files[f"persons.{fmt}"])))
            report(f"ours payments {fmt}", spawn(env, "ours", "payments", str(files[f"payments.{fmt}"])))
            report(f"ours persons {fmt} re-import", spawn(env, "ours", "persons", str(files[f"persons.{fmt}"])))
    if "peer" in runs:
        peer_files = files if not args.peer_n or args.peer_n == args.n else generate(tmp, args.peer_n, xlsx=False)
        spawn(env, "prepare")
        report(f"peer persons csv (N={args.peer_n or args.n})",
               spawn(env, "peer", "persons", str(peer_files["persons.csv"])))
        report(f"peer payments csv (N={args.peer_n or args.n})",
               spawn(env, "peer", "payments", str(peer_files["payments.csv"])))
    if "copy" in runs and env["DATABASE_URL"].startswith("postgres"):
        spawn(env, "prepare")
        report("COPY persons", spawn(env, "copy", "persons", str(files["persons.csv"])))
        report("COPY enrollments+payments", spawn(env, "copy", "payments", str(files["payments.csv"])))
    spawn(env, "prepare")


def claims(env, files, claim_files) -> None:
    """The claims sheet beside the persons and payments sheets it needs."""
    spawn(env, "prepare")
    report("ours persons csv", spawn(env, "ours", "persons", str(files["persons.csv"])))
    report("ours payments csv", spawn(env, "ours", "payments", str(files["payments.csv"])))
    spawn(env, "ours", "hospitals", str(claim_files["hospitals.csv"]))
    report("ours claims csv", spawn(env, "ours", "claims", str(claim_files["claims.csv"])))
    report("ours claims csv re-import (unchanged)", spawn(env, "ours", "claims", str(claim_files["claims.csv"])))
    spawn(env, "prepare")


def rounds(env, files, count: int) -> None:
    """The 2 cores are shared and the figures move by ±30 % from one minute to the next:
    COPY and ours run back to back, ``count`` times, and the ratio of each pair is kept."""
    import statistics

    bare = env.get("COPY_BARE") == "1"
    ratios = {"persons": [], "persons, CPU (process + server)": [], "payments": [],
              "payments, CPU (process + server)": []}
    if not bare:
        ratios.update({"persons (floor with every row ours writes)": [],
                       "payments (floor with the ledger rows)": [],
                       "payments (floor with every row ours writes)": []})
    for i in range(count):
        for kind in ("persons", "payments"):
            spawn(env, "prepare")
            if kind == "payments":  # the persons the payments need, untimed
                spawn(env, "copy", "persons", str(files["persons.csv"]))
            floor = spawn(env, "copy", kind, str(files[f"{kind}.csv"]))
            report(f"round {i + 1} COPY {kind}", floor)
            spawn(env, "prepare")
            if kind == "payments":
                spawn(env, "ours", "persons", str(files["persons.csv"]))
            ours = spawn(env, "ours", kind, str(files[f"{kind}.csv"]))
            report(f"round {i + 1} ours {kind} csv", ours)
            ratios[kind].append(ours["seconds"] / floor["seconds"])
            ratios[f"{kind}, CPU (process + server)"].append(
                (ours["cpu"] + ours["server_cpu"]) / (floor["cpu"] + floor["server_cpu"]))
            if bare:
                continue
            if kind == "payments":
                ratios["payments (floor with the ledger rows)"].append(
                    ours["seconds"] / (floor["seconds"] + floor["ledger_seconds"]))
            ratios[f"{kind} (floor with every row ours writes)"].append(
                ours["seconds"] / (floor["seconds"] + floor["ledger_seconds"] + floor["other_seconds"]))
    for kind, values in ratios.items():
        print(f"{kind}: ours / {'bare ' if bare else ''}COPY = " + ", ".join(f"{v:.2f}" for v in values)
              + f"; median {statistics.median(values):.2f}", flush=True)
    spawn(env, "prepare")


if __name__ == "__main__":
    main()
