"""Annual-limit pools of the 长治 basic layers (changzhi.md: 普通门诊统筹 300 for all
levels together; basic fund 70 000 resident / 80 000 employee, shared by inpatient and
一类 chronic).

A pool is an ``AnnualLimit`` row (``LimitPool`` code); the rows that charge a pool name
it (``BenefitRule.limit_pool``, ``ChronicBenefit.shares_pool``). Its YTD usage is what
this scheme paid in it on earlier claims of the plan year (README §4.4).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ...common import Calc, annual_limit, match_benefit, pool_label, yuan
from ...context import LayerContext
from ...facts import ClaimFacts
from ...money import ZERO
from ._history import POOL_KEY, pool_usage
from ._rows import chronic_rule, missing_rule

INPATIENT_DEFAULT_POOL = "basic_fund"
"""Pool of a *given* inpatient result when the plan year has no inpatient rows (长治 职工:
"基金年累计最高支付 … 8 万元" covers inpatient; the employee inpatient rows are missing)."""


def default_pool(ctx: LayerContext) -> Callable[[ClaimFacts], str]:
    """The pool an earlier claim's layer counts in, from the rows of this plan year
    (for layers that did not record it, i.e. given layers)."""
    plan, tier = ctx.plan, ctx.coverage.tier

    def pool_of(claim: ClaimFacts) -> str:
        if claim.type == "chronic_outpatient":
            rule = chronic_rule(plan, claim.disease)
            return rule.shares_pool if rule else ""
        if claim.type == "two_diseases":
            return ""
        row = match_benefit(plan, claim_type=claim.type, tier=tier, hospital=claim.hospital,
                            delivery_mode=claim.delivery_mode)
        if row is not None:
            return row.limit_pool
        return INPATIENT_DEFAULT_POOL if claim.type == "inpatient" else ""

    return pool_of


def pool_cap(ctx: LayerContext, calc: Calc, pool: str, raw: Decimal) -> tuple[Decimal, Decimal]:
    """Limit ``raw`` by the pool's annual limit minus its YTD usage; records the pool on
    the layer (``limit_pool``). Returns (allowed, capped), exact."""
    if not pool:
        return raw, ZERO
    limit = annual_limit(ctx.plan, pool, tier=ctx.coverage.tier, person=ctx.person,
                         day=ctx.claim.date)
    if limit is None:
        raise missing_rule(ctx.plan, f"{pool_label(pool)}（年度支付限额）")
    calc.keep(POOL_KEY, pool)
    used = pool_usage(ctx, pool, default_pool(ctx))
    return calc.cap(raw, limit, used, pool_label(pool))


def within_unpaid(ctx: LayerContext, calc: Calc, allowed: Decimal, cost: Decimal,
                  what: str = "合规费用") -> Decimal:
    """``allowed`` limited to what the earlier layers left unpaid of ``cost`` (README §4.1:
    a layer never pays more than is still unpaid), explained when it binds."""
    unpaid = max(ZERO, cost - ctx.upstream_paid)
    if allowed > unpaid:
        calc.say(f"未支付的{what}仅余 {yuan(unpaid)}")
        return unpaid
    return allowed
