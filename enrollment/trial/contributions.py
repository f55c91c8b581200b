"""Trial calculation of the ``contribution`` kind (spec trial-calc.md ``contribution``).

``contribution_case(case, plan_status=...)`` reads one case object, resolves the plan
year's rows from the database (nothing is written) and returns::

    {"id": …, "ok": true, "due": "380.00", "subsidy": "342.00", "self_pay": "38.00",
     "coverage_start": "2024-01-01", "coverage_end": "2024-12-31"}

Errors raise ``insurance_rules.errors.CaseError`` subclasses (``invalid_input``,
``unknown_code``, ``missing_rule``, ``not_eligible``, ``window_closed``); the
``trial_calc`` command turns them into ``{"ok": false, "error": …}``.
"""
from __future__ import annotations

from enrollment import selectors
from insurance_rules.enrollment.contribution import quote
from insurance_rules.errors import InvalidInput, UnknownCode
from insurance_rules.money import fmt
from insurance_rules.parse import parse_date, parse_person
from policies import codes


def _parse_year(value) -> int:
    if value is None or value == "":
        raise InvalidInput("缺少字段“year”（参保年度）")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise InvalidInput(f"字段“year”必须是 4 位年度，例如 2024：{value!r}")
    return value


def _parse_tier(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"字段“tier”必须是整数档次（1 = 一档，2 = 二档）：{value!r}")
    return value


def _parse_code(value, field: str, choices, label: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"字段“{field}”必须是{label}代码")
    if value not in choices:
        raise UnknownCode(f"未知的{label}代码“{field}”：{value}")
    return value


def contribution_case(case: dict, *, plan_status: str = "active") -> dict:
    """One ``contribution`` case → its result dict (``CaseError`` on failure)."""
    if not isinstance(case, dict):
        raise InvalidInput("每个试算案例必须是 JSON 对象")
    region = selectors.pooling_region(case.get("region"))
    scheme = selectors.region_scheme(region, case.get("scheme"))
    year = _parse_year(case.get("year"))
    tier = _parse_tier(case.get("tier"))
    paid_date = parse_date(case.get("paid_date"), "paid_date")
    channel = _parse_code(case.get("channel"), "channel", codes.Channel.values, "缴费渠道")
    relation = _parse_code(case.get("relation_to_payer"), "relation_to_payer",
                           codes.Relation.values, "缴费关系")
    person = parse_person(case.get("person"), known_identities=selectors.identity_codes())
    plan = selectors.contribution_plan(selectors.plan_year_of(scheme, year, plan_status))
    result = quote(plan, person, tier=tier, paid_date=paid_date, channel=channel,
                   relation=relation)
    return {
        "id": case.get("id"),
        "ok": True,
        "due": fmt(result.due),
        "subsidy": fmt(result.subsidy),
        "self_pay": fmt(result.self_pay),
        "coverage_start": result.coverage_start.isoformat(),
        "coverage_end": result.coverage_end.isoformat(),
    }
