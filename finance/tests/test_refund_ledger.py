"""Refunds (退费) against the ledger (docs/money.md §退费, §核对): after each scenario —
requested, rejected, approved, paid, a failed payment, a full refund ending coverage, a
refund refused until the period's claim is reversed — ``ledger_differences()`` is empty,
and a refund row that disagrees with its journals is named."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims import services as claims
from claims.tests.factories import dianjiang_person, outpatient
from enrollment import services
from enrollment.models import Enrollment, Payment, Refund
from finance.checks import ledger_differences
from ledger import selectors
from ledger.models import Account
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

pytestmark = pytest.mark.django_db
D = Decimal
PAYEE = {"payee_name": "理赔测试", "payee_account": "6228480012345678901", "payee_bank": "农业银行"}


@pytest.fixture
def staff(loaded_policies):
    return (role_staff("rl_jingban", CLERK, ("500231",)), role_staff("rl_shenhe", REVIEWER, ("500231",)))


def _basic_payment(person) -> Payment:
    return Payment.objects.get(enrollment__person=person,
                               enrollment__plan_year__scheme__kind="resident_basic")


def _request(payment, amount, clerk, reason=Refund.Reason.OVERPAID):
    return services.refund_request(payment=payment, amount=D(amount), reason=reason,
                                   acting_user=clerk, **PAYEE)


def test_each_refund_step_keeps_the_ledger_in_agreement(staff):
    clerk, reviewer = staff
    payment = _basic_payment(dianjiang_person())
    bank_before = selectors.balance(account=Account.BANK, scheme=payment.scheme)
    pending = _request(payment, "20", clerk)
    assert ledger_differences() == []
    services.refund_reject(refund=pending, reason="重复申请", acting_user=reviewer)
    assert ledger_differences() == []
    refund = services.refund_approve(refund=_request(payment, "100", clerk), acting_user=reviewer)
    assert ledger_differences() == []
    assert selectors.balance(account=Account.REFUND_PAYABLE, scheme=payment.scheme) == D("-100.00")
    services.refund_payment_failed(refund=refund, reason="户名不符", acting_user=reviewer)
    assert ledger_differences() == []
    services.refund_mark_paid(refund=refund, reference="TF-0001", paid_on=date(2024, 5, 6),
                              acting_user=reviewer)
    assert ledger_differences() == []
    assert selectors.balance(account=Account.BANK, scheme=payment.scheme) == bank_before - D("100.00")
    assert selectors.balance(account=Account.REFUND_PAYABLE, scheme=payment.scheme) == 0


def test_a_full_refund_ends_coverage_and_agrees(staff):
    clerk, reviewer = staff
    payment = _basic_payment(dianjiang_person())
    refund = services.refund_approve(refund=_request(payment, payment.self_paid, clerk,
                                                     reason=Refund.Reason.DUPLICATE),
                                     acting_user=reviewer)
    assert refund.ends_coverage
    enrollment = Enrollment.objects.get(pk=payment.enrollment_id)
    assert (enrollment.status, enrollment.coverage_start) == (Enrollment.Status.TERMINATED, None)
    assert -selectors.balance(account=Account.CONTRIBUTION, person=enrollment.person_id,
                              scheme=payment.scheme) == 0
    assert ledger_differences() == []


def test_a_refund_after_a_settled_claim_waits_for_its_reversal(staff):
    clerk, reviewer = staff
    person = dianjiang_person()
    payment = _basic_payment(person)
    refund = _request(payment, "50", clerk)
    claim = claims.claim_settle(claim=outpatient(person, "1000.00", level=2), acting_user=None)
    claims.claim_documents_receive(claim=claim, acting_user=None,
                                   received={d.pk: True for d in claim.documents.all()})
    claim = claims.claim_approve(claim=claim, acting_user=None)
    with pytest.raises(ValidationError, match="请先冲正该期间已结算的理赔"):
        services.refund_approve(refund=refund, acting_user=reviewer)
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PENDING
    assert ledger_differences() == []
    claims.claim_return(claim=claim, acting_user=None, reason="参保人申请退费，先冲正")
    assert services.refund_approve(refund=refund, acting_user=reviewer).status == Refund.Status.PAYABLE
    assert ledger_differences() == []


def test_a_refund_that_disagrees_with_its_journals_is_named(staff):
    clerk, reviewer = staff
    payment = _basic_payment(dianjiang_person())
    refund = services.refund_approve(refund=_request(payment, "30", clerk), acting_user=reviewer)
    Refund.objects.filter(pk=refund.pk).update(amount=D("30.01"))
    differences = ledger_differences()
    assert any(f"退字第{refund.pk}号" in line and "核定退费30.01元，账上缴费收入冲减30.00元" in line
               for line in differences), differences
