"""Batch trial calculation (spec trial-calc.md): reading the cases and answering each.

``load_cases(text)`` accepts a JSON array of case objects, JSON Lines (one case object
per line) or an object whose ``cases`` key holds the array (other keys are ignored);
anything else raises ``BadInput`` (the command exits with status 2).

``run_cases(cases, plan_status=...)`` answers every case in order: kind ``claim`` (the
default) by ``claims.trial.claim_case``, ``contribution`` and ``registration`` by
``enrollment.trial`` (imported when first needed). A case that cannot be computed
answers ``{"id", "ok": false, "error": {"code", "message"}}``. Nothing is written to the
database: the whole run is one transaction that is rolled back, each case inside its
own savepoint so that one failing case cannot disturb the next. A database error (e.g.
the database is not migrated) is not a case's fault and stops the run.
"""
from __future__ import annotations

import json
import logging
import traceback

from django.db import DatabaseError, transaction

from claims.engine.errors import CaseError, InvalidInput, UnknownCode

from .trial import TrialCache, claim_case

log = logging.getLogger(__name__)

KINDS = ("claim", "contribution", "registration")


class BadInput(ValueError):
    """The input is not valid JSON or not an array of objects."""


def load_cases(text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data = _json_lines(text, exc)
    else:
        if isinstance(data, dict):
            if "cases" in data:
                data = data["cases"]
            elif len(text.strip().splitlines()) == 1:
                data = [data]  # JSON Lines with one case
            else:
                raise BadInput("输入是 JSON 对象，但没有 cases 数组")
    if not isinstance(data, list):
        raise BadInput("输入必须是案例对象的 JSON 数组、JSON Lines，或含 cases 数组的对象")
    for i, case in enumerate(data):
        if not isinstance(case, dict):
            raise BadInput(f"第 {i + 1} 个案例不是 JSON 对象")
    return data


def _json_lines(text: str, first_error: json.JSONDecodeError) -> list:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        raise BadInput(f"输入不是有效的 JSON：{first_error}")
    cases = []
    for n, line in lines:
        try:
            cases.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BadInput(f"第 {n} 行不是有效的 JSON：{exc}") from exc
    return cases


def _enrollment_function(kind: str):
    try:
        from enrollment import trial
    except ImportError:
        return None
    return getattr(trial, f"{kind}_case", None)


def run_case(case: dict, *, plan_status: str, cache: TrialCache) -> dict:
    case_id = case.get("id")
    kind = case.get("kind") or "claim"
    try:
        if kind not in KINDS:
            raise UnknownCode(f"未知的案例类型“kind”：{kind}（claim、contribution 或 registration）")
        if case_id is None:
            raise InvalidInput("缺少字段“id”（案例编号）")
        if kind == "claim":
            return claim_case(case, plan_status=plan_status, cache=cache)
        function = _enrollment_function(kind)
        if function is None:
            return _error(case_id, "missing_rule", f"本系统尚未提供“{kind}”类案例的试算（缴费/登记规则模块未安装）")
        return function(case, plan_status=plan_status)
    except CaseError as exc:
        return {"id": case_id, "ok": False, "error": exc.as_dict()}
    except DatabaseError:
        raise  # the database is not ready (not migrated, unreachable): not a case's fault
    except Exception as exc:  # one broken case must not stop the batch; the trace goes to stderr
        log.error("案例 %s 试算出错：\n%s", case_id, traceback.format_exc())
        return _error(case_id, "internal_error", f"试算程序内部错误：{exc}")


def _error(case_id, code: str, message: str) -> dict:
    return {"id": case_id, "ok": False, "error": {"code": code, "message": message}}


def run_cases(cases: list[dict], *, plan_status: str = "active") -> list[dict]:
    cache = TrialCache(plan_status=plan_status)
    results = []
    with transaction.atomic():
        for case in cases:
            with transaction.atomic():
                results.append(run_case(case, plan_status=plan_status, cache=cache))
                transaction.set_rollback(True)
        transaction.set_rollback(True)
    return results
