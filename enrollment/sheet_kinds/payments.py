"""Sheet kind ``payments`` (缴费名单: one row = one payment that pays the enrollment off, creating
the enrollment if needed). Spec README §2 (receipt number unique per scheme, re-importing never
double counts), §6. A row is decided by ``insurance_rules.enrollment.payment.check_payment``
(enrollment open, date order, eligibility, payer, window, due, subsidy, coverage, the
stated amounts) — the check ``services.payment_record`` uses — fed with facts loaded in
bulk per chunk; the receipt refusal is its ``duplicate_receipt``."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Max, Q, Sum
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from enrollment import documents, selectors
from enrollment.models import Enrollment, Payment, Person, PersonIdentity, PreExistingDeclaration
from enrollment.services.visibility import person_regions_add
from enrollment.sheet_kinds.columns import (
    CHANNELS,
    DOCUMENT_TYPES,
    ID_ALIASES,
    RELATIONS,
    SCHEME_KINDS,
    SUBSIDY_PAYERS,
    TIERS,
    ZERO,
    document_number_cell,
    person_key,
)
from insurance_rules.enrollment.payment import (
    PaidSoFar,
    RecordedPayment,
    Stated,
    check_payment,
    duplicate_receipt,
    enrollment_closed,
)
from insurance_rules.enrollment.vocab import BASIC_KINDS, TIER_NAMES
from insurance_rules.errors import CaseError
from insurance_rules.facts import HeldIdentity, PersonFacts
from ledger import services as ledger
from policies import codes
from policies import models as pm
from policies.dashboard import dashboard_figures_changed
from policies.lookups import RegionLookup
from policies.masking import mask_for_user_or_system, masked_id, masked_name
from sheets.bulk_sql import InArray, insert_history_stored, insert_values, keys_match, values_rows
from sheets.parsing import number_text, parse_bool, parse_date, parse_decimal, parse_int, text
from sheets.registry import Column, SheetKind, register

# --------------------------------------------------------------------------- payments


class _PersonFacts:
    """What the payment checks read of a registered person (no model instance per row);
    ``hukou_region``/``residence_region`` are the region lookup's objects (``regions``),
    looked up when read (only for a row whose decision is not remembered)."""

    FIELDS = ("id", "document_type", "document_number", "name", "birth_date", "category", "resettled",
              "hukou_region_id", "residence_region_id", "long_term_resident", "hk_macao_taiwan",
              "basic_insured_in_province")
    __slots__ = (*FIELDS, "regions")

    @property
    def hukou_region(self):
        return self.regions.get(self.hukou_region_id)

    @property
    def residence_region(self):
        return self.regions.get(self.residence_region_id)

    def __init__(self, id, document_type, document_number, name, birth_date, category, resettled,  # noqa: A002
                 hukou_region_id, residence_region_id, long_term_resident, hk_macao_taiwan,
                 basic_insured_in_province):
        self.id, self.document_type, self.document_number, self.name = id, document_type, document_number, name
        self.birth_date, self.category, self.resettled = birth_date, category, resettled
        self.hukou_region_id, self.residence_region_id = hukou_region_id, residence_region_id
        self.long_term_resident, self.hk_macao_taiwan = long_term_resident, hk_macao_taiwan
        self.basic_insured_in_province = basic_insured_in_province

    @property
    def pk(self):
        return self.id


_NOTHING_PAID = PaidSoFar()

COLUMN_OF = {"person": "document_number", "payer": "channel", "plan": "scheme", "tier": "paid_date",
             "enrollment": "scheme"}
"""The sheet's column of a refusal of ``check_payment`` (by its field), where they differ."""


@dataclass
class _Plan:
    plan_year: pm.PlanYear | None
    plan: object = None
    error: tuple[str, str] | None = None  # (column key, message)


def _window_name(payment, resource) -> str:
    """The exported 缴费期: the window's name (e.g. 集中缴费期), not its code."""
    if not payment.window_code:
        return ""
    key = (payment.enrollment.plan_year_id, payment.window_code)
    return resource.memo(key, lambda: selectors.window_name(*key))


def _ledger_source(match: str) -> str:
    """The SELECT of the stored payments whose key ``match``es (``keys_match``) that
    ``ledger.contributions_write_select`` books: the values ``write`` passes to
    ``contributions_write`` elsewhere — the fund (scheme and its region), the plan
    year's year and the person of the payment's enrollment."""
    q = connection.ops.quote_name
    p, e = q(Payment._meta.db_table), q(Enrollment._meta.db_table)
    py, s = q(pm.PlanYear._meta.db_table), q(pm.Scheme._meta.db_table)
    # each payment's enrollment by its key (a nested loop on the primary key, kept from
    # being flattened by OFFSET 0): during a large import the enrollments' statistics are
    # those of the table before it, and a join would scan the table once per chunk
    return (f"SELECT p.id AS payment_id, p.scheme_id, s.region_id, py.year, e.person_id, p.self_paid, "
            f"p.subsidy, p.paid_date, p.receipt_no FROM {p} p CROSS JOIN LATERAL (SELECT person_id, "
            f"plan_year_id FROM {e} WHERE id = p.enrollment_id OFFSET 0) e "
            f"JOIN {py} py ON py.id = e.plan_year_id JOIN {s} s ON s.id = p.scheme_id WHERE p.id {match}")


@register
class PaymentSheet(SheetKind):
    """缴费名单: one row = one payment that pays an enrollment off (应缴金额 = 此前已缴 +
    资助金额 + 个人缴费); key = (险种, 票据/流水号). The enrollment of the person in the plan
    year is created when missing (eligibility checked). A receipt already recorded with
    the same person, date and amounts is unchanged (re-import); with anything else it is
    a duplicate."""

    name = "payments"
    model = Payment
    writes = ("enrollment.Enrollment", "enrollment.Payment")
    label = "缴费"
    import_permission = "enrollment.import_payment"
    one_pass = True  # receipts, paid enrollments and basic coverage of the file: ctx.state first

    def __init__(self):
        self.regions = RegionLookup()
        self.columns = [
            Column("document_type", "证件类型", DOCUMENT_TYPES, default=documents.ID_CARD,
                   description="空 = 居民身份证", attribute="enrollment__person__document_type"),
            Column("document_number", "证件号码", document_number_cell, required=True,
                   aliases=ID_ALIASES, description="须为已登记的参保人",
                   attribute="enrollment__person__document_number", mask=masked_id),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致",
                   attribute="enrollment__person__name", mask=masked_name),
            Column("region", "统筹区", self.regions, required=True,
                   description="行政区划代码或名称，如 500231 或 垫江县", attribute="scheme__region"),
            Column("scheme", "险种", text, required=True, aliases=("险种类别", "险种名称"),
                   description=f"险种类别代码或名称，或险种名称：{SCHEME_KINDS.describe()}",
                   attribute="scheme__kind", render=SCHEME_KINDS.label),
            Column("year", "年度", parse_int, required=True, aliases=("参保年度", "缴费年度"),
                   attribute="enrollment__plan_year__year"),
            Column("tier", "档次", TIERS, description="分档缴费的险种必填：一档/二档（或 1/2）",
                   attribute="enrollment__tier"),
            Column("paid_date", "缴费日期", parse_date, required=True,
                   description="2024-03-01、2024/3/1、2024年3月1日、20240301"),
            Column("amount_due", "应缴金额", parse_decimal, required=True,
                   aliases=("应缴金额（元）",), description="元，两位小数；须与缴费标准一致"),
            Column("subsidy", "资助金额", parse_decimal, default=ZERO, aliases=("资助金额（元）",),
                   description="元；须与资助标准（就高不就低）一致，空 = 0"),
            Column("self_paid", "个人缴费", parse_decimal, required=True,
                   aliases=("个人缴费（元）", "个人缴费金额"), description="元；应缴金额 = 资助金额 + 个人缴费"),
            Column("channel", "缴费渠道", CHANNELS, required=True, description=CHANNELS.describe()),
            Column("subsidy_payer", "资助方", SUBSIDY_PAYERS, default="",
                   description="有资助金额时：财政资助/慈善捐赠/单位缴纳，空 = 财政资助"),
            Column("payer_name", "缴费人", text, default=""),
            Column("relation_to_payer", "参保人与缴费人的关系", RELATIONS,
                   description=f"空 = 本人。{RELATIONS.describe()}"),
            Column("receipt_no", "票据/流水号", lambda v: number_text(v, "票据/流水号"),
                   required=True, aliases=("票据号", "流水号", "票据号码", "票据/流水号码"),
                   description="同一险种内唯一；重复导入同一笔缴费不会重复计数"),
            Column("basic_confirmed", "已核实参加本统筹区基本医保", parse_bool, default=False,
                   description="基本医保不在本系统登记时填“是”（补充/商业保险要求参加本统筹区基本医保）",
                   attribute="enrollment__basic_confirmed"),
            Column("subsidy_identity", "资助身份", export_only=True, attribute="subsidy_identity__name"),
            Column("window_code", "缴费期", export_only=True, export=_window_name),
            Column("coverage_start", "待遇起始日", export_only=True, attribute="enrollment__coverage_start"),
            Column("coverage_end", "待遇终止日", export_only=True, attribute="enrollment__coverage_end"),
            Column("status", "参保状态", export_only=True, attribute="enrollment__status",
                   render=lambda status: Enrollment.Status(status).label),
            Column("created_at", "录入时间", export_only=True),
        ]

    # ------------------------------------------------------------------ state

    def start(self, ctx):
        ctx.state.update(
            receipts=defaultdict(dict),  # scheme id → receipt → row number
            paid=dict(),  # (person id, plan year id) → row number that paid it off
            basic=dict(),  # (person id, year) → [(kind, region id, start, end)] paid in the file
            enrolled=dict(),  # (person id, scheme id, year) → (continuous years, start) paid in the file
            schemes={s.pk: s for s in pm.Scheme.objects.select_related("region")},
            plans={},  # (scheme id, year) → _Plan
            scheme_of={},  # (region id, value type, value) → Scheme or error message
            plan_years={},  # plan year id → (year, scheme id, kind, region id)
            identities={i.code: i for i in pm.Identity.objects.all()},
            identity_names=selectors.identity_names(),
        )
        ctx.state["decisions"] = {}  # ``check_payment``'s decisions by the row's plain inputs
        ctx.state["per_plan"] = {}  # (scheme id, plan year id) → (region, pooling region, subject)

    DECISIONS_KEPT = 4096
    """Decisions of ``check_payment`` kept per import (the oldest dropped), by every input
    of the decision as plain values (``_check_row``): it is pure (no Django, no clock, no
    state; facts, amounts and plan in, a frozen decision out), and the rows of one file often
    share them all — same plan year, tier, date, amounts, person facts. Bounded, so memory
    does not grow with the file."""

    def _plan_year_info(self, ctx, plan_year_id) -> tuple:
        """(year, scheme id, scheme kind, scheme region id) of a plan year (all loaded
        once; again when one was added since)."""
        info = ctx.state["plan_years"]
        if plan_year_id not in info:
            info.update({py.pk: (py.year, py.scheme_id, py.scheme.kind, py.scheme.region_id)
                         for py in pm.PlanYear.objects.select_related("scheme")})
        return info[plan_year_id]

    def _scheme(self, ctx, region, value):
        """The scheme of the region named by ``value`` (kind code/name or scheme name), or
        the error message; remembered per (region, value) for the pass."""
        key = (region.pk, type(value), value)
        found = ctx.state["scheme_of"].get(key)
        if found is None:
            found = ctx.state["scheme_of"][key] = self._find_scheme(ctx, region, value)
        return found

    def _find_scheme(self, ctx, region, value):
        schemes = [s for s in ctx.state["schemes"].values() if s.region_id == region.pk]
        try:
            kind = SCHEME_KINDS(value)
        except Exception:
            kind = None
        for scheme in schemes:
            if scheme.kind == kind or scheme.name == text(value):
                return scheme
        names = "、".join(f"{s.name}（{s.kind}）" for s in schemes) or "无"
        return f"{region.name}没有险种“{text(value)}”；该统筹区的险种：{names}"

    def _plan(self, ctx, scheme, year) -> _Plan:
        key = (scheme.pk, year)
        plans = ctx.state["plans"]
        if key not in plans:
            try:
                plan_year = selectors.plan_year_of(scheme, year)
            except CaseError as exc:
                plans[key] = _Plan(None, error=("year", exc.message))
            else:
                if plan_year.status == pm.PlanYear.Status.CLOSED:
                    plans[key] = _Plan(plan_year, error=(
                        "year", f"年度方案“{plan_year}”已关闭，不能再登记缴费"))
                else:
                    plans[key] = _Plan(plan_year, selectors.contribution_plan(plan_year))
        return plans[key]

    # ------------------------------------------------------------------ check

    def check(self, rows, ctx):
        all_receipts = ctx.state["receipts"]
        work = []  # (row, scheme, plan)
        for row in rows:
            rv = row.values.get  # = row[key]
            region = rv("region")
            if not ctx.in_scope(region.id):
                ctx.error(row, "region", f"统筹区“{region}”不属于您负责的统筹区", value="")
                continue
            scheme = self._scheme(ctx, region, rv("scheme"))
            if isinstance(scheme, str):
                ctx.error(row, "scheme", scheme)
                continue
            receipts = all_receipts[scheme.id]
            receipt = rv("receipt_no")
            if receipt in receipts:
                ctx.error(row, "receipt_no", f"票据/流水号与第 {receipts[receipt]} 行重复（同一险种内不能重复）")
                continue
            receipts[receipt] = row.number
            plan = self._plan(ctx, scheme, rv("year"))
            if plan.error:
                ctx.error(row, plan.error[0], plan.error[1])
                continue
            work.append((row, scheme, plan))
        if not work:
            return []
        data = self._load(ctx, work)
        planned = []
        for row, scheme, plan in work:
            result = self._check_row(ctx, data, row, scheme, plan)
            if result is not None:
                planned.append(result)
        return planned

    def _load(self, ctx, work) -> dict:
        """Everything the rows of a chunk need, in a fixed number of queries."""
        numbers = {row.values.get("document_number") for row, _s, _p in work}
        persons = {}
        # the reads of a chunk by ``values_rows``: the same tuples, fetched at once
        for values in values_rows(Person.objects.filter(InArray(F("document_number"), numbers)).order_by().values_list(
                *_PersonFacts.FIELDS)):
            person = _PersonFacts(*values)
            person.regions = self.regions
            persons[(person.document_type, person.document_number)] = person
        person_ids = [p.pk for p in persons.values()]
        plan_year_ids = {p.plan_year.id for _r, _s, p in work}
        years = {p.plan_year.year for _r, _s, p in work}
        identities = defaultdict(list)
        for pid, code, start, end in values_rows(PersonIdentity.objects.filter(
                InArray(F("person_id"), person_ids)).order_by().values_list(
                "person_id", "identity__code", "valid_from", "valid_to")):
            identities[pid].append(HeldIdentity(code, start, end))
        # One query for the persons' enrollments (by person only: the person index, no
        # join, no ordering — whatever the table statistics say during a large import):
        # the basic coverage (this year), the previous year (continuity) and which
        # enrollments of the plan years exist (loaded whole only then).
        basics = defaultdict(list)  # (person, year) → [(kind, region id, start, end)]
        previous = {}  # (person, scheme, year) → (continuous years, coverage start)
        current = []
        for pid, plan_year_id, status, cy, start, end in values_rows(Enrollment.objects.filter(
                InArray(F("person_id"), person_ids)).order_by().values_list(
                "person_id", "plan_year_id", "status", "continuous_years", "coverage_start", "coverage_end")):
            year, scheme_id, kind, region_id = self._plan_year_info(ctx, plan_year_id)
            if year in years and kind in BASIC_KINDS and status != Enrollment.Status.TERMINATED:
                basics[(pid, year)].append((kind, region_id, start, end))
            if year + 1 in years:
                previous[(pid, scheme_id, year)] = (cy, start)
            if plan_year_id in plan_year_ids:
                current.append(pid)
        enrollments, totals, pre_existing = {}, {}, defaultdict(list)
        if current:
            enrollments = {(e.person_id, e.plan_year_id): e for e in Enrollment.objects.filter(
                InArray(F("person_id"), current), plan_year_id__in=plan_year_ids).order_by()}
            enrollment_ids = [e.pk for e in enrollments.values()]
            totals = {r["enrollment_id"]: r for r in Payment.objects.filter(
                InArray(F("enrollment_id"), enrollment_ids)).order_by().values("enrollment_id").annotate(
                subsidy=Sum("subsidy"), self_paid=Sum("self_paid"), last=Max("paid_date"))}
            for eid, group in PreExistingDeclaration.objects.filter(
                    InArray(F("enrollment_id"), enrollment_ids)).order_by().values_list("enrollment_id", "group"):
                pre_existing[eid].append(group)
        receipts = defaultdict(set)
        for row, scheme, _p in work:
            receipts[scheme.id].add(row.values.get("receipt_no"))
        q = Q(pk__in=[])
        for scheme_id, values in receipts.items():
            q |= Q(InArray(F("receipt_no"), list(values)), scheme_id=scheme_id)
        recorded = {(p["scheme_id"], p["receipt_no"]): p for p in Payment.objects.filter(q).order_by().values(
            "scheme_id", "receipt_no", "paid_date", "amount_due", "subsidy", "self_paid",
            "enrollment__person_id", "enrollment__person__name", "enrollment__plan_year_id")}
        return dict(persons=persons, identities=identities, enrollments=enrollments, totals=totals,
                    pre_existing=pre_existing, basics=basics, previous=previous, recorded=recorded)

    def _basic(self, ctx, data, person, pooling_id, year):
        """(holds employee_basic anywhere, basic in the pooling region: (start, end) or None)."""
        key = (person.id, year)
        found, paid = data["basics"].get(key), ctx.state["basic"].get(key)
        if not found and not paid:  # the usual case: no basic enrollment that year
            return False, None
        rows = [*(found or ()), *(paid or ())]
        holds_employee = any(kind == "employee_basic" for kind, *_ in rows)
        local = [(start, end) for kind, region_id, start, end in rows
                 if self.regions.pooling_id(region_id) == pooling_id]
        local.sort(key=lambda r: r[0] is None)
        return holds_employee, (local[0] if local else None)

    def _check_row(self, ctx, data, row, scheme, plan_info):
        plan_year = plan_info.plan_year
        rv = row.values.get  # = row[key]
        # ids and relations read once (``.pk`` and a foreign key's descriptor cost a call each)
        scheme_id, plan_year_id = scheme.id, plan_year.id
        state = ctx.state
        # the scheme's region, its pooling region and the refusals' subject, once per plan
        per_plan = state["per_plan"].get((scheme_id, plan_year_id))
        if per_plan is None:
            scheme_region = scheme.region
            per_plan = state["per_plan"][(scheme_id, plan_year_id)] = (
                scheme_region, scheme_region.pooling_region, f"该参保人的{scheme.name} {plan_year.year} 年度")
        scheme_region, pooling, subject = per_plan
        person = data["persons"].get(person_key(rv("document_type"), rv("document_number")))
        if person is None:
            ctx.error(row, "document_number", "未登记的参保人，请先导入或登记参保人")
            return None
        if rv("name") and text(rv("name")) != person.name:
            ctx.error(row, "name", f"姓名与证件号码登记的姓名“{mask_for_user_or_system(ctx.user, 'name', person.name)}”不一致")
            return None
        recorded = data["recorded"].get((scheme_id, rv("receipt_no")))
        if recorded is not None:
            same = (recorded["enrollment__person_id"] == person.id
                    and recorded["enrollment__plan_year_id"] == plan_year_id
                    and recorded["paid_date"] == rv("paid_date")
                    and recorded["amount_due"] == rv("amount_due")
                    and recorded["subsidy"] == rv("subsidy")
                    and recorded["self_paid"] == rv("self_paid"))
            if same:
                ctx.count("unchanged")
                return None
            ctx.error(row, "receipt_no", duplicate_receipt(RecordedPayment(
                rv("receipt_no"), mask_for_user_or_system(ctx.user, "name", recorded["enrollment__person__name"]),
                recorded["paid_date"],
                recorded["amount_due"]), f"{scheme_region.name}{scheme.name}").message)
            return None
        key = (person.id, plan_year_id)
        year = plan_year.year
        paid_rows = state["paid"]
        if key in paid_rows:
            ctx.error(row, "receipt_no", f"{subject}已在第 {paid_rows[key]} 行缴清，不能重复缴费")
            return None
        enrollment = data["enrollments"].get(key)
        tier = rv("tier")
        errors = 0
        if enrollment is not None:
            refusal = enrollment_closed(PaidSoFar(
                paid_off_date=enrollment.paid_off_date,
                terminated=enrollment.status == Enrollment.Status.TERMINATED), subject)
            if refusal is not None:
                ctx.error(row, "scheme", refusal.message, value=None if refusal.code == "already_paid" else "")
                return None
            if tier is not None and tier != enrollment.tier:
                ctx.error(row, "tier", f"档次与已登记的参保登记（{TIER_NAMES.get(enrollment.tier)}）不一致")
                errors += 1
            tier = enrollment.tier
        else:
            tier = tier or 0
        if scheme.has_tiers and tier == 0:
            ctx.error(row, "tier", f"{scheme.name}分档缴费，请填写档次（一档或二档）")
            return None
        if not scheme.has_tiers and tier != 0:
            ctx.error(row, "tier", f"{scheme.name}不分档，档次应为空或“不分档”")
            return None
        pooling_id = pooling.id
        holds_employee, basic = self._basic(ctx, data, person, pooling_id, year)
        basic_insured = bool(rv("basic_confirmed") or (enrollment and enrollment.basic_confirmed)
                             or basic is not None)
        identities = tuple(data["identities"].get(person.id, ()))
        pre_existing = tuple(data["pre_existing"].get(enrollment.pk, ())) if enrollment else ()
        continuous_years = enrollment.continuous_years if enrollment else 0
        total = data["totals"].get(enrollment.pk) if enrollment else None
        due, subsidy, self_paid = rv("amount_due"), rv("subsidy"), rv("self_paid")
        relation = rv("relation_to_payer") or codes.Relation.SELF
        # every input of the decision as plain values: a row like one before (same plan,
        # person facts, amounts …) takes its decision without building the facts again
        inputs = (
            scheme_id, rv("year"), pooling_id, person.birth_date, person.category, identities,
            pre_existing, continuous_years, person.resettled, basic_insured, person.hukou_region_id,
            person.residence_region_id, bool(person.long_term_resident), bool(person.hk_macao_taiwan),
            bool(person.basic_insured_in_province),
            (total["subsidy"], total["self_paid"], total["last"]) if total else None,
            rv("paid_date"), tier or None, rv("channel"), relation, holds_employee, basic, due, subsidy,
            self_paid)
        decisions = state["decisions"]
        decision = decisions.get(inputs)
        if decision is None:
            facts = PersonFacts(
                birth_date=person.birth_date, category=person.category, identities=identities,
                pre_existing=pre_existing, continuous_years=continuous_years,
                resettled=person.resettled, basic_insured_in_region=basic_insured,
                **selectors.admission_facts(person, pooling))
            local = selectors.person_is_local(person, pooling)
            decision = check_payment(
                plan_info.plan, facts,
                paid=PaidSoFar(subsidy=total["subsidy"], self_paid=total["self_paid"],
                               last_paid_date=total["last"]) if total else _NOTHING_PAID,
                paid_date=rv("paid_date"), tier=tier or None, channel=rv("channel"), relation=relation,
                holds_employee_basic=holds_employee, local=local,
                basic_start=basic[0] if basic else None, basic_end=basic[1] if basic else None,
                stated=Stated(due, subsidy, self_paid), subject=subject,
                identity_names=state["identity_names"])
            if len(decisions) >= self.DECISIONS_KEPT:
                del decisions[next(iter(decisions))]  # the oldest
            decisions[inputs] = decision
        # A refusal of the rules stops the row (only it is reported); the others are all listed.
        for refusal in decision.refusals[-1:] if decision.blocked else decision.refusals:
            ctx.error(row, COLUMN_OF.get(refusal.field, refusal.field), refusal.message)
            errors += 1
        if errors:
            return None
        result = decision.quote
        paid_rows[key] = row.number
        if scheme.kind in BASIC_KINDS:
            state["basic"].setdefault((person.id, year), []).append(
                (scheme.kind, scheme.region_id, result.coverage_start, result.coverage_end))
        created = enrollment is None
        enrolled = state["enrolled"]  # the file's own rows, whether or not written yet
        if created:
            prev = (enrolled.get((person.id, scheme_id, year - 1))
                    or data["previous"].get((person.id, scheme_id, year - 1)))
            enrollment = dict(
                person_id=person.id, plan_year_id=plan_year_id, category=person.category, tier=tier,
                continuous_years=(prev[0] + 1) if prev and prev[1] else 1,
                basic_confirmed=bool(rv("basic_confirmed")),
                coverage_start=result.coverage_start, coverage_end=result.coverage_end,
                paid_off_date=rv("paid_date"), window_code=result.window.code)
            enrolled[(person.id, scheme_id, year)] = (enrollment["continuous_years"],
                                                                 result.coverage_start)
        else:
            if rv("basic_confirmed"):
                enrollment.basic_confirmed = True
            enrollment.coverage_start = result.coverage_start
            enrollment.coverage_end = result.coverage_end
            enrollment.paid_off_date = rv("paid_date")
            enrollment.window_code = result.window.code
            enrolled[(person.id, scheme_id, year)] = (enrollment.continuous_years,
                                                                 result.coverage_start)
        identity = None
        if subsidy > 0 and result.subsidy_identity:
            identity = state["identities"].get(result.subsidy_identity)
        payment = dict(
            scheme_id=scheme_id, amount_due=due, subsidy=subsidy,
            subsidy_identity_id=identity.pk if identity is not None else None,
            subsidy_payer=(rv("subsidy_payer") or Payment.SubsidyPayer.GOVERNMENT) if subsidy else "",
            self_paid=self_paid, paid_date=rv("paid_date"), channel=rv("channel"),
            payer_name=rv("payer_name"), relation_to_payer=relation,
            receipt_no=rv("receipt_no"), window_code=result.window.code, completes=True)
        payment["_ledger"] = (scheme.region_id, year, person.id)  # 缴费到账 (write)
        ctx.count("created")
        return (created, enrollment, payment)

    def write(self, planned, ctx):
        """New enrollments and the payments (with their history rows) by prepared
        INSERTs (``sheets.bulk_sql``); enrollments that existed are updated with
        ``bulk_update_with_history``."""
        now = timezone.now()
        new = [e for created, e, _p in planned if created]
        old = [e for created, e, _p in planned if not created]
        if new:
            ids = insert_values(Enrollment, new, now=now)
            insert_history_stored(Enrollment, ids, user=ctx.user, reason=None, when=now, created=True)
            person_regions_add(person_ids={e["person_id"] for e in new})  # visibility rows
        if old:
            bulk_update_with_history(old, Enrollment, fields=[
                "coverage_start", "coverage_end", "paid_off_date", "window_code", "basic_confirmed"],
                batch_size=1000, default_user=ctx.user)
        payments = []
        for created, enrollment, payment in planned:
            payment["enrollment_id"] = enrollment["id"] if created else enrollment.pk
            payments.append(payment)
        payment_ids = insert_values(Payment, payments, now=now)
        for region_id, year in {p["_ledger"][:2] for p in payments}:  # 缴费收入, 参保率
            dashboard_figures_changed(region_id=region_id, year=year)
        insert_history_stored(Payment, payment_ids, user=ctx.user, reason=None, when=now, created=True)
        if connection.vendor == "postgresql":  # 缴费到账 booked by the database from the payments
            if not payment_ids:
                return
            match, params = keys_match(payment_ids)
            ledger.contributions_write_select(_ledger_source(match), params, acting_user=ctx.user)
            return
        ledger.contributions_write(({  # 缴费到账, as postings.contribution books each
            "payment_id": p["id"], "scheme_id": p["scheme_id"], "region_id": p["_ledger"][0],
            "year": p["_ledger"][1], "person_id": p["_ledger"][2], "self_paid": p["self_paid"],
            "subsidy": p["subsidy"], "paid_date": p["paid_date"], "receipt_no": p["receipt_no"]}
            for p in payments), acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        qs = self.regions.exported(Payment.objects.all(), user, "scheme__region", region)
        if year is not None:
            qs = qs.filter(enrollment__plan_year__year=year)
        return qs.select_related("enrollment__person", "enrollment__plan_year", "scheme__region",
                                 "subsidy_identity").order_by("pk")
