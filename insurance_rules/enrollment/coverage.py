"""Coverage period (待遇享受期) given by a window (dianjiang.md 缴费 table; leshan.md,
sanming.md, liaocheng.md; trial-calc.md example ``c-1``).

Rules (``EnrollmentWindow.coverage_rule``):
- ``fixed``: the window's fixed start;
- ``next_day``: the day after the payment (完清) date;
- ``after_days``: payment date + ``waiting_days`` days — “满 90 日后” read as in the spec's
  trial example (paid 2024-03-10 → 2024-06-08 = paid + 90 days);
- ``from_birth``: the birth date;
- ``as_basic``: the start of the person's basic coverage (the plan-year start unless the
  caller knows it); the end is then also limited to the basic coverage's end.
The end is the window's ``coverage_end``. A start after the end cannot give coverage.
"""
from __future__ import annotations

from datetime import date, timedelta

from insurance_rules.errors import MissingRule, WindowClosed
from insurance_rules.params import Window

from .plan import ContributionPlan


def coverage_period(plan: ContributionPlan, window: Window, *, paid_date: date, birth_date: date,
                    basic_start: date | None = None,
                    basic_end: date | None = None) -> tuple[date, date]:
    rule = window.coverage_rule
    end = window.coverage_end
    if rule == "fixed":
        start = window.coverage_start
    elif rule == "next_day":
        start = paid_date + timedelta(days=1)
    elif rule == "after_days":
        start = paid_date + timedelta(days=window.waiting_days)
    elif rule == "from_birth":
        start = birth_date
    elif rule == "as_basic":
        start = basic_start or plan.year_start
        if basic_end is not None:
            end = min(end, basic_end)
    else:
        raise MissingRule(f"{plan.label}缴费期“{window.name}”的待遇起始规则“{rule}”无法识别")
    if start is None:
        raise MissingRule(f"{plan.label}缴费期“{window.name}”缺少固定待遇起始日")
    if start > end:
        raise WindowClosed(f"按缴费期“{window.name}”的规则，待遇起始日 {start.isoformat()} 晚于"
                           f"待遇终止日 {end.isoformat()}，本年度不能再参保缴费")
    return start, end
