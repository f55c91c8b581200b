"""Batch settlement (claims.batch, command settle_claims): the same stored result as
settling claim by claim, year-to-date across a person's claims, failures reported
without stopping the others, history rows written."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from claims import batch, services
from claims.batch import claims_settle_batch
from claims.models import Claim, ClaimLayer

from .factories import CASES, CLAIM_EXAMPLES, EXAMPLES, claim_for_case, dianjiang_person, outpatient

pytestmark = pytest.mark.django_db


def lines(claim) -> dict[str, Decimal]:
    return dict(ClaimLayer.objects.filter(claim=claim, is_current=True).values_list("scheme_kind", "paid"))


def test_worked_examples_settled_in_one_batch(loaded_policies):
    claims = {case_id: claim_for_case(CASES[case_id]) for case_id in CLAIM_EXAMPLES}
    report = claims_settle_batch(claims=Claim.objects.all(), acting_user=None)
    assert report.settled == len(claims) and not report.failed
    for case_id, claim in claims.items():
        claim.refresh_from_db()
        assert claim.status == Claim.Status.SETTLED and claim.settlement_version == 1
        for scheme, paid in EXAMPLES["expect"][case_id]["layers"].items():
            assert lines(claim)[scheme] == Decimal(paid), (case_id, scheme)
        assert claim.history.first().history_change_reason == "批量结算"


def test_batch_equals_claim_by_claim_with_year_to_date(loaded_policies):
    """Two twins with the same three outpatient claims (垫江 annual limit 300): one settled
    by the service claim by claim, the other by the batch; the stored lines agree and the
    limit is reached by the earlier claims in both."""
    amounts = ("400", "400", "100")
    twin_a, twin_b = dianjiang_person(tier=1), dianjiang_person(tier=1)
    a_claims = [outpatient(twin_a, t) for t in amounts]
    b_claims = [outpatient(twin_b, t) for t in amounts]
    for claim in a_claims:
        services.claim_settle(claim=claim, acting_user=None)
    report = claims_settle_batch(claims=Claim.objects.filter(person=twin_b), acting_user=None)
    assert report.settled == 3
    a_paid = [lines(c) for c in a_claims]
    assert [lines(c) for c in b_claims] == a_paid
    assert sum(p["resident_basic"] for p in a_paid) == Decimal("300.00")


def test_failures_are_reported_and_the_others_settled(loaded_policies):
    good = claim_for_case(CASES["ex-1"])
    # 乐山 employee claim without the given basic layer (no rules in the seed): missing_rule
    case = CASES["ex-5"]
    bad_case = {**case, "claim": {k: v for k, v in case["claim"].items() if k != "given"}}
    bad = claim_for_case(bad_case, settlement_no="BAD-1")
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("settle_claims", stdout=out, stderr=io.StringIO())
    assert exc.value.returncode == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == Claim.Status.SETTLED
    assert bad.status == Claim.Status.DRAFT and not lines(bad)
    assert "BAD-1" in out.getvalue() and "已结算 1 件" in out.getvalue()


def test_returned_claim_keeps_its_old_lines(loaded_policies):
    person = dianjiang_person(tier=1)
    claim = services.claim_settle(claim=outpatient(person, "200"), acting_user=None)
    claim = services.claim_return(claim=claim, acting_user=None, reason="金额有误")
    call_command("settle_claims", "--region", "500231", stdout=io.StringIO(), stderr=io.StringIO())
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED and claim.settlement_version == 2
    assert ClaimLayer.objects.filter(claim=claim, is_current=False).count() >= 1
    assert ClaimLayer.objects.filter(claim=claim, is_current=True, version=2).exists()


def test_nothing_to_do_exits_zero(loaded_policies):
    out = io.StringIO()
    call_command("settle_claims", "--year", "2024", stdout=out, stderr=io.StringIO())
    assert "已结算 0 件" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="并行结算需要 PostgreSQL")
def test_worker_processes_store_what_one_process_stores(loaded_policies):
    """Twins with the same claims: one group settled in one process, the other shared out
    among two worker processes (one person per chunk, so both workers take chunks); the
    stored lines, statuses and history reasons agree, and the limit is reached by each
    person's earlier claims in both."""
    amounts = ("400", "400", "100")
    serial = [dianjiang_person(tier=1) for _ in range(4)]
    forked = [dianjiang_person(tier=1) for _ in range(4)]
    serial_claims = [[outpatient(p, t) for t in amounts] for p in serial]
    forked_claims = [[outpatient(p, t) for t in amounts] for p in forked]
    one = claims_settle_batch(claims=Claim.objects.filter(person__in=serial), acting_user=None,
                              chunk_persons=1, workers=1)
    assert batch._can_fork(2), "the parallel path must be the one tested"
    seen = []
    two = claims_settle_batch(claims=Claim.objects.filter(person__in=forked), acting_user=None,
                              chunk_persons=1, workers=2, progress=seen.append)
    assert (one.settled, one.persons, two.settled, two.persons) == (12, 4, 12, 4)
    assert not one.failed and not two.failed and seen == [3, 3, 3, 3]
    for a_claims, b_claims in zip(serial_claims, forked_claims, strict=True):
        assert [lines(c) for c in b_claims] == [lines(c) for c in a_claims]
        assert sum(lines(c)["resident_basic"] for c in b_claims) == Decimal("300.00")
        for claim in b_claims:
            claim.refresh_from_db()
            assert claim.status == Claim.Status.SETTLED
            assert claim.history.first().history_change_reason == "批量结算"
