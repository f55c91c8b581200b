"""三明普惠医联保 (spec sanming.md).

Who may enroll (``admission``): the region's basic insured, and also 新市民 insured
elsewhere who live in 三明 long-term (``lives_in_region``) and 港澳台同胞 in 福建's basic
insurance (``hk_macao_taiwan`` and ``basic_insured_in_province``); everyone else is
refused in 三明's own words.

Hospitals: the rows designate level ≥ 2 public hospitals (责任一/二 split by location;
责任四 only in 三明, so a drug bought elsewhere is ``hospital_not_designated``); 责任一
(in-region inpatient) also needs a hospital settling by C-DRG (``Hospital.cdrg``).

Responsibilities R1 (in-region inpatient), R2 (out-of-region inpatient), R3 (chronic
special outpatient), R4A (cancer drugs, ratios by drug class), R4B (rare-disease
drugs): ``Responsibility`` rows with the hospital designation (level ≥ 2, public),
the health status (特定既往症 groups of the plan year), the assistance-target ratios
for pre-existing persons (``ResponsibilityIdentityRatio``), each responsibility's own
annual deductible and sum insured (``insurance_rules.responsibilities``).

兜底保障 (item ``FLOOR``): the official participation rate (the trial's override, else
the plan year's ``official_participation_rate``) picks the ``OutOfPocketCap`` row with
the highest rate it reaches; the person's YTD personal payment (total − all layers,
this scheme's responsibilities included) on the claims the row covers (in-region
inpatient) above that row's cap is paid as ``FLOOR``. No rate → 0.00 with reason
``rate_not_set``; a rate below every row → ``rate_below_threshold``. The spec's "in-region
inpatient care" is taken from the row (claim type, location), not from the hospital
designation of R1.
"""
from __future__ import annotations

from decimal import Decimal

from ..common import Calc, claim_location, location_matches, missing, percent, yuan
from ..context import LayerContext
from ..facts import PersonFacts
from ..money import ZERO, q2
from ..params import OopCap, ResponsibilityRule
from ..registry import admission, formula
from ..responsibilities import items_layer, settle_items
from ..results import ItemResult, LayerResult, ParamRef
from ..vocab import LOCATION_NAMES, REASON_NAMES, claim_type_name

FLOOR = "FLOOR"


def _covers(row: OopCap, claim) -> bool:
    return row.claim_type == claim.type and location_matches(row.location, claim_location(claim))


def _ref(row: OopCap) -> ParamRef:
    return row.ref("OutOfPocketCap", min_participation_rate=row.min_participation_rate,
                   personal_cap=row.personal_cap, claim_type=row.claim_type, location=row.location)


def floor_item(ctx: LayerContext, items_paid: Decimal) -> tuple[ItemResult, tuple[ParamRef, ...]]:
    plan, claim = ctx.plan, ctx.claim
    official = ctx.participation_rate is None
    rate = plan.official_participation_rate if official else ctx.participation_rate
    if not plan.oop_caps and rate is not None:
        raise missing(plan, "兜底保障（参保率档次与个人自付封顶）")
    caps = [r for r in plan.oop_caps if _covers(r, claim)]
    if plan.oop_caps and not caps:
        scope = "、".join(sorted({f"{LOCATION_NAMES.get(r.location, r.location)}{claim_type_name(r.claim_type)}"
                                  for r in plan.oop_caps}))
        return ItemResult(code=FLOOR, paid=ZERO, reason="not_applicable",
                          explanation=f"兜底保障：仅限{scope}，不适用"), ()
    if rate is None:
        return ItemResult(code=FLOOR, paid=ZERO, reason="rate_not_set",
                          explanation=f"兜底保障：{REASON_NAMES['rate_not_set']}，支付 0.00"), ()
    source = "官方参保率" if official else "试算给定参保率"
    reached = [r for r in caps if r.min_participation_rate <= rate]
    if not reached:
        lowest = min(caps, key=lambda r: r.min_participation_rate)
        return ItemResult(code=FLOOR, paid=ZERO, reason="rate_below_threshold",
                          explanation=f"兜底保障：{source} {percent(rate)} 未达到 "
                                      f"{percent(lowest.min_participation_rate)}，支付 0.00"), ()
    row = max(reached, key=lambda r: r.min_participation_rate)
    own = claim.total - ctx.upstream_paid - items_paid
    before = sum((sc.claim.total - sc.fund_total for sc in ctx.history if _covers(row, sc.claim)), ZERO)
    over = before + own - row.personal_cap
    value = min(max(over, ZERO), max(own, ZERO))
    paid = q2(value)
    text = (f"兜底保障：{source} {percent(rate)} 达到 {percent(row.min_participation_rate)}，"
            f"{LOCATION_NAMES.get(row.location, '')}{claim_type_name(row.claim_type)}个人自付年度封顶 "
            f"{yuan(row.personal_cap)}；本年此前个人自付 {yuan(before)} + 本次个人自付 {yuan(own)}"
            f"（总费用 {yuan(claim.total)} − 各层已付 {yuan(ctx.upstream_paid + items_paid)}）"
            f"{'，超出封顶 ' + yuan(value) if value else '，未超过封顶'}，赔付 {yuan(paid)}")
    return ItemResult(code=FLOOR, paid=paid, basis=before + own, explanation=text), (_ref(row),)


@admission("sanming_inclusive",
           refusal="非{region}参保且非在{region}长期居住的新市民（亦非参加{province}基本医疗保险的港澳台同胞），"
                   "不能参加{scheme}")
def sanming_admission(person: PersonFacts) -> str:
    """新市民 living in the region long-term; 港澳台同胞 in the province's basic insurance."""
    if person.lives_in_region:
        return "在本统筹区长期居住的新市民"
    if person.hk_macao_taiwan and person.basic_insured_in_province:
        return "参加本省基本医疗保险的港澳台同胞"
    return ""


def cdrg_designation(row: ResponsibilityRule, ctx: LayerContext) -> tuple[str, str]:
    """责任一 (the in-region inpatient responsibility): only at a hospital settling by C-DRG."""
    hosp = ctx.claim.hospital
    if row.claim_type == "inpatient" and row.location == "in_region" and hosp is not None and not hosp.cdrg:
        return "hospital_not_designated", "仅限按C-DRG收付费的医疗机构"
    return "", ""


@formula("sanming_inclusive", needs=("applicable", "responsibilities", "oop_caps"))
def sanming_inclusive(ctx: LayerContext) -> LayerResult:
    calc = Calc(ctx.plan.kind)
    items = settle_items(ctx, calc, designated=cdrg_designation)
    floor, refs = floor_item(ctx, sum((i.paid for i in items), ZERO))
    if floor.reason != "not_applicable":
        calc.say(floor.explanation)
    return items_layer(calc, [*items, floor], refs)
