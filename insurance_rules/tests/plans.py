"""Hand-built ``ContributionPlan``s restating the spec's 2024 rows (dianjiang.md, leshan.md,
sanming.md, liaocheng.md) for the pure-rule tests (no database). The database tests use
the fixture rows through ``loaded_policies`` instead."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from insurance_rules.enrollment.plan import AutoEnrollRule, ContributionPlan, PayerRule
from insurance_rules.params import Figure, Standard, Subsidy, Window

D = Decimal
END = date(2024, 12, 31)


def window(code, pay_from, pay_to, rule, *, start=None, waiting=0, group="all", identity=None,
           newborn_days=None, priority=0, end=END):
    return Window(id=None, code=code, name=code, pay_from=pay_from, pay_to=pay_to,
                  person_group=group, identity=identity, newborn_max_days=newborn_days,
                  coverage_rule=rule, coverage_start=start, waiting_days=waiting,
                  coverage_end=end, priority=priority)


def dianjiang() -> ContributionPlan:
    windows = (
        window("central", date(2023, 10, 11), date(2023, 12, 31), "fixed", start=date(2024, 1, 1)),
        window("early", date(2024, 1, 1), date(2024, 2, 29), "next_day"),
        window("spring", date(2024, 3, 1), date(2024, 6, 30), "after_days", waiting=90),
        window("late", date(2024, 7, 1), date(2024, 9, 30), "after_days", waiting=90),
        window("newborn", date(2024, 1, 1), date(2025, 3, 31), "from_birth", group="newborn",
               newborn_days=90, priority=10),
    )
    standards = []
    for w in ("central", "early", "spring", "late", "newborn"):
        plus = "fiscal_subsidy" if w == "late" else ""
        standards.append(Standard(id=None, window=w, tier=1, amount=D("380"), plus_figure=plus))
        standards.append(Standard(id=None, window=w, tier=2, amount=D("755"), plus_figure=plus))
    subsidies = [Subsidy(id=None, identity=c, tier=2, amount=D("755")) for c in ("sanshu", "old_veteran")]
    for c in ("rural_veteran_60", "disabled_veteran", "tekun", "orphan", "de_facto_orphan"):
        subsidies += [Subsidy(id=None, identity=c, tier=1, amount=D("380")),
                      Subsidy(id=None, identity=c, tier=2, amount=D("380"))]
    subsidies += [Subsidy(id=None, identity="dibao", tier=1, amount=D("342")),
                  Subsidy(id=None, identity="dibao", tier=2, amount=D("380"))]
    for c in ("dibao_edge", "illness_poverty", "severe_disability", "poverty_return",
              "poverty_unstable", "edge_poverty", "sudden_hardship"):
        subsidies += [Subsidy(id=None, identity=c, tier=1, amount=D("266")),
                      Subsidy(id=None, identity=c, tier=2, amount=D("380"))]
    return ContributionPlan(
        region="500231", region_name="垫江县", kind="resident_basic",
        scheme_name="城乡居民基本医疗保险", year=2024, has_tiers=True, windows=windows,
        standards=tuple(standards), subsidies=tuple(subsidies),
        figures=(Figure(id=None, code="fiscal_subsidy", value=D("670")),))


def leshan() -> ContributionPlan:
    return ContributionPlan(
        region="511100", region_name="乐山市", kind="employee_supplementary",
        scheme_name="职工补充医疗保险", year=2024, has_tiers=False,
        windows=(window("central", date(2023, 12, 15), date(2024, 3, 31), "fixed",
                        start=date(2024, 1, 1)),),
        standards=(Standard(id=None, window="central", tier=0, amount=D("265")),),
        payer_rules=(PayerRule(id=None, channel="personal_account", relation="self",
                               category="employee_active"),
                     PayerRule(id=None, channel="personal_account", relation="self",
                               category="employee_retired")))


FAMILY = ("self", "spouse", "child", "parent", "spouse_parent")


def sanming() -> ContributionPlan:
    return ContributionPlan(
        region="350400", region_name="三明市", kind="inclusive_commercial",
        scheme_name="三明普惠医联保", year=2024, has_tiers=False,
        windows=(window("central", None, date(2023, 12, 31), "fixed", start=date(2024, 1, 1)),),
        standards=(Standard(id=None, window="central", tier=0, amount=D("150")),),
        subsidies=tuple(Subsidy(id=None, identity=c, tier=0, amount=None, full=True)
                        for c in ("tekun", "wulao", "dibao", "orphan", "de_facto_orphan")),
        payer_rules=tuple(PayerRule(id=None, channel=ch, relation=r)
                          for ch in ("personal_account", "family_account") for r in FAMILY))


def liaocheng() -> ContributionPlan:
    return ContributionPlan(
        region="371500", region_name="聊城市", kind="inclusive_commercial", scheme_name="聊惠保",
        year=2024, has_tiers=False,
        windows=(window("central", None, date(2023, 12, 31), "fixed", start=date(2024, 1, 1)),
                 window("veteran", date(2024, 1, 1), date(2024, 12, 31), "as_basic",
                        group="identity", identity="new_veteran", priority=5)),
        standards=(Standard(id=None, window="central", tier=0, amount=D("89")),
                   Standard(id=None, window="veteran", tier=0, amount=D("89"))),
        payer_rules=tuple(PayerRule(id=None, channel="personal_account", relation=r) for r in FAMILY),
        auto_rules=(AutoEnrollRule(id=None, trigger="newborn_parents", parents_required=2,
                                   coverage_rule="as_basic"),))
