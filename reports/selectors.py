"""Report figures (reads only; docs/reports.md).

- 参保率 (participation rate) per plan year and per county (sanming.md “兜底保障” and
  “Management figures”; leshan.md header “Participation target”; liaocheng.md
  “Enrollment rate of basic insured persons”): enrollees of a supplementary/commercial
  scheme ÷ persons insured in the basic scheme(s) that scheme requires, same region and
  year, compared with the plan year's ``PlanFigure`` rows ``participation_target`` /
  ``participation_minimum`` (no target in code: a missing row shows “未设置”).
- 缴费收入 (contributions collected) per plan year: self-paid vs subsidy (spec README §2
  “参保登记 and 缴费”), the subsidy split by payer (资助方), by certifying department
  (认定部门) and by identity (codes.md special identities).

Every figure is ``Decimal``; a rate or amount is rounded once, 0.01 ROUND_HALF_UP, when
the figure is formed (README §4.1). Counts are integers.

An enrollment counts (参保) when its status is 正常参保 (``active``) and its coverage
(待遇享受期) is set — i.e. the amount due is paid off or the coverage was entered for a
basic scheme administered elsewhere. Suspended, terminated and unpaid registrations do
not count. A person is attributed to a county by 常住地, else 户籍所在地 (the region under
the plan year's pooling region that contains it); persons with neither, or with the
pooling region itself, are shown as “未划分县区”.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BigIntegerField, Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from enrollment.models import Enrollment, Payment, PersonIdentity
from policies import codes
from policies.access import scope_queryset
from policies.models import Identity, PlanFigure, PlanYear, Region

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
NOT_SET = "未设置"
UNASSIGNED = "未划分县区"

SK = codes.SchemeKind
DENOMINATOR_KINDS: dict[str, tuple[str, ...]] = {
    # leshan.md “Who and how they pay”: only persons insured in the region's employee_basic.
    SK.EMPLOYEE_SUPPLEMENTARY: (SK.EMPLOYEE_BASIC,),
    # sanming.md / liaocheng.md: persons with the region's basic coverage (either scheme).
    SK.INCLUSIVE_COMMERCIAL: (SK.EMPLOYEE_BASIC, SK.RESIDENT_BASIC),
}
"""Schemes whose participation rate is reported → the basic scheme kinds whose insured
persons form the denominator (the scheme's eligibility, insurance_rules/enrollment/eligibility.py).
Vocabulary, not policy numbers."""


def round_cent(value) -> Decimal:
    """``value`` (Decimal/int/None) rounded once to 0.01 half-up; ``None`` → 0.00."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(numerator, denominator) -> Decimal | None:
    """``numerator ÷ denominator`` in percent, rounded once; ``None`` when the
    denominator is 0 (nothing to compare with)."""
    if not denominator:
        return None
    return round_cent(Decimal(numerator) * HUNDRED / Decimal(denominator))


def counted_enrollments() -> Q:
    """Enrollments that count as 参保 (module docstring)."""
    return Q(status=Enrollment.Status.ACTIVE, coverage_start__isnull=False)


# --------------------------------------------------------------------------- plan years


def plan_years_for(user, *, region=None, scheme=None, year=None):
    """Plan years of ``user``'s regions (policies.access), optionally filtered by pooling
    region, scheme and year; ordered by region, settlement order, year."""
    qs = scope_queryset(PlanYear.objects.select_related("scheme__region"), user, "scheme__region")
    if region is not None:
        qs = qs.filter(scheme__region=region)
    if scheme is not None:
        qs = qs.filter(scheme=scheme)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("scheme__region__code", "scheme__settlement_order", "year")


def participation_plan_years(plan_years):
    """The plan years among ``plan_years`` whose participation rate is reported."""
    return [py for py in plan_years if py.scheme.kind in DENOMINATOR_KINDS]


def plan_year_label(plan_year) -> str:
    return f"{plan_year.scheme.region.name} {plan_year.scheme.name} {plan_year.year}"


def plan_figures(plan_year, *codes_) -> dict[str, Decimal | None]:
    """The plan year's ``PlanFigure`` values for ``codes_`` (``None`` when no row)."""
    found = dict(PlanFigure.objects.filter(plan_year=plan_year, code__in=codes_)
                 .values_list("code", "value"))
    return {code: found.get(code) for code in codes_}


# --------------------------------------------------------------------------- participation


def target_status(rate, target, minimum) -> str:
    """How a rate compares with the plan year's target and minimum (Chinese)."""
    if target is None and minimum is None:
        return NOT_SET
    if rate is None:
        return "无法计算（基本医保参保人数为 0）"
    if target is not None and rate >= target:
        return "达到目标"
    if minimum is not None and rate >= minimum:
        return "达到底线、未达目标" if target is not None else "达到底线"
    if minimum is not None:
        return "低于底线"
    return "未达目标"


@dataclass(frozen=True)
class ParticipationRow:
    """参保率 of a plan year (``county is None`` and ``label`` empty: the whole region) or
    of one county of it (``county`` = the sub-region, or ``None`` with label 未划分县区)."""

    plan_year: PlanYear
    county: Region | None
    label: str
    enrollees: int
    basic_insured: int
    rate: Decimal | None
    target: Decimal | None
    minimum: Decimal | None

    @property
    def status(self) -> str:
        return target_status(self.rate, self.target, self.minimum)

    @property
    def official_rate(self) -> Decimal | None:
        return self.plan_year.official_participation_rate


def _enrollee_qs(plan_year):
    return Enrollment.objects.filter(counted_enrollments(), plan_year=plan_year)


def _basic_qs(plan_year):
    kinds = DENOMINATOR_KINDS.get(plan_year.scheme.kind, ())
    return Enrollment.objects.filter(
        counted_enrollments(), plan_year__year=plan_year.year,
        plan_year__scheme__region_id=plan_year.scheme.region_id,
        plan_year__scheme__kind__in=kinds)


def _persons(qs) -> int:
    return qs.aggregate(n=Count("person", distinct=True))["n"]


def _persons_by_home_region(qs) -> dict[int | None, int]:
    """Distinct persons of ``qs`` by home region id (常住地, else 户籍所在地)."""
    home = Coalesce("person__residence_region", "person__hukou_region",
                    output_field=BigIntegerField())
    rows = qs.annotate(home=home).values("home").annotate(n=Count("person", distinct=True))
    return {row["home"]: row["n"] for row in rows.order_by()}


def _county_of(region_id, pooling_id, parents) -> int | None:
    """The sub-region directly under ``pooling_id`` that contains ``region_id``."""
    seen = set()
    while region_id is not None and region_id not in seen:
        seen.add(region_id)
        parent = parents.get(region_id)
        if parent == pooling_id:
            return region_id
        region_id = parent
    return None


def _by_county(counts, pooling_id, parents) -> dict[int | None, int]:
    result: dict[int | None, int] = {}
    for region_id, n in counts.items():
        county = _county_of(region_id, pooling_id, parents)
        result[county] = result.get(county, 0) + n
    return result


def participation_rate(plan_year) -> ParticipationRow:
    """参保率 of one plan year (whole region)."""
    figures = plan_figures(plan_year, PlanFigure.Code.PARTICIPATION_TARGET,
                           PlanFigure.Code.PARTICIPATION_MINIMUM)
    enrollees = _persons(_enrollee_qs(plan_year))
    basic = _persons(_basic_qs(plan_year))
    return ParticipationRow(
        plan_year=plan_year, county=None, label="", enrollees=enrollees, basic_insured=basic,
        rate=percent(enrollees, basic),
        target=figures[PlanFigure.Code.PARTICIPATION_TARGET],
        minimum=figures[PlanFigure.Code.PARTICIPATION_MINIMUM])


def participation_rates(plan_years) -> list[ParticipationRow]:
    """参保率 of each reported plan year among ``plan_years``."""
    return [participation_rate(py) for py in participation_plan_years(plan_years)]


def county_participation_rates(plan_years) -> list[ParticipationRow]:
    """参保率 of each county (every sub-region of the pooling region, by code) of each
    reported plan year, the same targets as the plan year (sanming.md: “County
    participation rate ≥ 20 %, target 30 %”); a 未划分县区 row when some persons have no
    county."""
    parents = dict(Region.objects.values_list("id", "parent_id"))
    rows = []
    for plan_year in participation_plan_years(plan_years):
        pooling_id = plan_year.scheme.region_id
        figures = plan_figures(plan_year, PlanFigure.Code.PARTICIPATION_TARGET,
                               PlanFigure.Code.PARTICIPATION_MINIMUM)
        enrollees = _by_county(_persons_by_home_region(_enrollee_qs(plan_year)), pooling_id,
                               parents)
        basic = _by_county(_persons_by_home_region(_basic_qs(plan_year)), pooling_id, parents)
        counties = list(Region.objects.filter(parent_id=pooling_id).order_by("code"))
        keyed: list[tuple[Region | None, str]] = [(c, c.name) for c in counties]
        if enrollees.get(None) or basic.get(None):
            keyed.append((None, UNASSIGNED))
        for county, label in keyed:
            key = county.pk if county else None
            n, d = enrollees.get(key, 0), basic.get(key, 0)
            rows.append(ParticipationRow(
                plan_year=plan_year, county=county, label=label, enrollees=n, basic_insured=d,
                rate=percent(n, d), target=figures[PlanFigure.Code.PARTICIPATION_TARGET],
                minimum=figures[PlanFigure.Code.PARTICIPATION_MINIMUM]))
    return rows


# --------------------------------------------------------------------------- contributions


@dataclass(frozen=True)
class ContributionRow:
    """缴费收入 of a plan year: payments, persons, self-paid, subsidy, total (元)."""

    plan_year: PlanYear
    payments: int
    persons: int
    self_paid: Decimal
    subsidy: Decimal

    @property
    def total(self) -> Decimal:
        return self.self_paid + self.subsidy


@dataclass(frozen=True)
class SubsidyRow:
    """资助金额 of a plan year for one payer / department / identity, with its share of
    the plan year's subsidy (percent)."""

    plan_year: PlanYear
    key: str
    label: str
    payments: int
    amount: Decimal
    share: Decimal | None


def _payments(plan_years):
    return Payment.objects.filter(enrollment__plan_year__in=[py.pk for py in plan_years])


def contributions(plan_years) -> list[ContributionRow]:
    """缴费收入 of each plan year among ``plan_years`` that has payments."""
    by_pk = {py.pk: py for py in plan_years}
    rows = (_payments(plan_years).values("enrollment__plan_year")
            .annotate(payments=Count("id"), persons=Count("enrollment__person", distinct=True),
                      self_paid=Sum("self_paid"), subsidy=Sum("subsidy")).order_by())
    found = {row["enrollment__plan_year"]: row for row in rows}
    return [ContributionRow(plan_year=py, payments=found[pk]["payments"],
                            persons=found[pk]["persons"],
                            self_paid=round_cent(found[pk]["self_paid"]),
                            subsidy=round_cent(found[pk]["subsidy"]))
            for pk, py in by_pk.items() if pk in found]


def _subsidy_rows(plan_years, key_expr, label_of) -> list[SubsidyRow]:
    by_pk = {py.pk: py for py in plan_years}
    rows = (_payments(plan_years).filter(subsidy__gt=0).annotate(group_key=key_expr)
            .values("enrollment__plan_year", "group_key")
            .annotate(payments=Count("id"), amount=Sum("subsidy")).order_by())
    totals: dict[int, Decimal] = {}
    grouped: dict[int, list] = {}
    for row in rows:
        pk = row["enrollment__plan_year"]
        amount = round_cent(row["amount"])
        totals[pk] = totals.get(pk, ZERO) + amount
        grouped.setdefault(pk, []).append((row["group_key"], row["payments"], amount))
    result = []
    for pk, py in by_pk.items():
        for key, payments, amount in sorted(grouped.get(pk, []),
                                            key=lambda r: (-r[2], str(r[0] or ""))):
            result.append(SubsidyRow(plan_year=py, key=str(key or ""), label=label_of(key),
                                     payments=payments, amount=amount,
                                     share=percent(amount, totals[pk])))
    return result


def subsidy_by_payer(plan_years) -> list[SubsidyRow]:
    """资助 by payer (财政资助 / 慈善捐赠 / 单位缴纳: ``Payment.subsidy_payer``)."""
    labels = dict(Payment.SubsidyPayer.choices)
    return _subsidy_rows(plan_years, F("subsidy_payer"),
                         lambda key: labels.get(key, key or "未填写资助方"))


def subsidy_by_department(plan_years) -> list[SubsidyRow]:
    """资助 by certifying department: the department recorded on the person's identity
    valid on the payment date (``PersonIdentity.department``), else the identity's
    default department (``Identity.department``); no identity → “未指定资助身份”."""
    recorded = (PersonIdentity.objects
                .filter(person=OuterRef("enrollment__person"), identity=OuterRef("subsidy_identity"),
                        valid_from__lte=OuterRef("paid_date"))
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("paid_date")))
                .exclude(department="").order_by("-valid_from").values("department")[:1])
    key = Coalesce(Subquery(recorded), F("subsidy_identity__department"))
    labels = dict(codes.Department.choices)
    return _subsidy_rows(plan_years, key, lambda k: labels.get(k, k) if k else "未指定资助身份")


def subsidy_by_identity(plan_years) -> list[SubsidyRow]:
    """资助 by the identity the subsidy was granted for (``Payment.subsidy_identity``)."""
    names = {str(code): name for code, name in Identity.objects.values_list("code", "name")}
    return _subsidy_rows(plan_years, F("subsidy_identity__code"),
                         lambda k: names.get(k, k) if k else "未指定资助身份")
