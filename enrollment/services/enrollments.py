"""Writes of the enrollment app (HackSoft services: keyword-only, ``acting_user``, one
transaction each). Spec README §2 参保人/参保登记和缴费, §6 bad input; dianjiang.md,
leshan.md, sanming.md, liaocheng.md (enrollment and contribution parts).

Every refusal is a ``django.core.exceptions.ValidationError`` with a Chinese message
naming the field (a rule refusal keeps the trial-calc code as the error ``code``:
``not_eligible``, ``window_closed``, …); a user outside the row's region or without the
model permission gets ``PermissionDenied``. ``acting_user=None`` is a system job (e.g. a
scheduled rollover) and is not permission-checked; history records the acting user.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from enrollment import selectors
from enrollment.models import (
    Enrollment,
    FamilyRelation,
    Person,
    PersonIdentity,
    PreExistingDeclaration,
    Suspension,
)
from insurance_rules.enrollment.eligibility import check_eligibility
from insurance_rules.errors import CaseError
from policies import models as pm
from policies.access import user_can_access, user_region_ids, user_sees_all_regions
from policies.dashboard import dashboard_figures_changed

PERSON_FIELDS = (
    "document_type", "document_number", "name", "sex", "birth_date", "phone", "hukou_region",
    "residence_region", "category", "resettled", "long_term_resident", "hk_macao_taiwan",
    "basic_insured_in_province", "bank_name", "bank_account_name",
    "bank_account_number", "bank_place", "note",
)

DEPENDENT_KINDS = {
    "resident_basic": ("critical_illness", "inclusive_commercial"),
    "employee_basic": ("employee_large", "employee_supplementary", "inclusive_commercial"),
}
"""Schemes whose coverage follows the person's basic coverage in the same region and
year: suspending or terminating the basic enrollment suspends/terminates them for the
same days (liaocheng.md, sanming.md; 大病保险/大额/补充 require the basic insurance)."""

ENROLLMENT_REGION = "plan_year__scheme__region"


# --------------------------------------------------------------------------- helpers


def _check(acting_user, perm: str, obj=None, region_field: str | None = None) -> None:
    if acting_user is None:
        return
    if not acting_user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限")
    if obj is not None and region_field and not user_can_access(acting_user, obj, region_field):
        raise PermissionDenied("该记录不属于您负责的统筹区")


def _save(obj, acting_user, **kwargs):
    obj._history_user = acting_user
    obj.save(**kwargs)
    if isinstance(obj, Enrollment):  # 参保率 counts active enrollments with coverage
        dashboard_figures_changed(plan_year_id=obj.plan_year_id)
    return obj


def _differs(obj, fields: dict) -> bool:
    """Whether any of ``fields`` differs from ``obj``'s stored value: an update whose values
    are all the stored ones writes nothing (no save, no history row)."""
    return any(getattr(obj, key) != value for key, value in fields.items())


def _refusal(exc: CaseError, field: str | None = None) -> ValidationError:
    """A rule refusal as a ValidationError (message unchanged, code = trial-calc code)."""
    error = ValidationError(exc.message, code=exc.code)
    return ValidationError({field: error}) if field else error


def _region_ids(acting_user):
    return frozenset() if acting_user is None else user_region_ids(acting_user)


def person_scope_refusal(acting_user, *, hukou_region_id, residence_region_id) -> str | None:
    """Why a person with these 户籍/常住地 would fall outside ``acting_user``'s regions (a
    Chinese message naming the fields), or ``None``. The admin form shows it as a field
    error; the services refuse with it."""
    if acting_user is None or user_sees_all_regions(acting_user):
        return None
    ids = user_region_ids(acting_user)
    if hukou_region_id in ids or residence_region_id in ids:
        return None
    if hukou_region_id is None and residence_region_id is None:
        return "请填写户籍所在地或常住地：至少一项须为您负责的统筹区"
    return "参保人的户籍所在地或常住地必须属于您负责的统筹区"


def _person_in_scope(acting_user, person: Person) -> None:
    """A new/changed person must be visible to the user afterwards (户籍 or 常住地 in one of
    the user's regions), else they would create rows they cannot see."""
    refusal = person_scope_refusal(acting_user, hukou_region_id=person.hukou_region_id,
                                   residence_region_id=person.residence_region_id)
    if refusal is not None:
        raise PermissionDenied(refusal)


# --------------------------------------------------------------------------- persons


@transaction.atomic
def person_create(*, acting_user, document_number: str, name: str, category: str,
                  document_type: str = Person.DocumentType.ID_CARD, **fields) -> Person:
    """Register a person; the document number is checked, birth date and sex derived
    from an 18-character number or cross-checked against it."""
    _check(acting_user, "enrollment.add_person")
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(document_type=document_type, document_number=document_number, name=name,
                    category=category, **fields)
    person.fill_from_document()
    person.full_clean()
    _person_in_scope(acting_user, person)
    return _save(person, acting_user)


@transaction.atomic
def person_update(*, person: Person, acting_user, **fields) -> Person:
    """Change a person's fields; values all equal to the stored ones write nothing."""
    _check(acting_user, "enrollment.change_person")
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person.objects.select_for_update().get(pk=person.pk)
    if acting_user is not None and not selectors.persons_visible_to(
            acting_user, Person.objects.filter(pk=person.pk)).exists():
        raise PermissionDenied("该参保人不属于您负责的统筹区")
    if not _differs(person, fields):
        return person
    moves = any(f in fields for f in ("hukou_region", "residence_region"))
    for key, value in fields.items():
        setattr(person, key, value)
    person.full_clean()
    if moves and not Enrollment.objects.filter(
            person=person, plan_year__scheme__region__in=_region_ids(acting_user)).exists():
        _person_in_scope(acting_user, person)
    return _save(person, acting_user)


@transaction.atomic
def identity_add(*, person: Person, identity, valid_from: date, acting_user,
                 valid_to: date | None = None, department: str = "", document_ref: str = "",
                 note: str = "") -> PersonIdentity:
    """Record a special identity held from ``valid_from`` to ``valid_to`` (open = None).
    Periods of the same identity of one person may not overlap."""
    _check(acting_user, "enrollment.add_personidentity")
    if isinstance(identity, str):
        found = pm.Identity.objects.filter(code=identity).first()
        if found is None:
            raise ValidationError({"identity": f"未知的特殊身份代码：{identity}"})
        identity = found
    row = PersonIdentity(person=person, identity=identity, valid_from=valid_from,
                         valid_to=valid_to, department=department or identity.department,
                         document_ref=document_ref, note=note)
    row.full_clean()  # includes: periods of the same identity may not overlap
    return _save(row, acting_user)


@transaction.atomic
def relation_add(*, person: Person, relative: Person, relation: str, acting_user,
                 note: str = "") -> FamilyRelation:
    """Record that ``relative`` is ``person``'s ``relation``. A contradicting reverse
    relation is refused. When the relation makes a newborn the child of parents, the
    automatic newborn enrollments are created (``newborn_auto_enroll``)."""
    _check(acting_user, "enrollment.add_familyrelation")
    row = FamilyRelation(person=person, relative=relative, relation=relation, note=note)
    row.full_clean()  # includes: no self relation, no contradicting reverse relation
    _save(row, acting_user)
    child = relative if relation == "child" else person if relation == "parent" else None
    if child is not None:
        newborn_auto_enroll(person=child, acting_user=acting_user)
    return row


def enrollment_categories_sync(*, person_ids) -> int:
    """Set the 人员类别 of the enrollments of ``person_ids`` to their person's current one
    (``Enrollment.category``, docs/enrollment.md §人员类别): one set-based UPDATE, of the
    rows that differ only. Called by ``enrollment.signals`` when a saved person's category
    changed and by the persons import after its bulk update. Returns the rows changed."""
    ids = sorted(set(person_ids))
    if not ids:
        return 0
    current = Person.objects.filter(pk=OuterRef("person_id")).values("category")[:1]
    changed = 0
    for start in range(0, len(ids), 5_000):  # a bounded IN list per statement
        changed += (Enrollment.objects.filter(person_id__in=ids[start:start + 5_000])
                    .exclude(category=Subquery(current)).update(category=Subquery(current)))
    return changed


# --------------------------------------------------------------------------- enrollments


def _previous_years(person: Person, plan_year: pm.PlanYear) -> int:
    prev = Enrollment.objects.filter(person=person, plan_year__scheme=plan_year.scheme,
                                     plan_year__year=plan_year.year - 1).first()
    return prev.continuous_years if prev is not None and prev.coverage_start else 0


def _check_plan_year_open(plan_year: pm.PlanYear, field: str = "plan_year") -> None:
    if plan_year.status == pm.PlanYear.Status.CLOSED:
        raise ValidationError({field: f"年度方案“{plan_year}”已关闭，不能再登记参保或缴费"})


@transaction.atomic
def enrollment_create(*, person: Person, plan_year: pm.PlanYear, acting_user, tier: int = 0,
                      auto_renew: bool = False, auto_deduct: bool = False,
                      continuous_years: int | None = None, note: str = "",
                      basic_insured_in_region: bool | None = None,
                      origin: str = Enrollment.Origin.MANUAL) -> Enrollment:
    """Enroll ``person`` in ``plan_year`` after the eligibility check of the scheme
    (``basic_insured_in_region``: None = derived from the basic enrollments recorded
    here; True = confirmed by the caller from the bureau's core system)."""
    _check(acting_user, "enrollment.add_enrollment", plan_year, "scheme__region")
    _check_plan_year_open(plan_year)
    refusal = selectors.enrollment_refusal(person, plan_year,
                                           basic_insured_in_region=basic_insured_in_region)
    if refusal is not None:
        raise _refusal(refusal, "person")
    if continuous_years is None:
        continuous_years = _previous_years(person, plan_year) + 1
    enrollment = Enrollment(person=person, plan_year=plan_year, category=person.category, tier=tier,
                            auto_renew=auto_renew, auto_deduct=auto_deduct, continuous_years=continuous_years,
                            note=note, origin=origin,
                            basic_confirmed=bool(basic_insured_in_region))
    enrollment.full_clean()
    return _save(enrollment, acting_user)


ENROLLMENT_EDITABLE = ("tier", "auto_renew", "auto_deduct", "basic_confirmed", "note",
                       "continuous_years", "coverage_start", "coverage_end")
COVERAGE_FIELDS = ("coverage_start", "coverage_end")


def coverage_entered_directly(plan_year: pm.PlanYear) -> bool:
    """True when the plan year has no payment windows: its contributions are not
    administered here (e.g. 职工基本医保 in the core system), so the coverage period is
    entered as confirmed by the core system instead of computed from payments."""
    return not pm.EnrollmentWindow.objects.filter(plan_year=plan_year).exists()


@transaction.atomic
def enrollment_update(*, enrollment: Enrollment, acting_user, **fields) -> Enrollment:
    """Change the editable fields of an enrollment; the tier only while nothing is paid;
    the coverage period only where it is not computed from payments
    (``coverage_entered_directly``). Status and payments change only through their own
    services. Values all equal to the stored ones write nothing."""
    _check(acting_user, "enrollment.change_enrollment", enrollment, ENROLLMENT_REGION)
    unknown = set(fields) - set(ENROLLMENT_EDITABLE)
    if unknown:
        raise TypeError(f"fields not editable here: {sorted(unknown)}")
    locked = Enrollment.objects.select_for_update().select_related("plan_year").get(pk=enrollment.pk)
    if not _differs(locked, fields):
        return locked
    if "tier" in fields and fields["tier"] != locked.tier and locked.payments.exists():
        raise ValidationError({"tier": "已有缴费记录的参保登记不能更改档次"})
    if any(f in fields and fields[f] != getattr(locked, f) for f in COVERAGE_FIELDS):
        if not coverage_entered_directly(locked.plan_year):
            raise ValidationError({"coverage_start": "本险种的待遇享受期按缴费计算，不能直接修改"})
        start = fields.get("coverage_start", locked.coverage_start)
        end = fields.get("coverage_end", locked.coverage_end)
        if (start is None) != (end is None):
            raise ValidationError({"coverage_end": "待遇起始日和终止日须同时填写"})
        year = locked.plan_year.year
        if start is not None and not (start.year == year and end.year == year):
            raise ValidationError({"coverage_start": f"待遇享受期必须在 {year} 年度内"})
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.full_clean()
    return _save(locked, acting_user)


@transaction.atomic
def pre_existing_declare(*, enrollment: Enrollment, group: str, acting_user,
                         condition: pm.PreExistingCondition | None = None,
                         condition_text: str = "", declared_on: date | None = None
                         ) -> PreExistingDeclaration:
    """Declare a 特定既往症 on the enrollment (三明): the year's health status becomes
    ``pre_existing``."""
    _check(acting_user, "enrollment.add_preexistingdeclaration", enrollment, ENROLLMENT_REGION)
    row = PreExistingDeclaration(enrollment=enrollment, group=group, condition=condition,
                                 condition_text=condition_text, declared_on=declared_on)
    row.full_clean()
    return _save(row, acting_user)


# --------------------------------------------------------------------------- suspension


def _dependents(enrollment: Enrollment):
    """Enrollments of the same person, year and pooling region that follow this basic one."""
    kinds = DEPENDENT_KINDS.get(enrollment.plan_year.scheme.kind, ())
    if not kinds:
        return Enrollment.objects.none()
    return (Enrollment.objects.select_for_update()
            .filter(person=enrollment.person, plan_year__year=enrollment.plan_year.year,
                    plan_year__scheme__kind__in=kinds,
                    plan_year__scheme__region=enrollment.plan_year.scheme.region)
            .exclude(status=Enrollment.Status.TERMINATED))


def _overlapping(enrollment: Enrollment, date_from: date, date_to: date | None):
    rows = enrollment.suspensions.all()
    if date_to is not None:
        rows = rows.filter(date_from__lte=date_to)
    return rows.exclude(date_to__lt=date_from)


@transaction.atomic
def enrollment_suspend(*, enrollment: Enrollment, date_from: date, reason: str, acting_user,
                       date_to: date | None = None) -> Suspension:
    """Suspend coverage from ``date_from`` (to ``date_to``, or until resumed). Suspending a
    basic enrollment suspends the dependent schemes (DEPENDENT_KINDS) for the same days."""
    _check(acting_user, "enrollment.add_suspension", enrollment, ENROLLMENT_REGION)
    locked = Enrollment.objects.select_for_update().select_related(
        "plan_year__scheme__region", "person").get(pk=enrollment.pk)
    if locked.status == Enrollment.Status.TERMINATED:
        raise ValidationError({"enrollment": "该参保登记已终止，不能暂停"})
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写暂停原因"})
    suspension = Suspension(enrollment=locked, date_from=date_from, date_to=date_to, reason=reason)
    suspension.full_clean()
    if _overlapping(locked, date_from, date_to).exists():
        raise ValidationError({"date_from": "暂停期间与该参保登记已有的暂停期间重叠"})
    _save(suspension, acting_user)
    if date_to is None:
        locked.status = Enrollment.Status.SUSPENDED
        _save(locked, acting_user)
    scheme_name = locked.plan_year.scheme.name
    for dependent in _dependents(locked):
        if _overlapping(dependent, date_from, date_to).exists():
            continue
        _save(Suspension(enrollment=dependent, date_from=date_from, date_to=date_to,
                         reason=f"随{scheme_name}暂停：{reason}", source=suspension), acting_user)
        if date_to is None:
            dependent.status = Enrollment.Status.SUSPENDED
            _save(dependent, acting_user)
    return suspension


@transaction.atomic
def enrollment_resume(*, enrollment: Enrollment, resume_date: date, acting_user) -> Suspension:
    """End the open suspension: coverage resumes on ``resume_date`` (the suspension ends
    the day before), together with the dependent schemes suspended with it (三明: benefits
    resume from the day basic benefits resume)."""
    _check(acting_user, "enrollment.change_suspension", enrollment, ENROLLMENT_REGION)
    locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    suspension = locked.suspensions.filter(date_to__isnull=True).first()
    if suspension is None:
        raise ValidationError({"enrollment": "该参保登记没有未结束的暂停"})
    if suspension.source_id is not None and suspension.source.date_to is None:
        raise ValidationError({"enrollment": f"该暂停随基本医保暂停（{suspension.source}），须先恢复"
                                             f"基本医保"})
    end = resume_date - timedelta(days=1)
    if end < suspension.date_from:
        raise ValidationError({"resume_date": f"恢复日期 {resume_date.isoformat()} 必须晚于暂停起始日 "
                                              f"{suspension.date_from.isoformat()}"})
    for row in [suspension, *suspension.followers.filter(date_to__isnull=True)]:
        row.date_to = end
        _save(row, acting_user)
        target = Enrollment.objects.select_for_update().get(pk=row.enrollment_id)
        if target.status == Enrollment.Status.SUSPENDED and not target.suspensions.filter(
                date_to__isnull=True).exists():
            target.status = Enrollment.Status.ACTIVE
            _save(target, acting_user)
    return suspension


@transaction.atomic
def enrollment_terminate(*, enrollment: Enrollment, terminate_date: date, reason: str,
                         acting_user) -> Enrollment:
    """Terminate from ``terminate_date`` (coverage ends the day before); dependent schemes
    (DEPENDENT_KINDS) terminate with a basic enrollment (聊惠保)."""
    _check(acting_user, "enrollment.change_enrollment", enrollment, ENROLLMENT_REGION)
    locked = Enrollment.objects.select_for_update().select_related(
        "plan_year__scheme").get(pk=enrollment.pk)
    if locked.status == Enrollment.Status.TERMINATED:
        raise ValidationError({"enrollment": "该参保登记已终止"})
    return terminate_locked(locked, terminate_date=terminate_date, reason=reason,
                            acting_user=acting_user)


def terminate_locked(locked: Enrollment, *, terminate_date: date, reason: str,
                     acting_user) -> Enrollment:
    """``enrollment_terminate``'s writes on an enrollment already locked and checked by
    the caller (also the coverage effect of an approved refund, ``refunds.refund_approve``,
    whose reviewer holds no right to change enrollments)."""
    targets = [locked, *_dependents(locked)]
    for target in targets:
        target.status = Enrollment.Status.TERMINATED
        target.terminated_on = terminate_date
        end = terminate_date - timedelta(days=1)
        if target.coverage_end is not None and end < target.coverage_end:
            if target.coverage_start is not None and end < target.coverage_start:
                target.coverage_start = target.coverage_end = None
            else:
                target.coverage_end = end
        label = "" if target is locked else f"随{locked.plan_year.scheme.name}终止："
        target.note = (target.note + "\n" if target.note else "") + \
            f"{terminate_date.isoformat()} 终止：{label}{reason}"
        _save(target, acting_user)
    return locked


# --------------------------------------------------------------------------- automatic


@transaction.atomic
def newborn_auto_enroll(*, person: Person, acting_user) -> list[Enrollment]:
    """Automatic enrollments of a newborn (liaocheng.md: a 2024 newborn whose two parents
    are both enrolled in 2024 聊惠保 is covered from birth for the period of their basic
    coverage). Driven by ``AutoEnrollmentRule`` rows of the birth year's plan years;
    returns the enrollments created (none when the conditions are not met yet)."""
    year = person.birth_date.year
    rules = (pm.AutoEnrollmentRule.objects
             .filter(plan_year__year=year, trigger=pm.AutoEnrollmentRule.Trigger.NEWBORN_PARENTS)
             .exclude(plan_year__status=pm.PlanYear.Status.CLOSED)
             .select_related("plan_year__scheme__region"))
    parents = selectors.parents_of(person)
    created = []
    for rule in rules:
        plan_year = rule.plan_year
        if Enrollment.objects.filter(person=person, plan_year=plan_year).exists():
            continue
        enrolled = Enrollment.objects.filter(
            person__in=parents, plan_year=plan_year, coverage_start__isnull=False).exclude(
            status=Enrollment.Status.TERMINATED).count()
        if enrolled < rule.parents_required:
            continue
        pooling = plan_year.scheme.region.pooling_region
        start, end = person.birth_date, date(year, 12, 31)
        if rule.coverage_rule == pm.AutoEnrollmentRule.CoverageRule.AS_BASIC:
            basic = selectors.basic_enrollment(person, pooling, year)
            if basic is not None and basic.coverage_start is not None:
                start, end = basic.coverage_start, basic.coverage_end
        enrollment = Enrollment(person=person, plan_year=plan_year, category=person.category,
                                coverage_start=start,
                                coverage_end=end, origin=Enrollment.Origin.NEWBORN_AUTO,
                                continuous_years=1,
                                note=f"父母均已参保{plan_year.scheme.name}，新生儿自动参保")
        enrollment.full_clean()
        created.append(_save(enrollment, acting_user))
    return created


@transaction.atomic
def enrollment_rollover(*, plan_year: pm.PlanYear, acting_user) -> dict:
    """Automatic renewal (sanming.md 自动续保; leshan.md 个人账户代扣 carried to the next
    year): for the enrollments of ``plan_year`` that consented (``auto_renew`` or
    ``auto_deduct``) and are not terminated, create next year's enrollment (to be paid)
    when the scheme's next plan year exists. Returns ``{"created": [...], "skipped":
    [(enrollment, reason), ...]}``."""
    _check(acting_user, "enrollment.add_enrollment", plan_year, "scheme__region")
    target = pm.PlanYear.objects.filter(scheme=plan_year.scheme, year=plan_year.year + 1).first()
    if target is None:
        raise ValidationError({"plan_year": f"{plan_year.scheme}尚无 {plan_year.year + 1} 年度方案，"
                                            f"不能自动续保"})
    _check_plan_year_open(target)
    target_plan = selectors.contribution_plan(target)
    pooling = plan_year.scheme.region.pooling_region
    created, skipped = [], []
    sources = (Enrollment.objects.filter(plan_year=plan_year)
               .filter(Q(auto_renew=True) | Q(auto_deduct=True))
               .exclude(status=Enrollment.Status.TERMINATED).select_related("person"))
    for source in sources.order_by("pk"):
        person = source.person
        if Enrollment.objects.filter(person=person, plan_year=target).exists():
            skipped.append((source, "已登记下一年度"))
            continue
        facts = selectors.person_facts(person, pooling=pooling, year=target.year,
                                       basic_insured_in_region=True)
        try:
            check_eligibility(target_plan, facts,
                              holds_employee_basic=selectors.holds_employee_basic(person, target.year),
                              local=selectors.person_is_local(person, pooling))
        except CaseError as exc:
            skipped.append((source, exc.message))
            continue
        enrollment = Enrollment(
            person=person, plan_year=target, category=person.category, tier=source.tier,
            auto_renew=source.auto_renew,
            auto_deduct=source.auto_deduct, origin=Enrollment.Origin.ROLLOVER,
            basic_confirmed=source.basic_confirmed,
            continuous_years=source.continuous_years + 1 if source.coverage_start else 1,
            note=f"由 {plan_year.year} 年度自动续保")
        enrollment.full_clean()
        created.append(_save(enrollment, acting_user))
    return {"created": created, "skipped": skipped}
