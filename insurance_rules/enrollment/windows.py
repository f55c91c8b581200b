"""The payment window (参保缴费期) a payment falls in — the third check of a contribution
(dianjiang.md 缴费 table and newborn rule; leshan.md; sanming.md; liaocheng.md new
veterans; trial-calc.md ``window_closed``).

A window applies to the person when its ``person_group`` does:
- ``all``: everyone;
- ``newborn``: a person born in the plan year, paying within ``newborn_max_days`` days
  of birth (``0 ≤ paid_date − birth_date ≤ N``);
- ``identity``: a holder of the window's identity valid on the payment date.
Of the applicable windows whose payment dates contain the payment date, the one with the
highest ``priority`` is used (ties: the latest ``pay_from``, then the code). When none
matches: “<year> 年度缴费已截止” if the payment date is after the last applicable window,
otherwise a message naming the applicable windows.
"""
from __future__ import annotations

from datetime import date

from insurance_rules.errors import MissingRule, WindowClosed
from insurance_rules.facts import PersonFacts
from insurance_rules.params import Window

from .plan import ContributionPlan


def is_plan_year_newborn(plan: ContributionPlan, person: PersonFacts) -> bool:
    return person.birth_date.year == plan.year


def group_applies(window: Window, plan: ContributionPlan, person: PersonFacts,
                  paid_date: date) -> bool:
    if window.person_group == "newborn":
        if not is_plan_year_newborn(plan, person) or window.newborn_max_days is None:
            return False
        return 0 <= (paid_date - person.birth_date).days <= window.newborn_max_days
    if window.person_group == "identity":
        return window.identity is not None and window.identity in person.identity_codes_on(paid_date)
    return True


def dates_contain(window: Window, day: date) -> bool:
    return (window.pay_from is None or window.pay_from <= day) and (
        window.pay_to is None or day <= window.pay_to)


def describe(window: Window) -> str:
    start = window.pay_from.isoformat() if window.pay_from else "不限"
    end = window.pay_to.isoformat() if window.pay_to else "不限"
    return f"“{window.name}”（{start} 至 {end}）"


def select_window(plan: ContributionPlan, person: PersonFacts, paid_date: date) -> Window:
    """The window of a payment made on ``paid_date``, or ``WindowClosed``."""
    if not plan.windows:
        raise MissingRule(f"{plan.label}没有参保缴费期（参保缴费期表无数据行）")
    applicable = [w for w in plan.windows if group_applies(w, plan, person, paid_date)]
    matching = [w for w in applicable if dates_contain(w, paid_date)]
    if matching:
        return max(matching, key=lambda w: (w.priority, w.pay_from or date.min, w.code))
    if applicable and all(w.pay_to is not None for w in applicable) and paid_date > max(
            w.pay_to for w in applicable):
        raise WindowClosed(f"{plan.year} 年度缴费已截止")
    names = "、".join(describe(w) for w in sorted(
        applicable, key=lambda w: (w.pay_from or date.min, w.code))) or "无适用于该参保人的缴费期"
    raise WindowClosed(f"缴费日期 {paid_date.isoformat()} 不在{plan.label}的缴费期内："
                       f"{names}")
