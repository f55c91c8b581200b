"""The persons/payments imports with a writer thread (``run_import(parallel=True)``,
``import_sheet`` and the import jobs on PostgreSQL; docs/spreadsheets.md): the same rows
as in one thread, still all-or-nothing when a later chunk has a bad row, the database
refuses a write, the writer fails or the whole import process is killed. PostgreSQL only,
on committed data (the writer has its own connection)."""
import os
import threading
from datetime import date

import pytest
from django.db import connection, transaction

from enrollment.models import Enrollment, Payment, Person
from enrollment.sheet_kinds.payments import PaymentSheet
from enrollment.sheet_kinds.persons import PersonSheet
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from policies.models import PlanYear
from policies.services import plan_year_rollover
from sheets import engine
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="写入进程需要 PostgreSQL"),
    pytest.mark.usefixtures("loaded_policies"),
]


@pytest.fixture
def writers(monkeypatch):
    """Counts the writer threads started (so a test knows the parallel path ran) and
    uses chunks of two rows (so that several chunks go through the queue)."""
    started = []
    original = engine._Writer.__init__

    def init(self, kind, user):
        started.append(kind.name)
        original(self, kind, user)

    monkeypatch.setattr(engine._Writer, "__init__", init)
    monkeypatch.setattr(PersonSheet, "chunk_size", 2)
    monkeypatch.setattr(PaymentSheet, "chunk_size", 2)
    return started


def _import(tmp_path, kind, header, rows, *, parallel, user=None):
    path = write_csv(tmp_path / f"{kind}-{parallel}.csv", header, rows)
    return run_import(get_kind(kind), path, user=user, parallel=parallel)


def _stored(seqs):
    """What was stored for the persons ``seqs``, without keys, names and times."""
    out = []
    for seq in seqs:
        person = Person.objects.get(document_number=id_number(seq))
        enrollment = Enrollment.objects.get(person=person)
        payment = Payment.objects.get(enrollment=enrollment)
        out.append((
            (person.birth_date, person.sex, person.category, person.hukou_region_id),
            (enrollment.plan_year_id, enrollment.tier, enrollment.status, enrollment.coverage_start,
             enrollment.coverage_end, enrollment.paid_off_date, enrollment.window_code,
             enrollment.continuous_years),
            (payment.scheme_id, payment.amount_due, payment.subsidy, payment.self_paid, payment.paid_date,
             payment.channel, payment.window_code, payment.completes),
            tuple(model.history.filter(id=obj.pk).count() for model, obj in (
                (Person, person), (Enrollment, enrollment), (Payment, payment)))))
    return out


def test_writer_process_stores_what_one_process_stores(tmp_path, writers, dianjiang_clerk):
    one, two = (1, 3, 5, 7, 9), (11, 13, 15, 17, 19)
    for seqs, parallel in ((one, False), (two, True)):
        persons = _import(tmp_path, "persons", PERSON_HEADER, [person_row(s) for s in seqs],
                          parallel=parallel, user=dianjiang_clerk)
        payments = _import(tmp_path, "payments", PAYMENT_HEADER,
                           [payment_row(s, receipt=f"R{parallel}{s}") for s in seqs],
                           parallel=parallel, user=dianjiang_clerk)
        assert persons.written and payments.written
        assert persons.counts["created"] == payments.counts["created"] == 5
    assert writers == ["persons", "payments"]
    assert _stored(two) == _stored(one)
    assert _stored(two)[0][3] == (1, 1, 1)  # one history row each
    again = _import(tmp_path, "payments", PAYMENT_HEADER,
                    [payment_row(s, receipt=f"RTrue{s}") for s in two], parallel=True)
    assert again.ok and again.counts["unchanged"] == 5 and Payment.objects.count() == 10


def test_a_bad_row_in_a_later_chunk_writes_nothing(tmp_path, writers):
    rows = [person_row(s) for s in (1, 3, 5, 7, 9, 11)]
    rows[2][2] = "贵宾"  # row 4, chunk 2
    rows[5][0] = id_number(11)[:-1] + ("0" if id_number(11)[-1] != "0" else "1")  # row 7, chunk 3
    result = _import(tmp_path, "persons", PERSON_HEADER, rows, parallel=True)
    assert writers == ["persons"]
    assert {(e.row, e.column) for e in result.errors} == {(4, "人员类别"), (7, "证件号码")}
    assert not result.written and result.rows == 6
    assert not Person.objects.exists() and not Person.history.exists()


def test_a_refused_write_rolls_back_the_chunks_already_written(tmp_path, writers, monkeypatch):
    """Another session commits one of the file's persons after the check: the writer's
    insert is refused by the unique constraint and nothing of the file stays."""
    check = PersonSheet.check

    def check_then_concurrent_insert(self, rows, ctx):
        planned = check(self, rows, ctx)
        if rows[0].number == 6:  # the third chunk; two chunks are with the writer already

            def other_session():
                Person.objects.create(document_number=id_number(9), name="他人", category="resident",
                                      birth_date=date(1980, 6, 15), sex="male")
                connection.close()

            thread = threading.Thread(target=other_session)
            thread.start()
            thread.join()
        return planned

    monkeypatch.setattr(PersonSheet, "check", check_then_concurrent_insert)
    rows = [person_row(s) for s in (1, 3, 5, 7, 9, 11)]
    result = _import(tmp_path, "persons", PERSON_HEADER, rows, parallel=True)
    assert writers == ["persons"]
    assert not result.ok and not result.written
    assert "写入时数据库拒绝" in result.errors[0].message
    assert list(Person.objects.values_list("name", flat=True)) == ["他人"]
    assert Person.history.count() == 1  # the other session's row only


def test_one_process_inside_a_transaction(tmp_path, writers):
    with transaction.atomic():
        result = _import(tmp_path, "persons", PERSON_HEADER, [person_row(1)], parallel=True)
        assert result.written and Person.objects.count() == 1
    assert writers == []  # the writer could not see the caller's uncommitted rows


def test_continuity_from_an_earlier_chunk_of_the_same_file(tmp_path, writers):
    """2024 rows in the first chunks, 2025 rows of the same persons later: the 2025
    enrollments continue the 2024 ones (连续参保 2 年) although the writer has not
    committed them — the check keeps the file's enrollments (``ctx.state``)."""
    plan_year = plan_year_rollover(region_code="500231", kind="resident_basic", from_year=2024, to_year=2025)
    PlanYear.objects.filter(pk=plan_year.pk).update(status=PlanYear.Status.ACTIVE)
    seqs = (1, 3, 5, 7)
    years = {}
    for parallel in (False, True):
        Payment.objects.all().delete()
        Enrollment.objects.all().delete()
        assert _import(tmp_path, "persons", PERSON_HEADER, [person_row(s) for s in seqs],
                       parallel=parallel).ok
        rows = [payment_row(s, receipt=f"A{s}") for s in seqs]
        rows += [payment_row(s, receipt=f"B{s}", year=2025, paid="2024-12-01") for s in seqs]
        result = _import(tmp_path, "payments", PAYMENT_HEADER, rows, parallel=parallel)
        assert result.written, [str(e) for e in result.errors]
        years[parallel] = sorted(Enrollment.objects.values_list("plan_year__year", "continuous_years"))
    assert writers == ["persons", "payments"]
    assert years[True] == years[False] == [(2024, 1)] * 4 + [(2025, 2)] * 4


def test_a_writer_that_fails_leaves_nothing_written(tmp_path, writers, monkeypatch):
    """The writer thread fails after its first chunks (out of memory, a bug): the import
    fails loudly and the database has none of the file."""
    write = PersonSheet.write
    calls = []

    def write_then_fail(self, planned, ctx):
        write(self, planned, ctx)
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError

    monkeypatch.setattr(PersonSheet, "write", write_then_fail)
    rows = [person_row(s) for s in range(1, 40, 2)]
    with pytest.raises(RuntimeError, match="写入线程"):
        _import(tmp_path, "persons", PERSON_HEADER, rows, parallel=True)
    assert writers == ["persons"]
    assert not Person.objects.exists() and not Person.history.exists()


def _open_transactions() -> list:
    """Other sessions of this database inside a transaction that writes (an import's
    writer: its last statement a COPY or an INSERT)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                       "AND (query ILIKE 'COPY%%' OR query ILIKE 'INSERT%%' OR query ILIKE 'SET CONSTRAINTS%%')")
        return [row[0] for row in cursor.fetchall()]


def test_a_killed_import_leaves_nothing_written_and_holds_no_lock(tmp_path):
    """``kill -9`` of ``import_sheet`` while it writes (issue 15, hole 5): no writer
    outlives it holding its transaction and locks, nothing of the file is written, and
    the same file imports at once afterwards."""
    import signal
    import subprocess
    import sys
    import time

    from django.conf import settings

    rows = [person_row(s) for s in range(1, 40_001, 2)]
    path = write_csv(tmp_path / "big.csv", PERSON_HEADER, rows)
    db = settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    proc = subprocess.Popen([sys.executable, "manage.py", "import_sheet", "persons", str(path)], env=env,
                            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _open_transactions() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the writes
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _open_transactions() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _open_transactions() == []  # nothing holds the import's transaction
    assert not Person.objects.exists()
    result = _import(tmp_path, "persons", PERSON_HEADER, rows[:50], parallel=True)
    assert result.written and Person.objects.count() == 50
