"""Refunds of contributions (退费; issue 16 §2, docs/money.md §退费): only the self-paid
part, never more than is left, a second person approves, refused while benefits of the
period are booked, a full refund ends coverage, the bank's answer. (The agreement of the
ledger with the refunds after each scenario: finance/tests/test_refund_ledger.py.)"""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from enrollment import selectors, services
from enrollment.models import Enrollment, Refund
from ledger import postings
from ledger import selectors as ledger
from ledger import services as ledger_services
from ledger.models import Account, Journal, SourceKind
from policies.models import DutySeparation
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")
D = Decimal


@pytest.fixture
def clerk():
    return role_staff("tf_jingban", CLERK, ("500231",))


@pytest.fixture
def reviewer():
    return role_staff("tf_shenhe", REVIEWER, ("500231",))


def paid_enrollment(*, dibao=False, kind="resident_basic", receipt="RF-1", bank=True, **pay):
    person = new_person(**({"bank_name": "农业银行垫江支行", "bank_account_name": "张三",
                            "bank_account_number": "6228480012345678901"} if bank else {}))
    if dibao:
        services.identity_add(person=person, identity="dibao", valid_from=date(2023, 1, 1),
                              acting_user=None)
    enrollment = services.enrollment_create(person=person, plan_year=plan_year("500231", kind),
                                            tier=1, acting_user=None)
    payment = services.payment_record(enrollment=enrollment, paid_date=date(2023, 11, 20),
                                      channel="wechat", receipt_no=receipt, acting_user=None, **pay)
    return enrollment, payment


def request(payment, amount, user, reason=Refund.Reason.OVERPAID, **kw):
    return services.refund_request(payment=payment, amount=D(amount), reason=reason,
                                   acting_user=user, **kw)


def refusal(exc, field=None) -> str:
    return " ".join(exc.value.message_dict[field] if field else exc.value.messages)


def test_only_the_self_paid_part_is_refundable_never_the_subsidy(clerk):
    _enrollment, payment = paid_enrollment(dibao=True)
    assert (payment.subsidy, payment.self_paid) == (D("342.00"), D("38.00"))
    with pytest.raises(ValidationError) as exc:
        request(payment, "38.01", clerk)
    assert "超过可退金额38.00元" in refusal(exc, "amount") and "资助金额不退" in refusal(exc, "amount")
    first = request(payment, "30", clerk)
    assert (first.status, first.recorded_by, first.payee_name, first.payee_account) == (
        Refund.Status.PENDING, clerk, "张三", "6228480012345678901")
    assert first.history.count() == 1
    with pytest.raises(ValidationError, match="可退金额8.00元"):
        request(payment, "8.01", clerk)
    request(payment, "8", clerk)
    assert selectors.refundable(payment) == 0
    assert not Journal.objects.filter(source_kind=SourceKind.REFUND).exists()  # nothing booked yet


def test_a_request_names_each_missing_or_wrong_field(clerk):
    _enrollment, payment = paid_enrollment(bank=False)
    with pytest.raises(ValidationError) as exc:
        request(payment, "0", clerk, reason=Refund.Reason.OTHER)
    errors = exc.value.message_dict
    assert errors["amount"] == ["退费金额必须大于零"]
    assert errors["reason_note"] == ["退费原因为“其他”时请填写原因说明"]
    assert "请填写收款银行账号" in errors["payee_account"][0]
    with pytest.raises(ValidationError) as exc:
        request(payment, "10", clerk, reason=Refund.Reason.DEATH, payee_name="李四",
                payee_account="6228 4800 1234", payee_bank="农业银行")
    assert exc.value.message_dict == {"terminate_on": ["退费原因为“死亡”时请填写终止参保日期"]}
    refund = request(payment, "10", clerk, reason=Refund.Reason.DEATH, payee_name="李四",
                     payee_account="6228 4800 1234", payee_bank="农业银行",
                     terminate_on=date(2024, 5, 1))
    assert refund.payee_account == "622848001234"
    with pytest.raises(ValidationError, match="只能包含数字"):
        request(payment, "1", clerk, payee_account="62-28", payee_name="李四", payee_bank="农行")


def test_another_region_and_a_reviewer_cannot_record(reviewer):
    _enrollment, payment = paid_enrollment()
    with pytest.raises(PermissionDenied):
        request(payment, "10", role_staff("tf_cz", CLERK, ("140400",)))
    with pytest.raises(PermissionDenied):
        request(payment, "10", reviewer)  # 审核员 approves, does not record


def test_whoever_recorded_a_refund_cannot_approve_it_and_a_reviewer_books_it(clerk, reviewer):
    _enrollment, payment = paid_enrollment()
    both = role_staff("tf_both", CLERK, ("500231",))
    both.groups.add(*reviewer.groups.all())
    refund = request(payment, "100", both)
    with pytest.raises(PermissionDenied):
        services.refund_approve(refund=refund, acting_user=clerk)  # no right to approve
    with pytest.raises(ValidationError, match="岗位分离：退费复核通过不能由登记退费的同一人员办理"):
        services.refund_approve(refund=refund, acting_user=both)
    refund = services.refund_approve(refund=refund, acting_user=reviewer)
    assert (refund.status, refund.approved_by, refund.ends_coverage) == (
        Refund.Status.PAYABLE, reviewer, False)
    source = (SourceKind.REFUND, refund.pk)
    assert ledger.balance(source=source, account=Account.CONTRIBUTION) == D("100.00")
    assert ledger.balance(source=source, account=Account.REFUND_PAYABLE) == D("-100.00")
    [journal] = Journal.objects.filter(source_kind=SourceKind.REFUND, source_id=refund.pk)
    assert (journal.scheme_id, journal.year, journal.person_id) == (
        payment.scheme_id, 2024, payment.enrollment.person_id)
    with pytest.raises(ValidationError, match="当前为“待支付”，只有“待复核”的退费才能复核通过"):
        services.refund_approve(refund=refund, acting_user=reviewer)
    # a bureau that lets one person do both unticks the row
    other = request(payment, "10", both)
    DutySeparation.objects.update_or_create(act="refund_approve", prior="refund_record",
                                            defaults={"enforced": False})
    assert services.refund_approve(refund=other, acting_user=both).status == Refund.Status.PAYABLE


def test_a_rejected_refund_frees_its_amount_and_books_nothing(clerk, reviewer):
    _enrollment, payment = paid_enrollment()
    refund = request(payment, "380", clerk)
    with pytest.raises(ValidationError) as exc:
        services.refund_reject(refund=refund, reason=" ", acting_user=reviewer)
    assert exc.value.message_dict == {"reject_reason": ["请填写驳回原因"]}
    refund = services.refund_reject(refund=refund, reason="未见重复缴费凭证", acting_user=reviewer)
    assert (refund.status, refund.reject_reason, refund.rejected_by) == (
        Refund.Status.REJECTED, "未见重复缴费凭证", reviewer)
    assert selectors.refundable(payment) == D("380.00")
    assert not Journal.objects.filter(source_kind=SourceKind.REFUND).exists()
    with pytest.raises(ValidationError, match="只有“待复核”的退费才能复核通过"):
        services.refund_approve(refund=refund, acting_user=reviewer)


def test_a_full_refund_ends_the_coverage_and_the_schemes_that_follow_it(clerk, reviewer):
    enrollment, payment = paid_enrollment()
    critical = services.enrollment_create(person=enrollment.person, acting_user=None,
                                          plan_year=plan_year("500231", "critical_illness"))
    part = services.refund_approve(refund=request(payment, "80", clerk), acting_user=reviewer)
    assert part.ends_coverage is False
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.coverage_start) == (Enrollment.Status.ACTIVE, date(2024, 1, 1))
    rest = services.refund_approve(refund=request(payment, "300", clerk, reason=Refund.Reason.DUPLICATE),
                                   acting_user=reviewer)
    assert rest.ends_coverage is True
    enrollment.refresh_from_db()
    critical.refresh_from_db()
    assert (enrollment.status, enrollment.coverage_start, enrollment.coverage_end,
            enrollment.terminated_on) == (Enrollment.Status.TERMINATED, None, None, date(2024, 1, 1))
    assert f"退费（{rest}，重复缴费）：全额退费" in enrollment.note
    assert critical.status == Enrollment.Status.TERMINATED


def test_a_subsidised_enrollment_stays_covered_after_its_self_paid_part_is_refunded(clerk, reviewer):
    enrollment, payment = paid_enrollment(dibao=True)
    refund = services.refund_approve(refund=request(payment, "38", clerk), acting_user=reviewer)
    assert refund.ends_coverage is False
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


@pytest.mark.parametrize("reason", [Refund.Reason.DEATH, Refund.Reason.TRANSFER, Refund.Reason.MILITARY])
def test_death_transfer_or_military_ends_coverage_from_the_date_given(clerk, reviewer, reason):
    enrollment, payment = paid_enrollment()
    refund = request(payment, "190", clerk, reason=reason, terminate_on=date(2024, 7, 1))
    refund = services.refund_approve(refund=refund, acting_user=reviewer)
    enrollment.refresh_from_db()
    assert refund.ends_coverage is True
    assert (enrollment.status, enrollment.coverage_start, enrollment.coverage_end) == (
        Enrollment.Status.TERMINATED, date(2024, 1, 1), date(2024, 6, 30))


def test_a_refund_is_refused_while_benefits_of_the_period_are_booked(clerk, reviewer):
    enrollment, payment = paid_enrollment()
    refund = request(payment, "300", clerk)
    scheme = payment.scheme
    [claim_journal] = ledger_services.journals_write([postings.claim_payable(
        claim_id=999, scheme_id=scheme.pk, region_id=scheme.region_id, year=2024,
        person_id=enrollment.person_id, paid="120.50", booked_on=date(2024, 3, 1))],
        acting_user=None)
    message = "已有结算的理赔（待遇支出120.50元），请先冲正该期间已结算的理赔"
    with pytest.raises(ValidationError, match=message):
        services.refund_approve(refund=refund, acting_user=reviewer)
    with pytest.raises(ValidationError, match=message):
        request(payment, "1", clerk)
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PENDING
    # the reversed claim frees the refund
    ledger_services.source_reverse(source_kind=SourceKind.CLAIM, source_id=999, acting_user=None)
    assert services.refund_approve(refund=refund, acting_user=reviewer).status == Refund.Status.PAYABLE
    assert claim_journal


def test_the_banks_answer_pays_or_keeps_the_refund_payable(clerk, reviewer):
    _enrollment, payment = paid_enrollment()
    refund = request(payment, "50", clerk)
    with pytest.raises(ValidationError, match="只有“待支付”的退费才能登记支付"):
        services.refund_mark_paid(refund=refund, reference="B1", paid_on=date(2024, 4, 1),
                                  acting_user=reviewer)
    refund = services.refund_approve(refund=refund, acting_user=reviewer)
    assert list(selectors.refunds_payable(acting_user=reviewer)) == [refund]
    assert list(selectors.refunds_payable(acting_user=role_staff("tf_cz2", REVIEWER, ("140400",)))) == []
    refund = services.refund_payment_failed(refund=refund, reason="账号不存在", acting_user=reviewer)
    assert (refund.status, refund.failure_reason) == (Refund.Status.PAYABLE, "账号不存在")
    refund = services.refund_payee_change(refund=refund, payee_name="张三",
                                          payee_account="6228480000000000001",
                                          payee_bank="农业银行垫江支行", acting_user=clerk)
    refund = services.refund_mark_paid(refund=refund, reference="B2-0001", paid_on=date(2024, 4, 2),
                                       acting_user=reviewer)
    assert (refund.status, refund.paid_reference, refund.failure_reason) == (
        Refund.Status.PAID, "B2-0001", "")
    source = (SourceKind.REFUND, refund.pk)
    assert ledger.balance(source=source, account=Account.REFUND_PAYABLE) == 0
    assert ledger.balance(source=source, account=Account.BANK) == D("-50.00")
    # the same returned file again changes nothing; another reference is refused
    services.refund_mark_paid(refund=refund, reference="B2-0001", paid_on=date(2024, 4, 2),
                              acting_user=reviewer)
    assert Journal.objects.filter(source_kind=SourceKind.REFUND, source_id=refund.pk).count() == 2
    with pytest.raises(ValidationError, match="已按支付流水号“B2-0001”支付"):
        services.refund_mark_paid(refund=refund, reference="B3", paid_on=date(2024, 4, 3),
                                  acting_user=reviewer)
    with pytest.raises(ValidationError, match="当前为“已支付”"):
        services.refund_payment_failed(refund=refund, reason="退汇", acting_user=reviewer)
    assert selectors.refunds_payable().count() == 0
