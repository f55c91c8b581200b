"""System checks (Django's checks framework) that keep the schemes, the engine and the
plan years from drifting apart (issue: policy fidelity, second reading).

- ``claims.E001``: a formula family offered to policy officers (``FORMULA_CHOICES``)
  that no engine module implements.
- ``claims.E002``: a given-result hook registered for a formula family that does not exist.
- ``claims.E003`` (database): a scheme row names a formula family no module implements.
- ``claims.E004`` (database): a plan year (not a draft) lacks a rule table its formula
  family needs (``registry.FORMULA_NEEDS``); ``claims.W004`` the same for a draft, which is
  still being prepared.

Two modules registering the same formula or sheet kind are refused when they register
(``DuplicateRegistration``, ``DuplicateKind``): start-up fails naming both.

The database checks run with ``manage.py check --database default`` (and before
``migrate``); on a database without the tables yet they report nothing.
"""
from __future__ import annotations

from django.core import checks
from django.db import DatabaseError, connections

from insurance_rules.formulas import FORMULA_CHOICES
from insurance_rules.registry import FORMULA_NEEDS, FORMULAS, GIVEN_HANDLERS
from insurance_rules.settle import load_systems
from policies import models as pm
from policies.selectors import PARAM_TABLES  # PlanParams field -> its rule table


@checks.register()
def check_formula_registry(app_configs=None, **kwargs):
    load_systems()
    errors = []
    for code, label in FORMULA_CHOICES:
        if code not in FORMULAS:
            errors.append(checks.Error(
                f"计算规则族“{label}”（{code}）可在险种上选择，但没有计算模块实现它",
                hint="在 insurance_rules/systems/ 中用 @formula 注册它，或从 FORMULA_CHOICES 中删除",
                id="claims.E001"))
    for code, needs in FORMULA_NEEDS.items():
        unknown = [n for n in needs if n not in PARAM_TABLES]
        if unknown:
            errors.append(checks.Error(
                f"计算规则族 {code} 声明需要的规则表不存在：{'、'.join(unknown)}", id="claims.E001"))
    for code in GIVEN_HANDLERS:
        if code not in FORMULAS:
            errors.append(checks.Error(
                f"带入结果处理注册在不存在的计算规则族 {code} 上", id="claims.E002"))
    return errors


@checks.register(checks.Tags.database)
def check_plan_years(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    load_systems()
    errors = []
    for alias in databases:
        try:
            errors += _plan_year_errors(alias)
        except DatabaseError:  # not migrated yet: nothing to check
            connections[alias].close()
    return errors


def _plan_year_errors(alias: str) -> list:
    errors = []
    for scheme in pm.Scheme.objects.using(alias).select_related("region").exclude(
            formula__in=list(FORMULAS)):
        errors.append(checks.Error(
            f"险种“{scheme}”（{scheme.region}）的计算规则族 {scheme.formula} 没有计算模块实现",
            hint="在险种上选择已实现的计算规则族", obj=scheme, id="claims.E003"))
    plan_years = list(pm.PlanYear.objects.using(alias).select_related("scheme__region")
                      .filter(scheme__formula__in=list(FORMULAS)))
    needed = {field for py in plan_years for field in FORMULA_NEEDS[py.scheme.formula]}
    present = {field: set(PARAM_TABLES[field].objects.using(alias)
                          .values_list("plan_year_id", flat=True).distinct()) for field in needed}
    for py in plan_years:
        missing = [PARAM_TABLES[f]._meta.verbose_name for f in FORMULA_NEEDS[py.scheme.formula]
                   if py.pk not in present[f]]
        if not missing:
            continue
        draft = py.status == pm.PlanYear.Status.DRAFT
        make = checks.Warning if draft else checks.Error
        errors.append(make(
            f"年度方案“{py}”（{py.scheme.region}）缺少其计算规则族需要的规则表：{'、'.join(missing)}",
            hint="在年度方案页面补齐这些规则表的行（或由上一年度结转）",
            obj=py, id="claims.W004" if draft else "claims.E004"))
    return errors
