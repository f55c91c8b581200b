"""The ledger agrees with the payments after concurrent payments and after a payments import
killed while it writes (issue 16 §1; docs/money.md §核对). PostgreSQL only: threads with
their own connections, and a real ``import_sheet`` process killed with SIGKILL."""
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from enrollment import services
from enrollment.models import Payment
from enrollment.tests.concurrency import run_together
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number
from finance.checks import ledger_differences
from ledger import selectors
from ledger.models import Account, Journal
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="并发与中断测试需要 PostgreSQL"),
    pytest.mark.usefixtures("loaded_policies"),
]


def _number(i: int) -> str:
    """A distinct valid 身份证号 for each ``i`` (500 sequence codes per birth date)."""
    return id_number(i % 500 * 2 + 1, birth=date(1960, 1, 1) + timedelta(days=i // 500))


def _person(i):
    return [_number(i), f"测试{i}", "城乡居民", "垫江县", "垫江县", "13800001234"]


def _payment(i):
    return [_number(i), f"测试{i}", "500231", "城乡居民基本医疗保险", 2024, "一档", "2023-12-01", "380.00", "0",
        "380.00", "微信", f"R{i:06d}"]


def _persons(tmp_path, seqs):
    path = write_csv(tmp_path / "persons.csv", PERSON_HEADER, [_person(s) for s in seqs])
    assert run_import(get_kind("persons"), path, user=None).written


def test_concurrent_payments_each_booked_once_and_the_ledger_agrees(tmp_path):
    from enrollment.models import Person
    from policies.models import PlanYear

    _persons(tmp_path, [1, 3, 5])
    plan_year = PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
    enrollments = [services.enrollment_create(person=Person.objects.get(document_number=_number(s)),
                                              plan_year=plan_year, tier=1, acting_user=None) for s in (1, 3, 5)]
    calls = [lambda e=e, i=i: services.payment_record(
        enrollment=e, paid_date=date(2023, 12, 1), channel="wechat", receipt_no=f"BF-{i}",
        self_paid=None, acting_user=None) for i, e in enumerate(enrollments)]
    calls.append(lambda: services.payment_record(  # the same enrollment twice: one is refused
        enrollment=enrollments[0], paid_date=date(2023, 12, 1), channel="wechat",
        receipt_no="BF-again", self_paid=None, acting_user=None))
    outcomes = run_together(calls)
    assert outcomes.count("ok") == 3
    assert Journal.objects.filter(kind=Journal.Kind.CONTRIBUTION).count() == Payment.objects.count() == 3
    total = sum(p.self_paid + p.subsidy for p in Payment.objects.all())
    assert selectors.balance(account=Account.BANK) == total > 0
    assert ledger_differences() == []


def _writing(pid_of_import) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                       "AND (query ILIKE 'COPY%%' OR query ILIKE 'INSERT%%')")
        return cursor.fetchone()[0] > 0


def test_a_killed_payments_import_books_nothing_and_the_ledger_agrees(tmp_path):
    seqs = list(range(12_000))
    _persons(tmp_path, seqs)
    path = write_csv(tmp_path / "payments.csv", PAYMENT_HEADER, [_payment(s) for s in seqs])
    db = settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    proc = subprocess.Popen([sys.executable, "manage.py", "import_sheet", "payments", str(path)], env=env,
                            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _writing(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _writing(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Payment.objects.exists() and not Journal.objects.exists()
    assert ledger_differences() == []
    small = write_csv(tmp_path / "again.csv", PAYMENT_HEADER, [_payment(s) for s in seqs[:20]])
    assert run_import(get_kind("payments"), small, user=None).written
    assert Journal.objects.count() == Payment.objects.count() == 20
    assert selectors.balance(account=Account.BANK) == Decimal("380.00") * 20
    assert ledger_differences() == []
