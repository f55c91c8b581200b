"""Plan-year status transitions (spec README §2: a plan year is draft → active → closed).

- ``draft``: parameters editable by 政策管理员;
- ``active``: still editable by 政策管理员, every change recorded in history; an already
  settled claim is never changed silently (re-settling is an explicit claims action);
- ``closed``: read-only for everyone, superusers included; it cannot be reopened.

Only the forward transitions draft → active and active → closed exist. The admin
shows ``status`` read-only and changes it through actions calling this service.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.models import Action
from audit.services import audit_record

from .access import user_can_access
from .models import PlanYear

ALLOWED = {
    PlanYear.Status.DRAFT: {PlanYear.Status.ACTIVE},
    PlanYear.Status.ACTIVE: {PlanYear.Status.CLOSED},
    PlanYear.Status.CLOSED: set(),
}


def plan_year_set_status(*, plan_year: PlanYear, status: str, acting_user) -> PlanYear:
    """Move ``plan_year`` to ``status``; raises ``ValidationError`` (Chinese) for a
    transition that is not allowed and ``PermissionDenied`` for a user without the
    change permission on plan years or outside the plan year's region."""
    if not acting_user.has_perm("policies.change_planyear") or not user_can_access(
        acting_user, plan_year, "scheme__region"
    ):
        raise PermissionDenied(f"您无权修改年度方案“{plan_year}”的状态")
    with transaction.atomic():
        locked = PlanYear.objects.select_for_update().get(pk=plan_year.pk)
        target = PlanYear.Status(status)
        current = PlanYear.Status(locked.status)
        if target == current:
            return locked
        if target not in ALLOWED[current]:
            raise ValidationError({"status": f"年度方案“{locked}”的状态不能从“{current.label}”"
                                             f"改为“{target.label}”"})
        locked.status = target
        locked._history_user = acting_user
        locked.save(update_fields=["status"])
        audit_record(action=Action.PARAMETER_CHANGE, user=acting_user, obj=locked,
                     details={"operation": "状态变更", "status": f"{current.label} → {target.label}"})
    plan_year.status = locked.status
    return locked
