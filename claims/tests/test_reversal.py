"""冲正 (reversal) and re-settlement of approved and paid claims (issue 16 §3,
docs/money.md §冲正与重新结算): the claim leaves the YTD history, the person's later
claims are flagged 待重新结算 and re-settled on approval, the versions stay visible, a
lower re-settlement is recovered and a higher one pays the difference.

垫江 ordinary outpatient, tier 1, level-1 hospital: 60 %, annual limit 300."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from claims import postings, selectors, services, ytd
from claims.models import Claim, ClaimLayer
from policies.roles import CLERK, FUND_FINANCE, REVIEWER
from policies.tests.factories import role_staff

from .factories import dianjiang_person, outpatient, pay_outstanding

pytestmark = pytest.mark.django_db

APRIL = date(2024, 4, 1)


def paid(claim):
    return ClaimLayer.objects.get(claim=claim, is_current=True, scheme_kind="resident_basic").paid


def settle(claim):
    return services.claim_settle(claim=claim, acting_user=None)


def approve(claim):
    claim = Claim.objects.get(pk=claim.pk)
    services.claim_documents_receive(claim=claim, acting_user=None,
                                     received={d.pk: True for d in claim.documents.all()})
    return services.claim_approve(claim=claim, acting_user=None)


def pay(claim):
    return pay_outstanding(Claim.objects.get(pk=claim.pk))


def reverse(claim, reason="发票重复报销", user=None):
    return services.claim_reverse(claim=Claim.objects.get(pk=claim.pk), acting_user=user,
                                  reason=reason)


def outpatient_used(person, region):
    panel = ytd.ytd_panel(person, region, 2024)
    basic = next(s for s in panel.schemes if s.kind == "resident_basic")
    return next(line for line in basic.lines if line.label.startswith("普通门诊")).used


def two_claims(person):
    """A: 400 → 240 paid; B (later, April): 200 → 60, the rest of the annual limit."""
    first = settle(outpatient(person, "400"))
    second = settle(outpatient(person, "200", day=APRIL))
    assert (paid(first), paid(second)) == (Decimal("240.00"), Decimal("60.00"))
    return first, second


def test_reversing_an_approved_claim_restores_the_ytd_and_flags_the_later_claim(loaded_policies):
    person = dianjiang_person(tier=1)
    first = settle(outpatient(person, "400"))
    approve(first)
    second = settle(outpatient(person, "200", day=APRIL))
    assert outpatient_used(person, first.region) == Decimal("300.00")

    first = reverse(first)
    assert first.status == Claim.Status.REVERSED and first.status_reason == "发票重复报销"
    assert first.reversed_at is not None and first.approved_at is None
    assert not postings.outstanding([first.pk]) and not postings.recoverable([first.pk])
    # the limit it used is free again; the later claim still holds its old result
    assert outpatient_used(person, first.region) == Decimal("60.00")
    second.refresh_from_db()
    assert second.needs_resettle and second.resettle_cause_id == first.pk
    assert "已冲正（发票重复报销）" in second.resettle_reason
    assert list(Claim.objects.filter(needs_resettle=True)) == [second]

    second = services.claim_resettle(claim=second, acting_user=None)
    assert paid(second) == Decimal("120.00")  # 200 × 60 %, no longer limited
    assert not second.needs_resettle and second.resettle_cause is None
    assert second.settlement_version == 2 and second.status == Claim.Status.SETTLED
    assert outpatient_used(person, first.region) == Decimal("120.00")


def test_reversed_claim_is_corrected_and_settled_again_with_old_versions_kept(loaded_policies):
    person = dianjiang_person(tier=1)
    first = pay(approve(settle(outpatient(person, "400"))))
    first = reverse(first, "合规费用录入有误")
    assert first.is_editable
    first = services.claim_update(claim=first, acting_user=None, total=Decimal("300"))
    first = settle(first)
    assert paid(first) == Decimal("180.00") and first.settlement_version == 2
    versions = selectors.layer_versions(first)
    assert [(v, current) for v, current, _ in versions] == [(2, True), (1, False)]
    assert ClaimLayer.objects.filter(claim=first, version=1, paid=Decimal("240.00")).exists()


def test_a_settled_or_draft_claim_cannot_be_reversed_and_a_reason_is_required(loaded_policies):
    person = dianjiang_person(tier=1)
    claim = settle(outpatient(person, "400"))
    with pytest.raises(ValidationError, match="仅已审核或已支付的理赔可以冲正"):
        reverse(claim)
    approve(claim)
    with pytest.raises(ValidationError, match="请填写冲正原因"):
        reverse(claim, reason="  ")
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.APPROVED


def test_reverse_needs_the_reviewers_permission_and_is_audited(loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    assert reviewer.has_perm("claims.reverse_claim") and not clerk.has_perm("claims.reverse_claim")
    claim = pay(approve(settle(outpatient(dianjiang_person(tier=1), "400"))))
    with pytest.raises(PermissionDenied):
        reverse(claim, user=clerk)
    reverse(claim, user=reviewer)
    entry = AuditEntry.objects.filter(action="review", object_id=str(claim.pk)).latest("seq")
    assert entry.user_id == reviewer.pk
    assert entry.details["operation"] == "冲正" and entry.details["reason"] == "发票重复报销"
    assert entry.details["from_status"] == "已支付" and entry.details["recoverable"] == "240.00"
    assert len(entry.details["journals"]) == 1


def test_flagged_paid_claim_is_resettled_on_approval_and_pays_the_difference(loaded_policies):
    person = dianjiang_person(tier=1)
    first, second = two_claims(person)
    for claim in (first, second):
        pay(approve(claim))
    reverse(first)
    second.refresh_from_db()
    assert second.needs_resettle
    reviewer = role_staff("shenhe", REVIEWER)
    second = services.claim_resettle(claim=second, acting_user=reviewer)
    # approval kept, the new 待遇核定 booked: 120 now owed, 60 of it still to pay
    assert second.status == Claim.Status.APPROVED and second.approved_at is not None
    assert paid(second) == Decimal("120.00") and not second.needs_resettle
    assert sum(postings.outstanding([second.pk]).values()) == Decimal("60.00")
    second = pay(second)
    assert second.status == Claim.Status.PAID and not postings.outstanding([second.pk])
    # the reversed claim settled again reads the re-settled one: 300 − 120 left
    first = settle(Claim.objects.get(pk=first.pk))
    assert paid(first) == Decimal("180.00")
    assert outpatient_used(person, first.region) == Decimal("300.00")


def test_only_a_flagged_claim_is_resettled_after_approval(loaded_policies):
    claim = approve(settle(outpatient(dianjiang_person(tier=1), "400")))
    with pytest.raises(ValidationError, match="仅在标记为待重新结算时"):
        services.claim_resettle(claim=claim, acting_user=None)
    clerk = role_staff("jingban", CLERK)
    person = dianjiang_person(tier=1)
    first, second = two_claims(person)
    approve(second)
    approve(first)
    reverse(first)
    with pytest.raises(PermissionDenied):  # 批准重新结算 of an approved claim: the reviewer
        services.claim_resettle(claim=Claim.objects.get(pk=second.pk), acting_user=clerk)


def test_lower_resettlement_of_a_paid_claim_is_recovered(loaded_policies):
    person = dianjiang_person(tier=1)
    first = pay(approve(settle(outpatient(person, "400"))))
    reverse(first)
    assert postings.recoverable([first.pk]) and sum(postings.recoverable([first.pk]).values()) == 240
    first = services.claim_update(claim=Claim.objects.get(pk=first.pk), acting_user=None,
                                  total=Decimal("300"))
    first = approve(settle(first))
    assert sum(postings.recoverable([first.pk]).values()) == Decimal("60.00")
    with pytest.raises(ValidationError, match="多付待遇 60.00 元，须先登记追回"):
        pay(first)
    first = services.claim_recover(claim=first, acting_user=None, reference="追回-001")
    assert first.status == Claim.Status.PAID
    assert not postings.outstanding([first.pk])
    with pytest.raises(ValidationError, match="登记追回"):
        services.claim_recover(claim=first, acting_user=None)


def test_higher_resettlement_of_a_paid_claim_pays_the_difference(loaded_policies):
    person = dianjiang_person(tier=1)
    first = pay(approve(settle(outpatient(person, "300"))))
    assert paid(first) == Decimal("180.00")
    reverse(first)
    first = services.claim_update(claim=Claim.objects.get(pk=first.pk), acting_user=None,
                                  total=Decimal("400"))
    first = approve(settle(first))
    assert sum(postings.outstanding([first.pk]).values()) == Decimal("60.00")
    first = pay(first)
    assert first.status == Claim.Status.PAID and not postings.outstanding([first.pk])


def test_a_reversed_paid_claim_voided_has_its_whole_payment_recovered(loaded_policies):
    first = pay(approve(settle(outpatient(dianjiang_person(tier=1), "400"))))
    reverse(first)
    first = services.claim_void(claim=Claim.objects.get(pk=first.pk), acting_user=None,
                                reason="冒名就医")
    first = services.claim_recover(claim=first, acting_user=None)
    assert first.status == Claim.Status.VOID and not postings.outstanding([first.pk])


def test_claims_settled_before_the_reversed_one_are_not_flagged(loaded_policies):
    person = dianjiang_person(tier=1)
    later_service = settle(outpatient(person, "200", day=APRIL))  # settled first
    first = approve(settle(outpatient(person, "400")))
    reverse(first)
    later_service.refresh_from_db()
    assert not later_service.needs_resettle  # its history never held the reversed claim


# --------------------------------------------------------------------------- admin


def url(name, *args):
    from django.urls import reverse as url_reverse
    return url_reverse(f"admin:claims_claim_{name}", args=args)


def test_admin_reverse_button_flag_filter_and_approve_resettle(client, loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    person = dianjiang_person(tier=1)
    first, second = two_claims(person)
    for claim in (first, second):
        pay(approve(claim))
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    client.force_login(clerk)
    assert "claim-btn-reverse" not in client.get(url("change", first.pk)).content.decode()
    client.force_login(reviewer)
    page = client.get(url("change", first.pk)).content.decode()
    assert "claim-btn-reverse" in page and "退回或冲正" in page
    form = client.get(url("act", first.pk, "reverse")).content.decode()
    assert "冲正原因" in form and "待重新结算" in form
    assert client.post(url("act", first.pk, "reverse"), {"reason": ""}).status_code == 200  # required
    response = client.post(url("act", first.pk, "reverse"), {"reason": "发票重复报销"}, follow=True)
    text = response.content.decode()
    assert "冲正完成" in text and "应收回 240.00 元" in text and "1 条本人同年度理赔已标记为待重新结算" in text
    assert Claim.objects.get(pk=first.pk).status == Claim.Status.REVERSED
    assert "claim-btn-recover" not in text  # 登记追回 is 基金财务's (claims.pay_claim)
    client.force_login(role_staff("caiwu", FUND_FINANCE))
    text = client.get(url("change", first.pk)).content.decode()
    assert "claim-btn-recover" in text  # the money paid can be recovered
    confirm = client.get(url("act", first.pk, "recover")).content.decode()
    assert "确认登记追回" in confirm and "应收回 240.00 元" in confirm
    text = client.post(url("act", first.pk, "recover"), {"confirm": "1"}, follow=True).content.decode()
    assert "登记追回完成" in text and "应付/应收回：无" in text
    assert not postings.recoverable([first.pk])

    client.force_login(reviewer)
    listing = client.get(url("changelist"), {"needs_resettle__exact": "1"}).content.decode()
    assert "待重新结算" in listing and second.settlement_no in listing
    assert first.settlement_no not in listing
    page = client.get(url("change", second.pk)).content.decode()
    assert "claim-resettle-flag" in page and "claim-btn-approve_resettle" in page
    assert "查看引起重新结算的理赔" in page
    confirm = client.get(url("act", second.pk, "approve_resettle")).content.decode()
    assert "确认批准重新结算" in confirm
    response = client.post(url("changelist"), {"action": "approve_resettle_action",
                                               "_selected_action": [first.pk, second.pk]}, follow=True)
    text = response.content.decode()
    assert "未标记待重新结算" in text and "批准重新结算：已处理 1 条理赔" in text
    second.refresh_from_db()
    assert not second.needs_resettle and second.status == Claim.Status.APPROVED
    assert paid(second) == Decimal("120.00")
    page = client.get(url("change", second.pk)).content.decode()
    assert "应付 60.00 元" in page
    for word in ("None", "True", "False", "reversed", "approve_resettle_action"):
        assert f">{word}<" not in page


def test_a_reversed_claim_prints_under_the_reversed_mark(client, loaded_policies):
    claim = reverse(pay(approve(settle(outpatient(dianjiang_person(tier=1), "400")))))
    client.force_login(role_staff("shenhe", REVIEWER))
    page = client.get(url("print", claim.pk)).content.decode()
    assert "已冲正" in page
