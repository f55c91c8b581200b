"""Report services (writes; docs/reports.md §冻结参保率).

``participation_rate_freeze`` records a computed participation rate as the plan year's
official figure (``PlanYear.official_participation_rate``): sanming.md “兜底保障” — the
rate is “computed by the product, and frozen by a policy officer as the official
figure”; the settlement of 兜底 (FLOOR) reads only the frozen figure.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from policies.access import user_can_access
from policies.models import PlanYear

from .selectors import round_cent

FREEZE_PERMISSION = "policies.change_planyear"
"""Freezing writes a plan-year field: the 政策管理员 permission on plan years."""


def participation_rate_freeze(*, plan_year: PlanYear, rate, acting_user) -> PlanYear:
    """Set ``plan_year.official_participation_rate`` to ``rate`` (percent, rounded once to
    0.01 half-up), recorded in the plan year's history with ``acting_user``.

    Raises ``PermissionDenied`` for a user without the change permission on plan years or
    outside the plan year's region, ``ValidationError`` (Chinese, naming the field) for a
    closed plan year or a rate that is missing or outside 0–100 %.
    """
    if acting_user is None or not acting_user.has_perm(FREEZE_PERMISSION) or not user_can_access(
            acting_user, plan_year, "scheme__region"):
        raise PermissionDenied(f"您无权冻结年度方案“{plan_year}”的参保率")
    if rate is None:
        raise ValidationError({"official_participation_rate":
                               "参保率无法计算（基本医保参保人数为 0），不能冻结"})
    try:
        value = round_cent(Decimal(str(rate)))
    except InvalidOperation as exc:
        raise ValidationError({"official_participation_rate": f"参保率“{rate}”不是数字"}) from exc
    if not Decimal("0") <= value <= Decimal("100"):
        raise ValidationError({"official_participation_rate":
                               f"参保率 {value}% 必须在 0%–100% 之间"})
    with transaction.atomic():
        locked = PlanYear.objects.select_for_update().get(pk=plan_year.pk)
        if locked.status == PlanYear.Status.CLOSED:
            raise ValidationError({"official_participation_rate":
                                   f"年度方案“{locked}”已关闭，不能修改官方参保率"})
        locked.official_participation_rate = value
        locked._history_user = acting_user
        locked._change_reason = "冻结参保率"
        locked.save(update_fields=["official_participation_rate"])
    plan_year.official_participation_rate = locked.official_participation_rate
    return locked
