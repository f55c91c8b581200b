"""The ledger agrees with the payments and claims tables to the fen after each money
scenario (docs/money.md §核对; ``finance.checks.ledger_differences``)."""
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from claims import services as claims
from claims.models import Claim
from claims.tests.factories import CASES, claim_for_case, dianjiang_person, outpatient, pay_outstanding
from enrollment.models import Payment
from finance.checks import ledger_differences
from ledger import selectors
from ledger.models import Account, Journal, SourceKind

pytestmark = pytest.mark.django_db


def _approve(claim):
    claims.claim_documents_receive(claim=claim, acting_user=None,
                                   received={d.pk: True for d in claim.documents.all()})
    return claims.claim_approve(claim=claim, acting_user=None)


def _agrees():
    assert ledger_differences() == []
    call_command("ledger_check", stdout=open("/dev/null", "w"))


def test_recorded_payments_are_booked_and_agree(loaded_policies):
    person = dianjiang_person()
    payments = Payment.objects.filter(enrollment__person=person)
    assert payments.exists()  # 大病保险 has no payment of its own in 垫江
    for payment in payments:
        booked = -selectors.balance(source=(SourceKind.PAYMENT, payment.pk), account=Account.CONTRIBUTION)
        assert booked == payment.self_paid
        assert selectors.balance(source=(SourceKind.PAYMENT, payment.pk), account=Account.BANK) == payment.total_paid
    _agrees()


def test_approve_pay_and_return_book_the_claim_and_agree(loaded_policies):
    person = dianjiang_person()
    claim = claims.claim_settle(claim=outpatient(person, "1000.00", level=2), acting_user=None)
    fund = sum(layer.paid for layer in claim.current_layers().filter(given=False))
    assert fund > 0
    claim = _approve(claim)
    source = (SourceKind.CLAIM, claim.pk)
    assert selectors.balance(source=source, account=Account.BENEFIT) == fund
    assert selectors.balance(source=source, account=Account.PAYABLE) == -fund
    _agrees()
    claims.claim_return(claim=claim, acting_user=None, reason="发票金额有误")
    assert selectors.balance(source=source, account=Account.BENEFIT) == 0
    assert Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=claim.pk,
                                  kind=Journal.Kind.REVERSAL).count() == 1
    _agrees()
    claim = claims.claim_settle(claim=Claim.objects.get(pk=claim.pk), acting_user=None)
    claim = _approve(claim)
    claim = pay_outstanding(claim)
    assert selectors.balance(source=source, account=Account.PAYABLE) == 0
    assert selectors.balance(source=source, account=Account.BANK) == -fund
    _agrees()


def test_a_claim_with_layers_given_by_the_hospital_books_only_the_computed_layer(loaded_policies):
    claim = claims.claim_settle(claim=claim_for_case(CASES["ex-5"]), acting_user=None)
    _approve(claim)
    [journal] = Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=claim.pk)
    assert journal.scheme.kind == "employee_supplementary"
    computed = claim.current_layers().get(scheme_kind="employee_supplementary").paid
    assert selectors.balance(source=(SourceKind.CLAIM, claim.pk), account=Account.BENEFIT) == computed
    _agrees()


def test_a_difference_is_found_and_named(loaded_policies):
    person = dianjiang_person()
    payment = Payment.objects.filter(enrollment__person=person).first()
    Payment.objects.filter(pk=payment.pk).update(self_paid=payment.self_paid - Decimal("0.01"))
    [difference] = ledger_differences()
    assert payment.receipt_no in difference and "账上为" in difference
    with pytest.raises(CommandError, match="不符"):
        call_command("ledger_check")


def test_whoever_settled_a_claim_cannot_approve_it_unless_the_row_allows(loaded_policies):
    from django.core.exceptions import ValidationError

    from policies.duties import ensure_default_rows
    from policies.models import DutySeparation
    from policies.roles import CLERK, REVIEWER
    from policies.tests.factories import role_staff

    ensure_default_rows()
    both = role_staff("jingban_shenhe", CLERK, ("500231",))
    both.groups.add(*role_staff("shenhe_x", REVIEWER, ("500231",)).groups.all())
    claim = claims.claim_settle(claim=outpatient(dianjiang_person(), "1000.00", level=2), acting_user=both)
    claims.claim_documents_receive(claim=claim, acting_user=both,
                                   received={d.pk: True for d in claim.documents.all()})
    with pytest.raises(ValidationError, match="岗位分离：理赔审核通过不能由结算理赔的同一人员办理"):
        claims.claim_approve(claim=claim, acting_user=both)
    assert not Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=claim.pk).exists()
    DutySeparation.objects.filter(act="claim_approve", prior="claim_settle").update(enforced=False)
    assert claims.claim_approve(claim=claim, acting_user=both).status == Claim.Status.APPROVED
    _agrees()
