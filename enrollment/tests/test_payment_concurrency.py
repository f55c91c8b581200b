"""Concurrent payments for the same enrollment never over-pay (README §6; the enrollment row
is locked by ``payment_record``). PostgreSQL only: two threads, two connections."""
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from enrollment import selectors, services
from enrollment.models import Enrollment, Payment

from .concurrency import run_together
from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="行锁并发测试需要 PostgreSQL"),
    pytest.mark.usefixtures("contribution_rows"),
]


def race(enrollment, amounts, monkeypatch):
    """Run one payment per amount at the same time; each thread has its own connection.
    The read of the payment's facts is slowed down so that, without the row lock, both would
    read "nothing paid"."""
    original = selectors.payment_facts

    def slow_facts(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(selectors, "payment_facts", slow_facts)
    return run_together([
        lambda i=i, a=a: services.payment_record(
            enrollment=enrollment, paid_date=date(2023, 12, 1), channel="wechat",
            receipt_no=f"RACE-{i}", self_paid=a, acting_user=None)
        for i, a in enumerate(amounts)])


def test_two_partial_payments_exceeding_the_due_one_is_refused(monkeypatch):
    enrollment = services.enrollment_create(person=new_person(), acting_user=None, tier=1,
                                            plan_year=plan_year("500231", "resident_basic"))
    outcomes = race(enrollment, [Decimal("200"), Decimal("200")], monkeypatch)
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    assert any("超过应缴未缴金额 180.00" in o for o in outcomes if o != "ok")
    paid = sum(p.self_paid + p.subsidy for p in Payment.objects.filter(enrollment=enrollment))
    assert paid == Decimal("200")


def test_two_full_payments_only_one_is_recorded(monkeypatch):
    enrollment = services.enrollment_create(person=new_person(), acting_user=None, tier=2,
                                            plan_year=plan_year("500231", "resident_basic"))
    outcomes = race(enrollment, [None, None], monkeypatch)
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    assert any("缴清" in o for o in outcomes if o != "ok")
    assert Payment.objects.filter(enrollment=enrollment).count() == 1
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    assert (enrollment.coverage_start, enrollment.paid_off_date) == (date(2024, 1, 1),
                                                                     date(2023, 12, 1))
