"""Trial calculation of a claim case (spec trial-calc.md, kind ``claim``).

``claim_case(case, plan_status=...)`` parses the case into engine facts, reads the
region's plan years (``policies.selectors.region_plans``), settles the ``prior``
claims in order (they build the year-to-date figures) and then ``claim``, and answers
``{"id", "ok": true, "layers": [...], "fund_total", "personal"}``. Nothing is written.
Errors are raised as ``CaseError`` subclasses (the command turns them into
``{"ok": false, "error": …}``).

Defaults (trial-calc.md): amounts 0, flags false except ``filed`` (true); ``compliant``
defaults to ``total − out_of_catalog − class_b_copay`` and when given must equal it;
coverage ``from``/``to`` default to the whole plan year; ``participation_rate`` is a
fraction (0.25) and is converted to percent here, once.
When a claim gives ``class_b_items`` but no ``class_b_copay``, the copay is derived with
the plan year's ``class_b_copay_rate`` figure (长治: 5 %), before ``compliant``. The amounts
are checked by ``insurance_rules.claim_amounts`` (the service's checks), the message
prefixed with the case's field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from insurance_rules.claim_amounts import (
    InvalidAmounts,
    check_claim_amounts,
    class_b_copay_of,
    compliant_of,
)
from insurance_rules.errors import InvalidInput, UnknownCode
from insurance_rules.facts import ClaimFacts, Coverage, GivenLayer, Hospital, Period
from insurance_rules.money import HUNDRED, ZERO, fmt
from insurance_rules.params import PlanParams
from insurance_rules.parse import parse_amount, parse_bool, parse_date, parse_int, parse_person
from insurance_rules.results import ItemResult, LayerResult, SettledClaim
from insurance_rules.settle import settle_claim
from policies import codes, selectors

AMOUNTS = ("out_of_catalog", "tcm_compliant", "special_drug", "drug_class_a", "drug_class_b",
           "out_of_catalog_controlled")
HOSPITAL_REQUIRED = ("inpatient", "outpatient")


@dataclass
class TrialCache:
    """Reads shared by the cases of one run (plan years, catalogues, identities)."""

    plan_status: str = "active"
    plans: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    diseases: dict = field(default_factory=dict)
    identities: frozenset | None = None

    def region_plans(self, region_code: str, year: int) -> dict[str, PlanParams | None]:
        key = (region_code, year)
        if key not in self.plans:
            self.plans[key] = selectors.region_plans(region_code=region_code, year=year,
                                                     plan_status=self.plan_status)
        return self.plans[key]

    def scheme_names(self, region_code: str) -> dict[str, str]:
        if region_code not in self.names:
            self.names[region_code] = selectors.scheme_names(region_code)
        return self.names[region_code]

    def disease_codes(self, region) -> frozenset[str]:
        if region.code not in self.diseases:
            self.diseases[region.code] = selectors.disease_codes(region)
        return self.diseases[region.code]

    def identity_codes(self) -> frozenset[str]:
        if self.identities is None:
            self.identities = selectors.identity_codes()
        return self.identities


# --------------------------------------------------------------------------- parsing


def _choice(value, field: str, allowed, what: str, *, required: bool = False):
    if value is None or value == "":
        if required:
            raise InvalidInput(f"缺少字段“{field}”（{what}）")
        return None
    if not isinstance(value, str) or value not in allowed:
        raise UnknownCode(f"未知的{what}“{field}”：{value}")
    return value


def parse_hospital(data, field: str) -> Hospital:
    if not isinstance(data, dict):
        raise InvalidInput(f"字段“{field}”必须是医疗机构信息对象（level、grade、location 等）")
    level = data.get("level")
    if isinstance(level, bool) or level not in codes.HospitalLevel.values:
        raise InvalidInput(f"字段“{field}.level”必须是医院级别 1、2 或 3")
    return Hospital(
        level=level,
        grade=_choice(data.get("grade"), f"{field}.grade", codes.HospitalGrade.values, "医院等次") or "-",
        admin_level=_choice(data.get("admin_level"), f"{field}.admin_level", codes.AdminLevel.values,
                            "医院行政级别") or "county",
        location=_choice(data.get("location"), f"{field}.location", codes.Location.values,
                         "就医地") or "in_region",
        tcm=parse_bool(data.get("tcm"), f"{field}.tcm"),
        children=parse_bool(data.get("children"), f"{field}.children"),
        public=parse_bool(data.get("public"), f"{field}.public", default=True),
        cdrg=parse_bool(data.get("cdrg"), f"{field}.cdrg", default=True),
    )


def _given(data, field: str, region_kinds) -> dict[str, GivenLayer]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(f"字段“{field}”必须是以险种类别为键的对象")
    out = {}
    for kind, layer in data.items():
        _choice(kind, f"{field}.{kind}", codes.SchemeKind.values, "险种类别")
        if kind not in region_kinds:
            raise UnknownCode(f"未知的险种“{field}.{kind}”：本统筹区没有此险种")
        if not isinstance(layer, dict) or "paid" not in layer:
            raise InvalidInput(f"字段“{field}.{kind}”必须包含本层支付金额 paid")
        out[kind] = GivenLayer(
            paid=parse_amount(layer.get("paid"), f"{field}.{kind}.paid"),
            deductible=parse_amount(layer.get("deductible"), f"{field}.{kind}.deductible"),
            over_cap=parse_amount(layer.get("over_cap"), f"{field}.{kind}.over_cap"),
        )
    return out


def _class_b_copay_rate(plans: dict[str, PlanParams | None]) -> Decimal | None:
    for plan in plans.values():
        if plan is not None and plan.figure("class_b_copay_rate") is not None:
            return plan.figure("class_b_copay_rate").value
    return None


def parse_claim(data, field: str, *, plans: dict[str, PlanParams | None], diseases: frozenset[str],
                year: int | None = None) -> ClaimFacts:
    """A ``<claim>`` object of the case (``field`` names it in messages)."""
    if not isinstance(data, dict):
        raise InvalidInput(f"缺少字段“{field}”（理赔信息对象）")
    ctype = _choice(data.get("type"), f"{field}.type", codes.ClaimType.values, "就医类型", required=True)
    day = parse_date(data.get("date"), f"{field}.date")
    if year is not None and day.year != year:
        raise InvalidInput(f"字段“{field}.date”：{day} 与本次理赔不在同一年度（{year} 年）")
    if "total" not in data or data.get("total") in (None, ""):
        raise InvalidInput(f"缺少字段“{field}.total”（医疗总费用）")
    total = parse_amount(data.get("total"), f"{field}.total")
    if data.get("hospital") is None:
        if ctype in HOSPITAL_REQUIRED:
            raise InvalidInput(f"缺少字段“{field}.hospital”（{codes.ClaimType(ctype).label}理赔须填写医疗机构）")
        hospital = None
    else:
        hospital = parse_hospital(data.get("hospital"), f"{field}.hospital")
    amounts = {name: parse_amount(data.get(name), f"{field}.{name}") for name in AMOUNTS}
    class_b_items = None
    if data.get("class_b_items") is not None:
        class_b_items = parse_amount(data.get("class_b_items"), f"{field}.class_b_items")
    if data.get("class_b_copay") is not None:
        class_b_copay = parse_amount(data.get("class_b_copay"), f"{field}.class_b_copay")
    elif class_b_items is not None and _class_b_copay_rate(plans) is not None:
        class_b_copay = class_b_copay_of(class_b_items, _class_b_copay_rate(plans))
    else:
        class_b_copay = ZERO
    given = None  # parsed once the parts are known to fit the total (that refusal comes first)
    if (data.get("compliant") is not None
            and compliant_of(total, amounts["out_of_catalog"], class_b_copay) >= 0):
        given = parse_amount(data.get("compliant"), f"{field}.compliant")
    try:
        checked = check_claim_amounts(total=total, class_b_copay=class_b_copay, compliant=given,
                                      class_b_items=class_b_items, places=None, **amounts)
    except InvalidAmounts as exc:
        where = {"out_of_catalog": field, "drug_class_b": f"{field}.drug_class_a/drug_class_b"}.get(
            exc.field, f"{field}.{exc.field}")
        raise InvalidInput(f"字段“{where}”：{exc.message}") from exc
    compliant = checked.compliant
    disease = data.get("disease")
    if disease is not None and (not isinstance(disease, str) or disease not in diseases):
        raise UnknownCode(f"未知的病种代码“{field}.disease”：{disease}")
    drug_list = data.get("drug_list")
    if drug_list is not None and not isinstance(drug_list, str):
        raise InvalidInput(f"字段“{field}.drug_list”必须是药品目录代码")
    return ClaimFacts(
        type=ctype, date=day, total=total, hospital=hospital,
        out_of_catalog=amounts["out_of_catalog"], class_b_copay=class_b_copay, compliant=compliant,
        tcm_compliant=amounts["tcm_compliant"], special_drug=amounts["special_drug"],
        filed=parse_bool(data.get("filed"), f"{field}.filed", default=True),
        major_disease=_choice(data.get("major_disease"), f"{field}.major_disease",
                              codes.MajorDisease.values, "三类大病"),
        disease=disease,
        special_b=parse_bool(data.get("special_b"), f"{field}.special_b"),
        drug_class_a=amounts["drug_class_a"], drug_class_b=amounts["drug_class_b"],
        class_b_items=class_b_items,
        delivery_mode=_choice(data.get("delivery_mode"), f"{field}.delivery_mode",
                              codes.DeliveryMode.values, "分娩方式"),
        drug_list=drug_list or None,
        drug_class=_choice(data.get("drug_class"), f"{field}.drug_class", codes.DrugClass.values, "药品类别"),
        out_of_catalog_controlled=amounts["out_of_catalog_controlled"],
        given=_given(data.get("given"), f"{field}.given", plans),
        ref=field,
    )


def parse_coverages(data, plans: dict[str, PlanParams | None], has_tiers: dict[str, bool],
                    year: int) -> tuple[Coverage, ...]:
    if not isinstance(data, list) or not data:
        raise InvalidInput("缺少字段“coverages”（参保险种列表）")
    out, seen = [], set()
    for i, item in enumerate(data):
        field = f"coverages[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"字段“{field}”必须是对象")
        kind = _choice(item.get("scheme"), f"{field}.scheme", codes.SchemeKind.values, "险种类别",
                       required=True)
        if kind not in plans:
            raise UnknownCode(f"未知的险种“{field}.scheme”：本统筹区没有{codes.SchemeKind(kind).label}")
        if kind in seen:
            raise InvalidInput(f"字段“{field}.scheme”：险种 {kind} 重复")
        seen.add(kind)
        tier = parse_int(item.get("tier"), f"{field}.tier")
        if has_tiers.get(kind):
            if tier not in (1, 2):
                raise InvalidInput(f"字段“{field}.tier”：{codes.SchemeKind(kind).label}分档缴费，须填写档次 1 或 2")
        else:
            tier = 0
        start = parse_date(item.get("from"), f"{field}.from", required=False) or date(year, 1, 1)
        end = parse_date(item.get("to"), f"{field}.to", required=False) or date(year, 12, 31)
        if start > end:
            raise InvalidInput(f"字段“{field}”：待遇起始日 {start} 晚于终止日 {end}")
        suspended = []
        for j, period in enumerate(item.get("suspended") or []):
            pfield = f"{field}.suspended[{j}]"
            if not isinstance(period, dict):
                raise InvalidInput(f"字段“{pfield}”必须是包含 from、to 的对象")
            p_from = parse_date(period.get("from"), f"{pfield}.from")
            p_to = parse_date(period.get("to"), f"{pfield}.to")
            if p_from > p_to:
                raise InvalidInput(f"字段“{pfield}”：中止起始日晚于终止日")
            suspended.append(Period(p_from, p_to))
        out.append(Coverage(scheme=kind, start=start, end=end, tier=tier, suspended=tuple(suspended)))
    return tuple(out)


def parse_rate(value) -> Decimal | None:
    """``participation_rate`` as a fraction (0.25) → percent (25)."""
    if value is None:
        return None
    rate = parse_amount(value, "participation_rate")
    if rate > 1:
        raise InvalidInput(f"字段“participation_rate”是 0–1 之间的比例（如 0.25 表示 25%）：{value}")
    return rate * HUNDRED


# --------------------------------------------------------------------------- output


def _item_json(item: ItemResult) -> dict:
    out = {"code": item.code, "paid": fmt(item.paid)}
    if item.deductible:
        out["deductible"] = fmt(item.deductible)
    if item.ratio is not None:
        out["ratio"] = fmt(item.ratio)
    if item.basis is not None:
        out["basis"] = fmt(item.basis)
    if item.capped:
        out["capped"] = fmt(item.capped)
    if item.reason:
        out["reason"] = item.reason
    out["explanation"] = item.explanation
    return out


def layer_json(layer: LayerResult) -> dict:
    out = {"scheme": layer.scheme, "paid": fmt(layer.paid), "explanation": layer.explanation}
    if layer.given:
        out["given"] = True
    if layer.deductible:
        out["deductible"] = fmt(layer.deductible)
    if layer.ratio is not None:
        out["ratio"] = fmt(layer.ratio)
    if layer.capped:
        out["capped"] = fmt(layer.capped)
    if layer.basis is not None:
        out["basis"] = fmt(layer.basis)
    if layer.reason:
        out["reason"] = layer.reason
    if layer.items:
        out["items"] = [_item_json(i) for i in layer.items]
    return out


def result_json(case_id, settled: SettledClaim) -> dict:
    fund = settled.fund_total
    return {"id": case_id, "ok": True, "layers": [layer_json(lr) for lr in settled.layers],
            "fund_total": fmt(fund), "personal": fmt(settled.claim.total - fund)}


# --------------------------------------------------------------------------- the case


def claim_case(case: dict, *, plan_status: str = "active", cache: TrialCache | None = None) -> dict:
    cache = cache or TrialCache(plan_status=plan_status)
    region = selectors.pooling_region(case.get("region"))
    person = parse_person(case.get("person"), known_identities=cache.identity_codes())
    for group in person.pre_existing:
        if group not in codes.PreExistingGroup.values:
            raise UnknownCode(f"未知的特定既往症类别“person.pre_existing”：{group}")
    raw_claim = case.get("claim")
    if not isinstance(raw_claim, dict):
        raise InvalidInput("缺少字段“claim”（理赔信息对象）")
    year = parse_date(raw_claim.get("date"), "claim.date").year
    plans = cache.region_plans(region.code, year)
    diseases = cache.disease_codes(region)
    has_tiers = {kind: plan.has_tiers for kind, plan in plans.items() if plan is not None}
    coverages = parse_coverages(case.get("coverages"), plans, has_tiers, year)
    claim = parse_claim(raw_claim, "claim", plans=plans, diseases=diseases)
    prior_data = case.get("prior") or []
    if not isinstance(prior_data, list):
        raise InvalidInput("字段“prior”必须是理赔列表")
    priors = [parse_claim(p, f"prior[{i}]", plans=plans, diseases=diseases, year=year)
              for i, p in enumerate(prior_data)]
    rate = parse_rate(case.get("participation_rate"))
    names = cache.scheme_names(region.code)
    history: list[SettledClaim] = []
    for prior in priors:
        history.append(settle_claim(plans=plans, person=person, coverages=coverages, claim=prior,
                                    history=tuple(history), participation_rate=rate, scheme_names=names))
    settled = settle_claim(plans=plans, person=person, coverages=coverages, claim=claim,
                           history=tuple(history), participation_rate=rate, scheme_names=names)
    return result_json(case.get("id"), settled)
