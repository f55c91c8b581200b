"""Demo year-end statements for ``manage.py load_demo`` (hook ``DEMO_LOADERS``, after
``claims.demo``; docs/money.md §年度清算): one 年度清算经营费用 row and a draft 年度清算表 of
2024 for each commercial product of the seed systems, prepared through the service as
staff would (a reviewer then signs it in the admin). Idempotent: an existing expense row or
statement is left as it is. The expense figures are demo values, not policy numbers.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from policies.models import PlanYear

from .models.year_end import COMMERCIAL_KINDS, YearEndExpense, YearEndStatement
from .services import statement_prepare

YEAR = 2024
DEMO_EXPENSE = ("运营服务费（演示）", Decimal("8.00"))
"""A demo expense item as a ratio of the premium income (演示数据, not a policy figure)."""


def load(*, acting_user, stdout):
    done = []
    for plan_year in (PlanYear.objects.filter(year=YEAR, scheme__kind__in=COMMERCIAL_KINDS)
                      .select_related("scheme__region").order_by("scheme__region__code")):
        name, ratio = DEMO_EXPENSE
        YearEndExpense.objects.get_or_create(
            plan_year=plan_year, name=name,
            defaults={"seq": 1, "method": YearEndExpense.Method.RATIO, "ratio": ratio,
                      "note": "演示数据：按承保合同录入的经营费用示例"})
        if YearEndStatement.objects.filter(scheme=plan_year.scheme, year=YEAR).exists():
            continue
        try:
            statement_prepare(scheme=plan_year.scheme, year=YEAR, acting_user=acting_user)
        except (ValidationError, PermissionDenied) as exc:  # demo data must never stop load_demo
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            stdout.write(f"（演示年度清算表 {plan_year.scheme} 未编制：{'；'.join(messages)}）")
            continue
        done.append(str(plan_year.scheme))
    stdout.write(f"年度清算演示数据：清算表 {YearEndStatement.objects.count()} 份（本次编制 {len(done)} 份）")
