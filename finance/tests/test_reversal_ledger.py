"""The ledger agrees with the claims table after every step of a 冲正 and re-settlement
(docs/money.md §冲正与重新结算; ``finance.checks.ledger_differences``): reversal of an
approved and of a paid claim, the flagged later claim re-settled, a lower re-settlement
recovered (待遇追回), a higher one paid the difference."""
from decimal import Decimal

import pytest

from claims import services as claims
from claims.models import Claim
from claims.tests.factories import dianjiang_person, outpatient
from claims.tests.test_reversal import APRIL, approve, pay, reverse, settle
from finance.checks import ledger_differences
from finance.tests.test_ledger_agreement import _agrees
from ledger import selectors
from ledger.models import Account, Journal, SourceKind

pytestmark = pytest.mark.django_db


def bank(claim):
    return selectors.balance(source=(SourceKind.CLAIM, claim.pk), account=Account.BANK)


def payable(claim):
    return selectors.balance(source=(SourceKind.CLAIM, claim.pk), account=Account.PAYABLE)


def benefit(claim):
    return selectors.balance(source=(SourceKind.CLAIM, claim.pk), account=Account.BENEFIT)


def corrected(claim, total):
    return settle(claims.claim_update(claim=Claim.objects.get(pk=claim.pk), acting_user=None,
                                      total=Decimal(total)))


def test_reversal_of_an_approved_claim_and_the_flagged_claim_resettled(loaded_policies):
    person = dianjiang_person(tier=1)
    first = approve(settle(outpatient(person, "400")))
    second = approve(settle(outpatient(person, "200", day=APRIL)))
    _agrees()
    reverse(first)
    assert (benefit(first), payable(first)) == (0, 0)
    _agrees()
    second = claims.claim_resettle(claim=Claim.objects.get(pk=second.pk), acting_user=None)
    assert benefit(second) == Decimal("120.00") and payable(second) == Decimal("-120.00")
    assert Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=second.pk,
                                  kind=Journal.Kind.REVERSAL).count() == 1
    _agrees()
    pay(second)
    _agrees()
    approve(corrected(first, "400"))  # 300 − 120 left of the annual limit
    assert benefit(first) == Decimal("180.00")
    _agrees()


def test_reversal_of_a_paid_claim_lower_resettlement_recovered(loaded_policies):
    first = pay(approve(settle(outpatient(dianjiang_person(tier=1), "400"))))
    _agrees()
    reverse(first)
    assert (benefit(first), payable(first), bank(first)) == (0, Decimal("240.00"), Decimal("-240.00"))
    _agrees()
    first = corrected(first, "300")
    _agrees()
    first = approve(first)
    assert (benefit(first), payable(first)) == (Decimal("180.00"), Decimal("60.00"))
    _agrees()
    claims.claim_recover(claim=first, acting_user=None, reference="退款单001")
    assert (payable(first), bank(first)) == (0, Decimal("-180.00"))
    [journal] = Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=first.pk,
                                       kind=Journal.Kind.CLAIM_RECOVERED)
    assert journal.reference == "退款单001"
    assert Claim.objects.get(pk=first.pk).status == Claim.Status.PAID
    _agrees()


def test_reversal_of_a_paid_claim_higher_resettlement_pays_the_difference(loaded_policies):
    first = pay(approve(settle(outpatient(dianjiang_person(tier=1), "300"))))
    reverse(first)
    _agrees()
    first = approve(corrected(first, "400"))
    assert payable(first) == Decimal("-60.00")
    _agrees()
    pay(first)
    assert (payable(first), bank(first), benefit(first)) == (0, Decimal("-240.00"), Decimal("240.00"))
    _agrees()


def test_flagged_paid_claim_resettled_then_paid_and_the_reversed_one_voided(loaded_policies):
    person = dianjiang_person(tier=1)
    first = pay(approve(settle(outpatient(person, "400"))))
    second = pay(approve(settle(outpatient(person, "200", day=APRIL))))
    reverse(first)
    _agrees()
    second = claims.claim_resettle(claim=Claim.objects.get(pk=second.pk), acting_user=None)
    assert second.status == Claim.Status.APPROVED and payable(second) == Decimal("-60.00")
    _agrees()
    pay(second)
    assert bank(second) == Decimal("-120.00")
    _agrees()
    claims.claim_void(claim=Claim.objects.get(pk=first.pk), acting_user=None, reason="冒名就医")
    _agrees()
    claims.claim_recover(claim=Claim.objects.get(pk=first.pk), acting_user=None)
    assert (payable(first), bank(first)) == (0, 0)
    _agrees()


def test_an_amount_still_owed_on_a_reversed_claim_is_a_difference(loaded_policies):
    claim = approve(settle(outpatient(dianjiang_person(tier=1), "400")))
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.REVERSED)  # 待遇核定 not reversed
    differences = ledger_differences()
    assert any("未审核通过，账上仍有应付待遇240.00元" in d for d in differences), differences
