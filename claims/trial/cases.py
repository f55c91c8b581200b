"""Batch trial calculation (spec trial-calc.md): reading the cases and answering each.

``load_cases(text)`` accepts a JSON array of case objects, JSON Lines (one case object
per line) or an object whose ``cases`` key holds the array (other keys are ignored);
anything else raises ``BadInput`` (the command exits with status 2).

``run_cases(cases, plan_status=...)`` answers every case in order through ``HANDLERS``:
kind ``claim`` (the default) by ``claims.trial.claim_case``, ``contribution`` by
``enrollment.trial.contribution_case``, ``registration`` by
``enrollment.trial.registrations.registration_case``. The handlers are imported with this
module, so a missing one is an ImportError when the command starts, never a case's
answer. A case that cannot be computed answers ``{"id", "ok": false, "error": {"code",
"message"}}``; a case that hit a programming error answers ``internal_error`` and the
command exits 1 after printing every result (``had_internal_error``). Nothing is written to the
database: the whole run is one transaction that is rolled back, each case inside its
own savepoint so that one failing case cannot disturb the next. A database error (e.g.
the database is not migrated) is not a case's fault and stops the run.
"""
from __future__ import annotations

import json
import logging
import traceback

from django.db import DatabaseError, transaction

from claims.trial.claims import TrialCache, claim_case
from enrollment.trial.contributions import contribution_case
from enrollment.trial.registrations import registration_case
from insurance_rules.errors import CaseError, InvalidInput, UnknownCode

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal_error"


class BadInput(ValueError):
    """The input is not valid JSON or not an array of objects."""


def _parse(text: str, where: str = "输入"):
    """``json.loads``, with the inputs the parser itself cannot take as ``BadInput``: nesting
    deeper than the interpreter's recursion limit (``RecursionError``) and an integer of
    more than 4 300 digits (``ValueError``) — exit 2, never a traceback."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError as exc:
        raise BadInput(f"{where}的 JSON 嵌套层数过多") from exc
    except ValueError as exc:  # int('9' * 5000): Python's limit on integer digits
        raise BadInput(f"{where}含有位数过多的数字（整数最多 4300 位）") from exc


def load_cases(text: str) -> list[dict]:
    try:
        data = _parse(text)
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
            cases.append(_parse(line, f"第 {n} 行"))
        except json.JSONDecodeError as exc:
            raise BadInput(f"第 {n} 行不是有效的 JSON：{exc}") from exc
    return cases


HANDLERS = {
    "claim": claim_case,
    "contribution": lambda case, *, plan_status, cache: contribution_case(case, plan_status=plan_status),
    "registration": lambda case, *, plan_status, cache: registration_case(case, plan_status=plan_status),
}


def run_case(case: dict, *, plan_status: str, cache: TrialCache) -> dict:
    case_id = case.get("id")
    kind = case.get("kind") or "claim"
    try:
        if kind not in HANDLERS:
            raise UnknownCode(f"未知的案例类型“kind”：{kind}（claim、contribution 或 registration）")
        if case_id is None:
            raise InvalidInput("缺少字段“id”（案例编号）")
        return HANDLERS[kind](case, plan_status=plan_status, cache=cache)
    except CaseError as exc:
        return {"id": case_id, "ok": False, "error": exc.as_dict()}
    except DatabaseError:
        raise  # the database is not ready (not migrated, unreachable): not a case's fault
    except Exception as exc:  # one broken case must not stop the batch; the trace goes to stderr
        log.error("案例 %s 试算出错：\n%s", case_id, traceback.format_exc())
        return {"id": case_id, "ok": False,
                "error": {"code": INTERNAL_ERROR, "message": f"试算程序内部错误：{exc}"}}


def had_internal_error(results: list[dict]) -> bool:
    """A case answered ``internal_error``: a fault of the program, not of the case."""
    return any(not r.get("ok") and r["error"]["code"] == INTERNAL_ERROR for r in results)


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
