"""Batch settlement (claims.batch, command settle_claims): the same stored result as
settling claim by claim, year-to-date across a person's claims, failures reported
without stopping the others, history rows written."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import services
from claims.batch import claims_settle_batch
from claims.models import Claim, ClaimLayer
from jobs.models import Job, JobPart
from policies.roles import SUPERVISOR
from policies.tests.factories import role_staff

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


def refused_and_good_claims():
    good = claim_for_case(CASES["ex-1"])
    # 乐山 employee claim without the given basic layer (no rules in the seed): missing_rule
    case = CASES["ex-5"]
    bad_case = {**case, "claim": {k: v for k, v in case["claim"].items() if k != "given"}}
    return good, claim_for_case(bad_case, settlement_no="BAD-1")


@pytest.mark.parametrize("mode", [[], ["--wait"], ["--inline"]], ids=["job", "wait", "inline"])
def test_failures_are_reported_and_the_others_settled(loaded_policies, mode):
    """The command's result, its listing of the refused claims and its exit code are the
    same whether the chunks run as the job's parts (by default; inline here, as the test
    settings run jobs) or in the command's own process (``--inline``)."""
    good, bad = refused_and_good_claims()
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("settle_claims", *mode, stdout=out, stderr=io.StringIO())
    assert exc.value.returncode == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == Claim.Status.SETTLED
    assert bad.status == Claim.Status.DRAFT and not lines(bad)
    assert "BAD-1" in out.getvalue() and "已结算 1 件" in out.getvalue()
    assert "未能结算 1 件" in out.getvalue()
    assert Job.objects.filter(kind="settle_claims").count() == (0 if mode == ["--inline"] else 1)


def test_the_job_logs_refusals_and_sums_its_parts(loaded_policies):
    """One part per person (``--chunk 1``): the job's counts add up the parts, each
    refused claim is a line of its log, and its summary is in Chinese."""
    good, bad = refused_and_good_claims()
    twin = outpatient(dianjiang_person(tier=1), "400")
    with pytest.raises(CommandError):
        call_command("settle_claims", "--chunk", "1", stdout=io.StringIO(), stderr=io.StringIO())
    job = Job.objects.get(kind="settle_claims")
    assert job.status == Job.Status.SUCCEEDED and job.params["parts"] == 3
    assert JobPart.objects.filter(job=job).count() == 3
    assert (job.total, job.done) == (3, 3)
    assert job.counts == {"settled": 2, "failed": 1, "persons": 3}
    assert job.message == "已结算 2 件（参保人 3 人），未能结算 1 件，原因见任务日志"
    refusals = [t for t in job.log_lines.values_list("text", flat=True) if t.startswith("结算单号")]
    assert len(refusals) == 1 and refusals[0].startswith("结算单号 BAD-1：")
    twin.refresh_from_db()
    assert twin.status == Claim.Status.SETTLED


def test_background_returns_with_the_job_number(loaded_policies):
    claim = outpatient(dianjiang_person(tier=1), "400")
    out = io.StringIO()
    call_command("settle_claims", "--background", "--region", "500231", stdout=out, stderr=io.StringIO())
    job = Job.objects.get(kind="settle_claims")
    assert f"后台任务 {job.pk} 已提交" in out.getvalue()
    assert job.params["region_id"] == claim.region_id
    assert list(job.regions.values_list("region_id", flat=True)) == [claim.region_id]
    claim.refresh_from_db()  # the test settings run the job at once
    assert claim.status == Claim.Status.SETTLED


def test_job_refused_without_the_permission(loaded_policies):
    outpatient(dianjiang_person(tier=1), "400")
    role_staff("chakan", SUPERVISOR)
    with pytest.raises(CommandError, match="不能结算"):
        call_command("settle_claims", "--user", "chakan", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Job.objects.exists()


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


def _batch_queries(persons: int, claims_each: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = [dianjiang_person(tier=1) for _ in range(persons)]
    for person in people:
        for i in range(claims_each):
            outpatient(person, 100 + i)
    with CaptureQueriesContext(connection) as ctx:
        report = claims_settle_batch(claims=Claim.objects.filter(person__in=people), acting_user=None)
    assert report.settled == persons * claims_each and not report.failed
    return len(ctx.captured_queries)


def test_the_queries_of_a_chunk_do_not_grow_with_its_persons_and_claims(loaded_policies):
    """Persons, enrollments and claims are read as values, one query per kind of row for
    the whole chunk, and written in bulk: 2 persons with 1 claim each and 6 persons with
    3 claims each (one chunk) run the same statements (after a first run filling the
    per-process caches)."""
    _batch_queries(1, 1)
    assert _batch_queries(2, 1) == _batch_queries(6, 3)


def test_values_read_persons_carry_their_regions(loaded_policies):
    """``fetch.PersonRow``: the batch's persons as values, their 户籍/常住地 regions from
    one read of the regions (with the parent: the pooling region without a query)."""
    from claims import fetch
    from enrollment.models import Person

    person = dianjiang_person(tier=1)
    rows = fetch.person_rows(Person.objects.filter(pk=person.pk))
    row = rows[person.pk]
    assert row.pk == person.pk and row.name == person.name and row.birth_date == person.birth_date
    assert row.hukou_region == person.hukou_region
    assert row.residence_region.pooling_region == person.residence_region.pooling_region
