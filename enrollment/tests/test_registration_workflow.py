"""Registration workflow services and selectors (enrollment/services/registrations.py,
enrollment/selectors/registrations.py; spec README §2 门诊慢特病登记, changzhi.md)."""
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Action, AuditEntry
from enrollment.models import Registration, RegistrationTransition
from enrollment.selectors import registrations as sel
from enrollment.services import registrations as svc
from insurance_rules.facts import HeldRegistration

from .registration_setup import changzhi, person, user

pytestmark = pytest.mark.django_db

S = Registration.Status
GOOD_BP = [(date(2024, 3, 1), 150, 95), (date(2024, 3, 8), 145, 92), (date(2024, 3, 15), 142, 88)]


@pytest.fixture
def cz():
    return changzhi()


@pytest.fixture
def clerk():
    return user("clerk")


@pytest.fixture
def reviewer():
    return user("reviewer", reviewer=True)


def submit(cz, who, disease="HBP", *, p=None, day=date(2024, 4, 1), readings=GOOD_BP, **evidence):
    evidence.setdefault("needs_medication", True)
    return svc.registration_submit(person=p or person(), scheme=cz.resident,
                                   disease=getattr(cz, disease), application_date=day,
                                   acting_user=who, institution="西街卫生院",
                                   bp_readings=readings, **evidence)


def approve(reg, who, **kwargs):
    reg = svc.registration_start_review(registration=reg, acting_user=who)
    return svc.registration_approve(registration=reg, acting_user=who, **kwargs)


def test_full_workflow_records_every_transition(cz, clerk, reviewer):
    reg = submit(cz, clerk)
    assert reg.status == S.SUBMITTED and reg.bp_readings.count() == 3
    reg = approve(reg, reviewer, decision_date=date(2024, 4, 10), valid_to=date(2026, 4, 9))
    assert reg.status == S.APPROVED
    assert reg.reviewer == reviewer and reg.valid_from == date(2024, 4, 10)
    assert all(item["passed"] for item in reg.assessment)
    reg = svc.registration_terminate(registration=reg, acting_user=reviewer, reason="迁出本统筹区",
                                     end_date=date(2025, 1, 31))
    assert reg.status == S.TERMINATED and reg.valid_to == date(2025, 1, 31)
    log = list(RegistrationTransition.objects.filter(registration=reg)
               .values_list("from_status", "to_status", "by__username"))
    assert log == [("", "submitted", "clerk"), ("submitted", "in_review", "reviewer"),
                   ("in_review", "approved", "reviewer"), ("approved", "terminated", "reviewer")]
    assert RegistrationTransition.objects.filter(registration=reg).last().reason == "迁出本统筹区"
    history = reg.history.order_by("history_date")
    assert [h.status for h in history][-1] == S.TERMINATED
    assert history.last().history_user == reviewer
    # 审计日志: the decisions (not the submission nor the start of the review)
    audited = AuditEntry.objects.filter(action=Action.REVIEW).order_by("seq")
    assert [(e.username, e.object_id, e.details["operation"]) for e in audited] == [
        ("reviewer", str(reg.pk), "批准"), ("reviewer", str(reg.pk), "终止")]


def test_no_approval_without_permission(cz, clerk, reviewer):
    reg = submit(cz, clerk)
    with pytest.raises(PermissionDenied):
        svc.registration_start_review(registration=reg, acting_user=clerk)
    reg = svc.registration_start_review(registration=reg, acting_user=reviewer)
    with pytest.raises(PermissionDenied):
        svc.registration_approve(registration=reg, acting_user=clerk)
    with pytest.raises(PermissionDenied):
        svc.registration_reject(registration=reg, acting_user=clerk, reason="资料不全")
    reg.refresh_from_db()
    assert reg.status == S.IN_REVIEW


def test_approval_refused_when_a_criterion_fails(cz, clerk, reviewer):
    readings = GOOD_BP[:2] + [(date(2024, 3, 15), 139, 89)]
    reg = submit(cz, clerk, readings=readings)
    reg = svc.registration_start_review(registration=reg, acting_user=reviewer)
    with pytest.raises(ValidationError, match="2024-03-15 139/89"):
        svc.registration_approve(registration=reg, acting_user=reviewer)
    reg.refresh_from_db()
    assert reg.status == S.IN_REVIEW
    assert not RegistrationTransition.objects.filter(registration=reg, to_status=S.APPROVED).exists()


def test_reject_requires_reason_and_is_terminal(cz, clerk, reviewer):
    reg = svc.registration_start_review(registration=submit(cz, clerk), acting_user=reviewer)
    with pytest.raises(ValidationError, match="驳回必须填写原因"):
        svc.registration_reject(registration=reg, acting_user=reviewer, reason="  ")
    reg = svc.registration_reject(registration=reg, acting_user=reviewer, reason="诊断证明不全")
    assert reg.status == S.REJECTED and reg.reason == "诊断证明不全"
    assert AuditEntry.objects.get(action=Action.REVIEW).details == {"operation": "驳回", "reason": "诊断证明不全"}
    for call in (lambda: svc.registration_start_review(registration=reg, acting_user=reviewer),
                 lambda: svc.registration_approve(registration=reg, acting_user=reviewer),
                 lambda: svc.registration_terminate(registration=reg, acting_user=reviewer,
                                                    reason="x")):
        with pytest.raises(ValidationError):
            call()
    reg.refresh_from_db()
    assert reg.status == S.REJECTED


def test_approved_only_moves_to_terminated_and_terminated_is_terminal(cz, clerk, reviewer):
    reg = approve(submit(cz, clerk), reviewer)
    with pytest.raises(ValidationError):
        svc.registration_approve(registration=reg, acting_user=reviewer)
    with pytest.raises(ValidationError):
        svc.registration_reject(registration=reg, acting_user=reviewer, reason="x")
    with pytest.raises(ValidationError):
        svc.registration_start_review(registration=reg, acting_user=reviewer)
    with pytest.raises(ValidationError, match="终止必须填写原因"):
        svc.registration_terminate(registration=reg, acting_user=reviewer, reason="")
    reg = svc.registration_terminate(registration=reg, acting_user=reviewer, reason="死亡")
    with pytest.raises(ValidationError, match="终结状态"):
        svc.registration_terminate(registration=reg, acting_user=reviewer, reason="再次")


def test_submitted_cannot_be_approved_directly(cz, clerk, reviewer):
    reg = submit(cz, clerk)
    with pytest.raises(ValidationError, match="只有“审核中”"):
        svc.registration_approve(registration=reg, acting_user=reviewer)


def test_duplicate_application_refused(cz, clerk, reviewer):
    p = person()
    submit(cz, clerk, p=p)
    with pytest.raises(ValidationError, match="不能重复申报"):
        submit(cz, clerk, p=p)


def test_bad_reading_refused_with_row(cz, clerk):
    with pytest.raises(ValidationError, match="血压读数第 2 行"):
        submit(cz, clerk, readings=[GOOD_BP[0], (date(2024, 3, 2), 80, 90)])
    assert not Registration.objects.exists()


@pytest.mark.parametrize(("valid_to", "refused"), [(date(2025, 4, 30), True), (date(2024, 3, 31), False)])
def test_exclusion_by_approved_cz18(cz, clerk, reviewer, valid_to, refused):
    p = person()
    cz18 = svc.registration_submit(person=p, scheme=cz.resident, disease=cz.CZ18,
                                   application_date=date(2023, 4, 20), acting_user=clerk)
    # 2023 has no plan year: the approval needs the rows of its application year
    with pytest.raises(ValidationError, match="缺少长治市 城乡居民基本医疗保险 2023 年度方案"):
        approve(cz18, reviewer)
    cz18.application_date = date(2024, 1, 5)
    cz18.save()
    approve(cz18, reviewer, valid_from=date(2023, 5, 1), valid_to=valid_to)
    assert sel.approved_registrations(p, date(2024, 4, 1)) == (
        (HeldRegistration("CZ18", date(2023, 5, 1), valid_to),) if refused else ())
    reg = submit(cz, clerk, p=p)
    reg = svc.registration_start_review(registration=reg, acting_user=reviewer)
    if refused:
        with pytest.raises(ValidationError, match="已纳入门诊慢性病 CZ18"):
            svc.registration_approve(registration=reg, acting_user=reviewer,
                                     decision_date=date(2024, 4, 10))
    else:
        reg = svc.registration_approve(registration=reg, acting_user=reviewer,
                                       decision_date=date(2024, 4, 10))
        assert reg.status == S.APPROVED


def test_closed_class_cannot_be_approved(cz, clerk, reviewer):
    reg = svc.registration_submit(person=person(), scheme=cz.resident, disease=cz.CZ46,
                                  application_date=date(2024, 2, 1), acting_user=clerk)
    reg = svc.registration_start_review(registration=reg, acting_user=reviewer)
    with pytest.raises(ValidationError, match="三类门诊慢性病不再新纳入"):
        svc.registration_approve(registration=reg, acting_user=reviewer)


def test_no_benefit_row_for_employee(cz, clerk, reviewer):
    reg = svc.registration_submit(person=person(3, "employee_active"), scheme=cz.employee,
                                  disease=cz.HBP, application_date=date(2024, 4, 1),
                                  acting_user=clerk, bp_readings=GOOD_BP, needs_medication=True)
    reg = svc.registration_start_review(registration=reg, acting_user=reviewer)
    with pytest.raises(ValidationError, match="职工基本医疗保险 2024 年度方案未设 HBP"):
        svc.registration_approve(registration=reg, acting_user=reviewer)


def test_dm2_evidence_fields(cz, clerk, reviewer):
    reg = submit(cz, clerk, "DM2", readings=(), hba1c=D("7.0"), fasting_glucose=D("7.0"))
    reg = approve(reg, reviewer)
    assert reg.status == S.APPROVED
    assert [c["code"] for c in reg.assessment][-1] == "glucose_any"


def test_disease_of_another_region_refused(cz, clerk):
    from policies.models import ChronicDisease, Region
    other = Region.objects.create(code="500231", name="垫江县")
    foreign = ChronicDisease.objects.create(region=other, code="X1", name="外地病种")
    with pytest.raises(ValidationError, match="不属于险种"):
        svc.registration_submit(person=person(), scheme=cz.resident, disease=foreign,
                                application_date=date(2024, 4, 1), acting_user=clerk)


def test_approved_registrations_selector_includes_terminated_period(cz, clerk, reviewer):
    p = person()
    reg = approve(submit(cz, clerk, p=p), reviewer, valid_from=date(2024, 4, 10))
    svc.registration_terminate(registration=reg, acting_user=reviewer, reason="已纳入CZ18",
                               end_date=date(2024, 6, 30))
    assert sel.approved_registrations(p, date(2024, 6, 30)) == (
        HeldRegistration("HBP", date(2024, 4, 10), date(2024, 6, 30)),)
    assert sel.approved_registrations(p, date(2024, 7, 1)) == ()
    assert sel.approved_registrations(p, date(2024, 4, 9)) == ()
    assert len(sel.approved_registrations(p)) == 1


def test_conflicting_registrations_listed_when_cz18_approved(cz, clerk, reviewer):
    p = person()
    hbp = approve(submit(cz, clerk, p=p), reviewer, valid_from=date(2024, 4, 10))
    cz18 = svc.registration_submit(person=p, scheme=cz.resident, disease=cz.CZ18,
                                   application_date=date(2024, 8, 1), acting_user=clerk)
    cz18 = approve(cz18, reviewer, valid_from=date(2024, 8, 15))
    assert list(sel.conflicting_registrations(cz18)) == [hbp]


def test_health_status_from_declarations(cz):
    from enrollment.models import Enrollment, PreExistingDeclaration
    enrollment = Enrollment.objects.create(person=person(), plan_year=cz.plan)
    assert sel.health_status(enrollment) == "healthy"
    PreExistingDeclaration.objects.create(enrollment=enrollment, group="tumor",
                                          condition_text="恶性肿瘤")
    PreExistingDeclaration.objects.create(enrollment=enrollment, group="lung",
                                          condition_text="慢性阻塞性肺病")
    assert sel.health_status(enrollment) == "pre_existing"
    assert sel.pre_existing_groups(enrollment) == ("lung", "tumor")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_person_lock_serialises_excluding_approvals(cz, clerk, reviewer):
    """While a CZ18 approval of a person is uncommitted, the HBP approval of the same
    person waits on the person row lock, then sees CZ18 and is refused."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    p = person()
    hbp = svc.registration_start_review(registration=submit(cz, clerk, p=p), acting_user=reviewer)
    cz18 = svc.registration_submit(person=p, scheme=cz.resident, disease=cz.CZ18,
                                   application_date=date(2024, 4, 1), acting_user=clerk)
    cz18 = svc.registration_start_review(registration=cz18, acting_user=reviewer)
    outcome = {}

    def approve_hbp():
        try:
            svc.registration_approve(registration=hbp, acting_user=reviewer,
                                     valid_from=date(2024, 4, 20))
            outcome["HBP"] = "approved"
        except ValidationError as exc:
            outcome["HBP"] = exc.messages[0]
        finally:
            connections.close_all()

    with transaction.atomic():
        svc.registration_approve(registration=cz18, acting_user=reviewer,
                                 valid_from=date(2024, 4, 1))
        worker = threading.Thread(target=approve_hbp)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive(), "the HBP approval did not wait for the person lock"
    worker.join(timeout=20)
    assert "已纳入门诊慢性病 CZ18" in outcome["HBP"]
    hbp.refresh_from_db()
    assert hbp.status == S.IN_REVIEW


def test_decide_takes_a_submitted_registration_into_review_or_leaves_it(cz, clerk, reviewer):
    """``registration_decide``: the reviewer's 批准 / 驳回 in one step from 申报; a refusal
    (criteria not met, no reason given) leaves it 申报 with no transition written."""
    refused = submit(cz, clerk, readings=GOOD_BP[:2])
    with pytest.raises(ValidationError):
        svc.registration_decide(registration=refused, decision="approve", acting_user=reviewer)
    with pytest.raises(ValidationError):
        svc.registration_decide(registration=refused, decision="reject", reason=" ", acting_user=reviewer)
    refused.refresh_from_db()
    assert refused.status == S.SUBMITTED and refused.reviewer is None
    assert refused.transitions.count() == 1
    rejected = svc.registration_decide(registration=refused, decision="reject", reason="资料不全",
                                       acting_user=reviewer)
    assert rejected.status == S.REJECTED and rejected.reviewer == reviewer
    approved = svc.registration_decide(registration=submit(cz, clerk, p=person(3)), decision="approve",
                                       acting_user=reviewer)
    assert approved.status == S.APPROVED
    assert list(approved.transitions.values_list("to_status", flat=True)) == [
        S.SUBMITTED, S.IN_REVIEW, S.APPROVED]
