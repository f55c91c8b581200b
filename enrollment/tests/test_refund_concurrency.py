"""Two reviewers approving at the same moment (the enrollment's row lock,
``services.refunds._locked``): one refund is booked once; two refunds that together give
back the whole self-paid amount end the coverage once, and the second sees the first.
PostgreSQL only: two threads, two connections."""
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from enrollment import selectors, services
from enrollment.models import Enrollment, Refund
from ledger.models import Journal, SourceKind
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

from .concurrency import run_together
from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="行锁并发测试需要 PostgreSQL"),
    pytest.mark.usefixtures("contribution_rows"),
]
PAYEE = {"payee_name": "赵六", "payee_account": "6228480012345678901", "payee_bank": "农业银行"}


def race(calls, monkeypatch):
    """Run each call at the same time in its own thread and connection; the benefits read
    is slowed down so that, without the lock, both would decide on the same figures."""
    original = selectors.benefits_refusal

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(selectors, "benefits_refusal", slow)
    return run_together(calls)


def paid_with_staff():
    enrollment = services.enrollment_create(person=new_person(), acting_user=None, tier=1,
                                            plan_year=plan_year("500231", "resident_basic"))
    payment = services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1),
                                      channel="wechat", receipt_no="CC-1", acting_user=None)
    clerk = role_staff("cc_jingban", CLERK, ("500231",))
    reviewers = [role_staff(f"cc_shenhe{i}", REVIEWER, ("500231",)) for i in (1, 2)]
    return enrollment, payment, clerk, reviewers


def test_two_approvals_of_one_refund_book_it_once(monkeypatch):
    _enrollment, payment, clerk, (r1, r2) = paid_with_staff()
    refund = services.refund_request(payment=payment, amount=Decimal("100"), reason="overpaid",
                                     acting_user=clerk, **PAYEE)
    outcomes = race([lambda: services.refund_approve(refund=refund, acting_user=r1),
                     lambda: services.refund_approve(refund=refund, acting_user=r2)], monkeypatch)
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    assert any("当前为“待支付”" in o for o in outcomes if o != "ok")
    assert Journal.objects.filter(source_kind=SourceKind.REFUND, source_id=refund.pk).count() == 1


def test_two_refunds_reaching_the_whole_amount_end_the_coverage_once(monkeypatch):
    enrollment, payment, clerk, (r1, r2) = paid_with_staff()
    a = services.refund_request(payment=payment, amount=Decimal("180"), reason="overpaid",
                                acting_user=clerk, **PAYEE)
    b = services.refund_request(payment=payment, amount=Decimal("200"), reason="duplicate",
                                acting_user=clerk, **PAYEE)
    outcomes = race([lambda: services.refund_approve(refund=a, acting_user=r1),
                     lambda: services.refund_approve(refund=b, acting_user=r2)], monkeypatch)
    assert outcomes == ["ok", "ok"]
    ends = sorted(Refund.objects.filter(pk__in=[a.pk, b.pk]).values_list("ends_coverage", flat=True))
    assert ends == [False, True]  # the second to lock saw the first's booking
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    assert (enrollment.status, enrollment.coverage_start) == (Enrollment.Status.TERMINATED, None)
