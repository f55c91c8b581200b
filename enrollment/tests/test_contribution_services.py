"""Services of persons, enrollments and payments against the fixture rows (README §2
参保人/参保登记和缴费, §6; dianjiang.md, sanming.md, liaocheng.md, leshan.md)."""
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from enrollment import selectors, services
from enrollment.documents import make_id_number
from enrollment.models import Enrollment, FamilyRelation, Payment, Person
from policies.models import PlanYear, Region, StaffProfile

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")
D = Decimal


def messages(exc) -> str:
    return " ".join(exc.value.messages)


def enroll(person, region="500231", kind="resident_basic", tier=1, **kw):
    return services.enrollment_create(person=person, plan_year=plan_year(region, kind), tier=tier,
                                      acting_user=None, **kw)


def pay(enrollment, paid, receipt, **kw):
    kw.setdefault("channel", "wechat")
    return services.payment_record(enrollment=enrollment, paid_date=paid, receipt_no=receipt,
                                   acting_user=None, **kw)


# --------------------------------------------------------------------------- persons


def test_person_create_derives_birth_date_and_sex_and_refuses_duplicates():
    number = make_id_number("500231", date(1990, 1, 1), 123)
    person = services.person_create(acting_user=None, document_number=number, name="李四",
                                    category="resident")
    assert (person.birth_date, person.sex) == (date(1990, 1, 1), "male")
    assert person.history.count() == 1
    with pytest.raises(ValidationError, match="该证件号码已登记"):
        services.person_create(acting_user=None, document_number=number, name="李四",
                               category="resident")


def test_person_create_refuses_bad_checksum_and_mismatch():
    number = make_id_number("500231", date(1990, 1, 1), 123)
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.person_create(acting_user=None, document_number=bad, name="王五",
                               category="resident")
    assert "校验位错误" in exc.value.message_dict["document_number"][0]
    with pytest.raises(ValidationError) as exc:
        services.person_create(acting_user=None, document_number=number, name="王五",
                               category="resident", birth_date=date(1991, 1, 1), sex="female")
    assert set(exc.value.message_dict) >= {"birth_date", "sex"}
    assert not Person.objects.exists()


def test_person_update_validates():
    person = new_person()
    services.person_update(person=person, phone="13800001234", acting_user=None)
    person.refresh_from_db()
    assert person.phone == "13800001234"
    with pytest.raises(ValidationError, match="出生日期"):
        services.person_update(person=person, birth_date=date(2000, 1, 1), acting_user=None)


def test_identity_add_refuses_overlap_and_unknown_code():
    person = new_person()
    services.identity_add(person=person, identity="dibao", valid_from=date(2024, 1, 1),
                          valid_to=date(2024, 6, 30), acting_user=None)
    with pytest.raises(ValidationError, match="重叠"):
        services.identity_add(person=person, identity="dibao", valid_from=date(2024, 6, 30),
                              acting_user=None)
    services.identity_add(person=person, identity="dibao", valid_from=date(2024, 7, 1),
                          acting_user=None)
    with pytest.raises(ValidationError, match="认定终止日"):
        services.identity_add(person=person, identity="tekun", valid_from=date(2024, 7, 1),
                              valid_to=date(2024, 6, 1), acting_user=None)
    with pytest.raises(ValidationError, match="未知的特殊身份"):
        services.identity_add(person=person, identity="king", valid_from=date(2024, 1, 1),
                              acting_user=None)
    assert person.identities.get(valid_from=date(2024, 1, 1)).department == "civil_affairs"


def test_relation_add_refuses_self_duplicates_and_contradictions():
    a, b = new_person(), new_person()
    with pytest.raises(ValidationError, match="不能与本人建立家庭关系"):
        services.relation_add(person=a, relative=a, relation="spouse", acting_user=None)
    services.relation_add(person=a, relative=b, relation="child", acting_user=None)
    with pytest.raises(ValidationError, match="已登记家庭关系"):
        services.relation_add(person=a, relative=b, relation="sibling", acting_user=None)
    with pytest.raises(ValidationError, match="矛盾"):
        services.relation_add(person=b, relative=a, relation="child", acting_user=None)
    services.relation_add(person=b, relative=a, relation="parent", acting_user=None)
    assert selectors.relation_to_payer(b, a) == "child"
    assert selectors.relation_to_payer(a, b) == "parent"


# --------------------------------------------------------------------------- enrollments


def test_enrollment_create_checks_eligibility_tier_and_uniqueness():
    with pytest.raises(ValidationError) as exc:
        enroll(new_person(category="employee_active"))
    assert exc.value.messages == ["已参加职工基本医疗保险，不能参加城乡居民医保"]
    person = new_person()
    with pytest.raises(ValidationError, match="分档缴费"):
        enroll(person, tier=0)
    enroll(person)
    with pytest.raises(ValidationError, match="已登记该年度方案"):
        enroll(person)


def test_enrollment_create_refuses_non_locals_for_resident_basic():
    with pytest.raises(ValidationError, match="户籍和常住地均不在垫江县"):
        enroll(new_person(region="371500"))


def test_liaocheng_requires_basic_enrollment_in_region():
    person = new_person(region="371500", area="371502")
    with pytest.raises(ValidationError) as exc:
        enroll(person, "371500", "inclusive_commercial", tier=0)
    assert exc.value.messages == ["非聊城市基本医疗保险参保人员不得购买"]
    enroll(person, "371500", "resident_basic", tier=0)
    assert enroll(person, "371500", "inclusive_commercial", tier=0).plan_year.year == 2024
    confirmed = new_person(region="371500", area="371502")
    enroll(confirmed, "371500", "inclusive_commercial", tier=0, basic_insured_in_region=True)


# --------------------------------------------------------------------------- payments


def test_payment_dibao_central_window_stores_coverage():
    person = new_person()
    services.identity_add(person=person, identity="dibao", valid_from=date(2023, 1, 1),
                          acting_user=None)
    enrollment = enroll(person)
    payment = pay(enrollment, date(2023, 11, 20), "R-1")
    assert (payment.amount_due, payment.subsidy, payment.self_paid) == (D("380.00"), D("342.00"),
                                                                        D("38.00"))
    assert (payment.subsidy_identity.code, payment.subsidy_payer, payment.completes) == (
        "dibao", "government", True)
    assert payment.scheme == enrollment.plan_year.scheme
    enrollment.refresh_from_db()
    assert (enrollment.coverage_start, enrollment.coverage_end, enrollment.paid_off_date,
            enrollment.window_code) == (date(2024, 1, 1), date(2024, 12, 31), date(2023, 11, 20),
                                        "central")


def test_duplicate_receipt_is_refused_in_the_same_scheme_only():
    first, second = enroll(new_person()), enroll(new_person())
    pay(first, date(2023, 12, 1), "DUP-1")
    with pytest.raises(ValidationError) as exc:
        pay(second, date(2023, 12, 1), "DUP-1")
    assert "票据/流水号“DUP-1”已在垫江县城乡居民基本医疗保险登记" in messages(exc)
    assert Payment.objects.filter(receipt_no="DUP-1").count() == 1
    other = new_person(region="371500", area="371502")
    other_enrollment = enroll(other, "371500", "inclusive_commercial", tier=0,
                              basic_insured_in_region=True)
    pay(other_enrollment, date(2023, 12, 1), "DUP-1")  # another scheme: a different receipt book


def test_partial_payments_complete_on_the_last_date():
    enrollment = enroll(new_person())
    p1 = pay(enrollment, date(2024, 2, 20), "P-1", self_paid=D("200"))
    assert (p1.amount_due, p1.self_paid, p1.completes) == (D("380.00"), D("200"), False)
    enrollment.refresh_from_db()
    assert enrollment.coverage_start is None
    p2 = pay(enrollment, date(2024, 3, 10), "P-2")  # the rest: 180, completes in March
    assert (p2.self_paid, p2.completes) == (D("180.00"), True)
    enrollment.refresh_from_db()
    assert (enrollment.coverage_start, enrollment.paid_off_date) == (date(2024, 6, 8),
                                                                     date(2024, 3, 10))


def test_overpayment_and_payment_after_paid_off_are_refused():
    enrollment = enroll(new_person())
    with pytest.raises(ValidationError, match="超过应缴未缴金额 380.00"):
        pay(enrollment, date(2024, 1, 5), "O-1", self_paid=D("380.01"))
    pay(enrollment, date(2024, 1, 5), "O-2")
    enrollment.refresh_from_db()
    assert enrollment.coverage_start == date(2024, 1, 6)
    with pytest.raises(ValidationError, match="已于 2024-01-05 缴清"):
        pay(enrollment, date(2024, 1, 6), "O-3")


def test_subsidy_is_recorded_once_over_partial_payments():
    person = new_person()
    services.identity_add(person=person, identity="dibao", valid_from=date(2023, 1, 1),
                          acting_user=None)
    enrollment = enroll(person)
    p1 = pay(enrollment, date(2023, 12, 1), "S-1", self_paid=D("10"))
    p2 = pay(enrollment, date(2023, 12, 2), "S-2")
    assert (p1.subsidy, p1.self_paid, p2.subsidy, p2.self_paid, p2.completes) == (
        D("342.00"), D("10"), D("0"), D("28.00"), True)


def test_payment_refusals_window_and_order():
    enrollment = enroll(new_person())
    with pytest.raises(ValidationError) as exc:
        pay(enrollment, date(2024, 10, 1), "W-1")
    assert exc.value.message_dict["paid_date"] == ["2024 年度缴费已截止"]
    pay(enrollment, date(2024, 8, 1), "W-2", self_paid=D("100"))
    with pytest.raises(ValidationError, match="早于本参保登记已有缴费的最后日期"):
        pay(enrollment, date(2024, 7, 1), "W-3")
    last = pay(enrollment, date(2024, 8, 2), "W-4")
    assert (last.amount_due, last.self_paid) == (D("1050.00"), D("950.00"))


def test_liaocheng_personal_account_payer_relation_from_family_relations():
    holder = new_person(region="371500", area="371502", category="employee_active")
    sibling = new_person(region="371500", area="371502")
    parent = new_person(region="371500", area="371502", birth=date(1950, 1, 1))
    services.relation_add(person=holder, relative=sibling, relation="sibling", acting_user=None)
    services.relation_add(person=holder, relative=parent, relation="parent", acting_user=None)
    for p in (sibling, parent):
        enroll(p, "371500", "resident_basic", tier=0)
    e_sibling = enroll(sibling, "371500", "inclusive_commercial", tier=0)
    e_parent = enroll(parent, "371500", "inclusive_commercial", tier=0)
    with pytest.raises(ValidationError, match="兄弟姐妹"):
        pay(e_sibling, date(2023, 12, 1), "L-1", channel="personal_account", payer_person=holder)
    payment = pay(e_parent, date(2023, 12, 1), "L-2", channel="personal_account",
                  payer_person=holder, payer_name=holder.name)
    assert (payment.relation_to_payer, payment.self_paid) == ("parent", D("89.00"))


def test_closed_plan_year_and_terminated_enrollment_refuse_payments():
    enrollment = enroll(new_person())
    services.enrollment_terminate(enrollment=enrollment, terminate_date=date(2024, 1, 1),
                                  reason="迁出", acting_user=None)
    with pytest.raises(ValidationError, match="已终止"):
        pay(enrollment, date(2023, 12, 1), "T-1")
    other = enroll(new_person())
    PlanYear.objects.filter(pk=other.plan_year_id).update(status="closed")
    with pytest.raises(ValidationError, match="已关闭"):
        pay(other, date(2023, 12, 1), "T-2")


# --------------------------------------------------------------------------- suspension


def liaocheng_pair():
    person = new_person(region="371500", area="371502")
    basic = enroll(person, "371500", "resident_basic", tier=0)
    commercial = enroll(person, "371500", "inclusive_commercial", tier=0)
    pay(commercial, date(2023, 12, 1), f"C-{person.pk}")
    return person, basic, commercial


def test_suspending_basic_suspends_commercial_for_the_same_days_and_resumes_it():
    _, basic, commercial = liaocheng_pair()
    services.enrollment_suspend(enrollment=basic, date_from=date(2024, 3, 1), reason="欠缴",
                                acting_user=None)
    commercial.refresh_from_db()
    follower = commercial.suspensions.get()
    assert (commercial.status, follower.date_from, follower.date_to) == (
        "suspended", date(2024, 3, 1), None)
    assert not selectors.enrollment_in_force(commercial, date(2024, 3, 15))
    with pytest.raises(ValidationError, match="须先恢复基本医保"):
        services.enrollment_resume(enrollment=commercial, resume_date=date(2024, 4, 1),
                                   acting_user=None)
    services.enrollment_resume(enrollment=basic, resume_date=date(2024, 5, 1), acting_user=None)
    commercial.refresh_from_db()
    follower.refresh_from_db()
    assert (commercial.status, follower.date_to) == ("active", date(2024, 4, 30))
    assert selectors.enrollment_in_force(commercial, date(2024, 5, 1))
    assert not selectors.enrollment_in_force(commercial, date(2024, 4, 30))
    with pytest.raises(ValidationError, match="重叠"):
        services.enrollment_suspend(enrollment=basic, date_from=date(2024, 4, 1),
                                    date_to=date(2024, 4, 10), reason="x", acting_user=None)


def test_terminating_basic_terminates_commercial():
    _, basic, commercial = liaocheng_pair()
    services.enrollment_terminate(enrollment=basic, terminate_date=date(2024, 7, 1),
                                  reason="参加外地医保", acting_user=None)
    commercial.refresh_from_db()
    assert (commercial.status, commercial.coverage_end) == ("terminated", date(2024, 6, 30))


# --------------------------------------------------------------------------- automatic


def test_newborn_auto_enrolled_when_both_parents_hold_liaocheng_commercial():
    mother, _, _ = liaocheng_pair()
    father, _, _ = liaocheng_pair()
    baby = services.person_create(
        acting_user=None, document_type="birth_certificate", document_number="Q371123456",
        name="新生儿", category="newborn", birth_date=date(2024, 5, 20), sex="female",
        hukou_region=Region.objects.get(code="371500"))
    services.relation_add(person=mother, relative=baby, relation="child", acting_user=None)
    assert not Enrollment.objects.filter(person=baby).exists()  # one parent only
    services.relation_add(person=baby, relative=father, relation="parent", acting_user=None)
    auto = Enrollment.objects.get(person=baby)
    assert (auto.origin, auto.coverage_start, auto.coverage_end, auto.plan_year.scheme.kind) == (
        "newborn_auto", date(2024, 5, 20), date(2024, 12, 31), "inclusive_commercial")


def test_newborn_not_enrolled_when_a_parent_has_not_paid():
    mother, _, _ = liaocheng_pair()
    father = new_person(region="371500", area="371502")
    enroll(father, "371500", "resident_basic", tier=0)
    enroll(father, "371500", "inclusive_commercial", tier=0)  # registered, not paid
    baby = new_person(region="371500", area="371502", birth=date(2024, 2, 2), category="newborn")
    services.relation_add(person=mother, relative=baby, relation="child", acting_user=None)
    services.relation_add(person=father, relative=baby, relation="child", acting_user=None)
    assert services.newborn_auto_enroll(person=baby, acting_user=None) == []


def test_rollover_creates_next_year_for_consenting_persons():
    source = plan_year("350400", "inclusive_commercial")
    consenting = new_person(region="350400", area="350426")
    silent = new_person(region="350400", area="350426")
    for person, consent in ((consenting, True), (silent, False)):
        e = enroll(person, "350400", "inclusive_commercial", tier=0, auto_renew=consent,
                   basic_insured_in_region=True)
        pay(e, date(2023, 12, 1), f"RO-{person.pk}")
    with pytest.raises(ValidationError, match="尚无 2025 年度方案"):
        services.enrollment_rollover(plan_year=source, acting_user=None)
    PlanYear.objects.create(scheme=source.scheme, year=2025, status="draft")
    result = services.enrollment_rollover(plan_year=source, acting_user=None)
    (created,) = result["created"]
    assert (created.person, created.plan_year.year, created.origin, created.continuous_years,
            created.auto_renew) == (consenting, 2025, "rollover", 2, True)
    again = services.enrollment_rollover(plan_year=source, acting_user=None)
    assert again["created"] == [] and again["skipped"][0][1] == "已登记下一年度"


def test_nightly_renewal_job_renews_once_the_next_plan_year_is_open():
    from jobs.models import Job
    from jobs.services import job_start_periodic

    source = plan_year("350400", "inclusive_commercial")
    person = new_person(region="350400", area="350426")
    pay(enroll(person, "350400", "inclusive_commercial", tier=0, auto_renew=True, basic_insured_in_region=True),
        date(2023, 12, 1), "RN-1")
    target = PlanYear.objects.create(scheme=source.scheme, year=2025, status="draft")
    def nightly():
        return Job.objects.get(pk=job_start_periodic("renew_enrollments").pk)

    assert nightly().message == "没有需要自动续保的参保登记"  # not open yet
    PlanYear.objects.filter(pk=target.pk).update(status="active")
    job = nightly()
    assert (job.status, job.counts, job.created_by) == ("succeeded", {"created": 1, "skipped": 0}, None)
    assert Enrollment.objects.get(person=person, plan_year=target).origin == "rollover"
    assert "续保 1 人" in " ".join(job.log_lines.values_list("text", flat=True))
    assert nightly().message == "没有需要自动续保的参保登记"


# --------------------------------------------------------------------------- access


def test_staff_outside_the_region_may_not_record_payments():
    User = get_user_model()
    user = User.objects.create_user("jingban_x", password="x-Pass-12345", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="enrollment", codename__in=["add_payment", "add_enrollment"]))
    profile = StaffProfile.objects.create(user=user)
    profile.regions.add(Region.objects.get(code="371500"))
    user = User.objects.get(pk=user.pk)
    enrollment = enroll(new_person())
    with pytest.raises(PermissionDenied):
        services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1),
                                channel="wechat", receipt_no="A-1", acting_user=user)
    assert not Payment.objects.exists()


def test_relation_model_constraints():
    a = new_person()
    with pytest.raises(ValidationError):
        FamilyRelation(person=a, relative=a, relation="spouse").full_clean()


def test_coverage_entered_directly_only_where_not_computed_from_payments():
    person = new_person(region="371500", area="371502")
    basic = enroll(person, "371500", "resident_basic", tier=0)
    services.enrollment_update(enrollment=basic, coverage_start=date(2024, 1, 1),
                               coverage_end=date(2024, 12, 31), acting_user=None)
    basic.refresh_from_db()
    assert (basic.coverage_start, basic.coverage_end) == (date(2024, 1, 1), date(2024, 12, 31))
    with pytest.raises(ValidationError, match="年度内"):
        services.enrollment_update(enrollment=basic, coverage_start=date(2023, 12, 1),
                                   acting_user=None)
    dianjiang = enroll(new_person())
    with pytest.raises(ValidationError, match="按缴费计算"):
        services.enrollment_update(enrollment=dianjiang, coverage_start=date(2024, 1, 1),
                                   coverage_end=date(2024, 12, 31), acting_user=None)
    with pytest.raises(ValidationError, match="不能更改档次"):
        pay(dianjiang, date(2023, 12, 1), "U-1", self_paid=D("100"))
        services.enrollment_update(enrollment=dianjiang, tier=2, acting_user=None)


def test_rollover_command():
    from io import StringIO

    from django.core.management import call_command

    source = plan_year("350400", "inclusive_commercial")
    person = new_person(region="350400", area="350426")
    e = enroll(person, "350400", "inclusive_commercial", tier=0, auto_renew=True,
               basic_insured_in_region=True)
    pay(e, date(2023, 12, 1), "CMD-1")
    PlanYear.objects.create(scheme=source.scheme, year=2025, status="draft")
    out = StringIO()
    call_command("enrollment_rollover", region="350400", scheme="inclusive_commercial",
                 year=2024, stdout=out)
    assert "已登记 1 人的 2025 年度参保" in out.getvalue()
    assert Enrollment.objects.filter(person=person, plan_year__year=2025).exists()


def test_person_scope_for_staff_users():
    User = get_user_model()
    user = User.objects.create_user("jingban_dj9", password="x-Pass-12345", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="enrollment", codename__in=["add_person", "change_person"]))
    StaffProfile.objects.create(user=user).regions.add(Region.objects.get(code="500231"))
    user = User.objects.get(pk=user.pk)
    with pytest.raises(PermissionDenied, match="户籍所在地或常住地"):
        new_person(region="371500", area="371502", acting_user=user)
    mine = new_person(acting_user=user)
    outsider = new_person(region="371500", area="371502")
    with pytest.raises(PermissionDenied):
        services.person_update(person=outsider, phone="13900000000", acting_user=user)
    with pytest.raises(PermissionDenied):
        services.person_update(person=mine, hukou_region=Region.objects.get(code="371500"),
                               residence_region=Region.objects.get(code="371500"), acting_user=user)
    services.person_update(person=mine, phone="13900000000", acting_user=user)
    assert set(selectors.persons_visible_to(user)) == {mine}
