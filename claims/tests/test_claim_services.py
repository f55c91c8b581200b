"""Claims services on the spec's worked examples (spec trial-calc.md, README §3–§4):
each example entered as a stored person, enrollments and claim, settled through
``services.claim_settle``; the stored lines must equal the stated amounts."""
from decimal import Decimal

import pytest

from claims import services
from claims.models import Claim, ClaimLayer

from .factories import CASES, CLAIM_EXAMPLES, EXAMPLES, claim_for_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("case_id", CLAIM_EXAMPLES)
def test_worked_examples_stored(loaded_policies, case_id):
    case = CASES[case_id]
    claim = claim_for_case(case)
    assert claim.status == Claim.Status.DRAFT
    claim = services.claim_settle(claim=claim, acting_user=None)
    expect = EXAMPLES["expect"][case_id]
    lines = {r.scheme_kind: r for r in ClaimLayer.objects.filter(claim=claim, is_current=True)}
    for scheme, paid in expect["layers"].items():
        assert lines[scheme].paid == Decimal(paid), lines[scheme].explanation
    items = {i["code"]: i["paid"] for r in lines.values() for i in r.items}
    for code, paid in expect.get("items", {}).items():
        assert Decimal(items[code]) == Decimal(paid)
    if "personal" in expect:
        assert claim.personal == Decimal(expect["personal"])
    assert claim.status == Claim.Status.SETTLED and claim.settlement_version == 1
    assert claim.fund_total == sum(r.paid for r in lines.values())
    for line in lines.values():
        assert line.explanation
