"""Year-to-date history, re-settlement, workflow and permissions, validation of the
settlement sheet (spec README §3, §4.4, §4.8, §6)."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from claims import fetch, selectors, services, ytd
from claims.models import Claim, ClaimLayer
from policies.roles import CLERK, FUND_FINANCE, REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff

from .factories import CASES, claim_for_case, dianjiang_person, hospital, outpatient, pay_outstanding

pytestmark = pytest.mark.django_db


def paid(claim, kind="resident_basic"):
    return ClaimLayer.objects.get(claim=claim, is_current=True, scheme_kind=kind).paid


def test_annual_limit_reached_by_an_earlier_claim(loaded_policies):
    person = dianjiang_person(tier=1)
    first = services.claim_settle(claim=outpatient(person, "400"), acting_user=None)
    assert paid(first) == Decimal("240.00")  # 400 × 60 %
    second = services.claim_settle(claim=outpatient(person, "200", day=date(2024, 4, 1)),
                                   acting_user=None)
    line = ClaimLayer.objects.get(claim=second, is_current=True, scheme_kind="resident_basic")
    assert line.paid == Decimal("60.00")  # 300 − 240 left of the annual limit
    assert line.capped == Decimal("60.00") and "本年已支付 240.00" in line.explanation
    # the history is rebuilt from the stored lines, in order
    history = fetch.fetch_persons(fetch.RegionYear.of(second.region, 2024), [person])[person.pk].history
    assert [h.claim.ref for h in history] == [f"理赔 {first.settlement_no}",
                                              f"理赔 {second.settlement_no}"]
    assert history[0].layer("resident_basic").extra_text("limit_pool") == "outpatient"
    panel = ytd.ytd_panel(person, second.region, 2024)
    basic = next(s for s in panel.schemes if s.kind == "resident_basic")
    pool = next(line for line in basic.lines if line.label.startswith("普通门诊"))
    assert (pool.limit, pool.used, pool.left) == (Decimal("300"), Decimal("300.00"), Decimal("0"))
    assert panel.claims == 2 and panel.fund_total == Decimal("300.00")


def test_annual_deductible_is_used_once(loaded_policies):
    person = dianjiang_person(tier=1)
    first = services.claim_settle(claim=outpatient(person, "150", level=2), acting_user=None)
    assert paid(first) == Decimal("0.00")
    second = services.claim_settle(claim=outpatient(person, "300", level=2, day=date(2024, 5, 2)),
                                   acting_user=None)
    line = ClaimLayer.objects.get(claim=second, is_current=True, scheme_kind="resident_basic")
    assert line.deductible == Decimal("50") and line.paid == Decimal("100.00")  # (300−50)×40 %


def test_history_ignores_returned_void_and_draft_claims(loaded_policies):
    person = dianjiang_person(tier=1)
    reviewer = role_staff("shenhe", REVIEWER)
    first = services.claim_settle(claim=outpatient(person, "400"), acting_user=None)
    outpatient(person, "300")  # a draft never counts
    services.claim_return(claim=first, acting_user=reviewer, reason="金额核对有误")
    second = services.claim_settle(claim=outpatient(person, "400", day=date(2024, 4, 1)),
                                   acting_user=None)
    assert paid(second) == Decimal("240.00")
    inputs = fetch.fetch_settlement_inputs(fetch.RegionYear.of(second.region, 2024), [second])
    assert [h.claim.ref for h in inputs.persons[person.pk].history] == []


def test_resettle_keeps_the_old_lines_and_history(loaded_policies):
    person = dianjiang_person(tier=1)
    clerk = role_staff("jingban", CLERK)
    claim = services.claim_settle(claim=outpatient(person, "400"), acting_user=clerk)
    assert paid(claim) == Decimal("240.00")
    # the policy officer changes the ratio of the row used; re-settling is explicit
    line = ClaimLayer.objects.get(claim=claim, scheme_kind="resident_basic")
    [ref] = [r for r in line.param_refs if r["table"] == "BenefitRule"]
    from policies.models import BenefitRule
    BenefitRule.objects.filter(pk=ref["id"]).update(ratio=Decimal("50"))
    claim.refresh_from_db()
    assert paid(claim) == Decimal("240.00")  # a settled claim never changes silently
    claim = services.claim_resettle(claim=claim, acting_user=clerk, reason="比例调整")
    assert claim.settlement_version == 2
    versions = selectors.layer_versions(claim)
    assert [(v, current) for v, current, _ in versions] == [(2, True), (1, False)]
    assert versions[0][2][0].paid == Decimal("200.00") and versions[1][2][0].paid == Decimal("240.00")
    assert claim.fund_total == Decimal("200.00")
    reasons = [h.history_change_reason for h in claim.history.all()]
    assert "重新结算：比例调整" in reasons
    assert claim.history.first().history_user == clerk


def test_resettle_job_after_a_parameter_change(client, loaded_policies):
    """后台重新结算 (claims/job_kinds.py): the selected 已结算 claims are settled again under
    the changed row, each keeping its first version; an approved claim is left alone."""
    from django.urls import reverse

    from jobs.models import Job
    from policies.models import BenefitRule

    clerk = role_staff("jingban", CLERK)
    first = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "400"), acting_user=clerk)
    second = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "400"), acting_user=clerk)
    approved = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "400"), acting_user=clerk)
    Claim.objects.filter(pk=approved.pk).update(status=Claim.Status.APPROVED)
    [ref] = [r for r in ClaimLayer.objects.get(claim=first, scheme_kind="resident_basic").param_refs
             if r["table"] == "BenefitRule"]
    BenefitRule.objects.filter(pk=ref["id"]).update(ratio=Decimal("50"))
    client.force_login(clerk)
    response = client.post(reverse("admin:claims_claim_changelist"), {
        "action": "resettle_job_action", "_selected_action": [first.pk, second.pk, approved.pk]})
    assert response.status_code == 302
    job = Job.objects.get(kind="resettle_claims")
    assert (job.status, job.counts) == ("succeeded", {"resettled": 2, "failed": 0, "persons": 2})
    for claim in (first, second):
        claim.refresh_from_db()
        assert (claim.settlement_version, claim.fund_total) == (2, Decimal("200.00"))
        assert "重新结算：参数调整后批量重新结算" in [h.history_change_reason for h in claim.history.all()]
    approved.refresh_from_db()
    assert (approved.settlement_version, approved.fund_total) == (1, Decimal("240.00"))


def test_trial_writes_nothing(loaded_policies):
    person = dianjiang_person(tier=1)
    claim = outpatient(person, "400")
    result = services.claim_trial(claim=claim)
    assert result.layer("resident_basic").paid == Decimal("240.00")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT and claim.settlement_version == 0
    assert not ClaimLayer.objects.exists()


def test_missing_rule_becomes_a_chinese_validation_error(loaded_policies):
    case = dict(CASES["ex-5"])
    case["claim"] = {k: v for k, v in case["claim"].items() if k != "given"}
    claim = claim_for_case(case)
    with pytest.raises(ValidationError) as exc:
        services.claim_settle(claim=claim, acting_user=None)
    assert exc.value.code == "missing_rule"
    assert "职工基本医疗保险" in exc.value.messages[0] and "2024" in exc.value.messages[0]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT and not ClaimLayer.objects.exists()


def test_settled_claims_are_read_only(loaded_policies):
    claim = services.claim_settle(claim=outpatient(dianjiang_person(), "400"), acting_user=None)
    with pytest.raises(ValidationError, match="已结算的理赔不能修改"):
        services.claim_update(claim=claim, acting_user=None, total=Decimal("500"))
    with pytest.raises(ValidationError, match="不能结算"):
        services.claim_settle(claim=claim, acting_user=None)


def test_workflow_permissions(loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    viewer = role_staff("jianguan", SUPERVISOR)
    other_region = role_staff("jingban_cz", CLERK, regions=("140400",))
    person = dianjiang_person()
    claim = outpatient(person, "400", acting_user=clerk)
    assert claim.created_by == clerk
    with pytest.raises(PermissionDenied):
        services.claim_settle(claim=claim, acting_user=viewer)
    with pytest.raises(PermissionDenied):
        services.claim_settle(claim=claim, acting_user=other_region)
    claim = services.claim_settle(claim=claim, acting_user=clerk)
    assert claim.settled_by == clerk
    with pytest.raises(PermissionDenied):
        services.claim_approve(claim=claim, acting_user=clerk)
    finance = role_staff("caiwu", FUND_FINANCE)
    pay = {"scheme_id": 0, "amount": Decimal("1"), "reference": "ZF1/1", "paid_on": date(2024, 6, 1)}
    for user in (clerk, reviewer):  # only 基金财务 pays (a bank's returned success line)
        with pytest.raises(PermissionDenied):
            services.claim_pay(claim=claim, acting_user=user, **pay)
    with pytest.raises(ValidationError, match="须先审核通过"):
        services.claim_pay(claim=claim, acting_user=finance, **pay)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    assert (claim.status, claim.approved_by) == (Claim.Status.APPROVED, reviewer)
    with pytest.raises(ValidationError, match="作废"):
        services.claim_void(claim=claim, acting_user=reviewer, reason="重复")
    with pytest.raises(ValidationError, match="与支付金额1.00元不符"):
        services.claim_pay(claim=claim, acting_user=finance, **pay)
    claim = pay_outstanding(claim, acting_user=finance)
    assert claim.status == Claim.Status.PAID and claim.paid_at is not None
    with pytest.raises(ValidationError):
        services.claim_return(claim=claim, acting_user=reviewer, reason="x")


def test_return_needs_a_reason_and_allows_correction(loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    claim = services.claim_settle(claim=outpatient(dianjiang_person(), "400"), acting_user=clerk)
    with pytest.raises(ValidationError, match="请填写退回原因"):
        services.claim_return(claim=claim, acting_user=reviewer, reason=" ")
    with pytest.raises(PermissionDenied):
        services.claim_return(claim=claim, acting_user=clerk, reason="x")
    claim = services.claim_return(claim=claim, acting_user=reviewer, reason="总费用有误")
    claim = services.claim_update(claim=claim, acting_user=clerk, total=Decimal("300"))
    assert claim.compliant == Decimal("300")
    claim = services.claim_settle(claim=claim, acting_user=clerk)
    assert claim.settlement_version == 2 and paid(claim) == Decimal("180.00")
    assert ClaimLayer.objects.filter(claim=claim).count() == 4  # two versions × two layers
    claim = services.claim_void(claim=claim, acting_user=reviewer, reason="重复录入")
    assert claim.status == Claim.Status.VOID and claim.status_reason == "重复录入"


def test_bad_input_is_refused_with_the_field_named(loaded_policies):
    person = dianjiang_person()
    h = hospital("500231", level=3)
    base = {"acting_user": None, "person": person, "claim_type": "inpatient",
            "service_date": date(2024, 5, 10), "hospital": h}
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("1000"),
                              compliant=Decimal("900"), **base)
    assert "compliant" in exc.value.message_dict
    assert "不等于 医疗总费用 − 全自费 − 乙类先行自付 = 1000.00" in exc.value.message_dict["compliant"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("-5"), **base)
    assert "不能为负数" in exc.value.message_dict["total"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("100"),
                              out_of_catalog=Decimal("200"), **base)
    assert "超过医疗总费用" in exc.value.message_dict["out_of_catalog"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("100"),
                              **{**base, "service_date": date(2025, 5, 1)})
    assert "没有 2025 年度的参保登记" in exc.value.message_dict["person"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("100"),
                              **{**base, "hospital": None})
    assert "须选择医疗机构" in exc.value.message_dict["hospital"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(settlement_no="A1", total=Decimal("100"), given=[
            {"scheme_kind": "employee_basic", "paid": Decimal("10")}], **base)
    assert "参保人未参加垫江县职工基本医疗保险" in exc.value.message_dict["given_layers"][0]
    services.claim_create(settlement_no="A1", total=Decimal("100"), **base)
    with pytest.raises(ValidationError) as exc:  # re-importing the same sheet
        services.claim_create(settlement_no="A1", total=Decimal("100"), **base)
    assert "不能重复登记" in exc.value.message_dict["settlement_no"][0]
    assert Claim.objects.count() == 1


def test_claim_outside_coverage_is_refused(loaded_policies):
    from .factories import enroll, new_person
    person = new_person("500231")
    enroll(person, "500231", "resident_basic", tier=1)  # paid 2023-11-20: whole 2024
    from enrollment import services as es
    enrollment = person.enrollments.get()
    es.enrollment_suspend(enrollment=enrollment, date_from=date(2024, 5, 1),
                          date_to=date(2024, 5, 31), reason="欠缴", acting_user=None)
    with pytest.raises(ValidationError) as exc:
        outpatient(person, "100", day=date(2024, 5, 10))
    assert "不在参保人任何险种的待遇享受期内" in exc.value.message_dict["service_date"][0]

