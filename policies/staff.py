"""Staff accounts service (docs/access.md): a user, their role group and their regions."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.services import account_mark_demo
from accounts.validators import validators_for_reset
from audit.models import Action
from audit.services import audit_record

from .access import clear_region_cache
from .models import Region, StaffProfile


@transaction.atomic
def staff_user_ensure(*, username: str, password: str, role: str | None, regions,
                      superuser: bool = False, reset_password: bool = False, demo: bool = False,
                      acting_user=None, request=None):
    """Create or update a staff account; idempotent.

    - a new user gets ``password`` (checked by the AUTH_PASSWORD_VALIDATORS);
    - an existing user keeps their password unless ``reset_password``;
    - ``role`` (a group name created by ``roles_sync``) becomes the user's only group;
    - ``regions`` (Region objects) become the regions of the user's StaffProfile;
    - ``demo``: a demo account of ``load_demo`` — one factor, no forced or periodic
      password change (accounts.AccountSecurity.demo_account; README).

    A new account, or a change of its role, regions, superuser status or password, is an
    entry of the 审计日志 (权限修改; inside a command: the command and the OS user;
    ``request``: the user admin's request, for the address).

    Returns ``(user, created)``.
    """
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    before = None if created else account_state(user)
    # resetting to the password the user already has is no change; a reset may restore an
    # earlier password (the reuse rule is about passwords the user chooses)
    password_set = created or (reset_password and not user.check_password(password))
    if password_set:
        validate_password(password, user, password_validators=None if created else validators_for_reset())
        user.set_password(password)
    user.is_staff = True
    user.is_superuser = superuser
    user.is_active = True
    user.save()
    if role is None:
        user.groups.clear()
    else:
        try:
            group = Group.objects.get(name=role)
        except Group.DoesNotExist as exc:
            raise ValidationError(f"角色“{role}”不存在：请先运行 python manage.py sync_roles") from exc
        user.groups.set([group])
    if demo:
        account_mark_demo(user=user, acting_user=acting_user)
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    profile.regions.set([r.pk if isinstance(r, Region) else r for r in regions])
    clear_region_cache(user)
    staff_account_audit(user=user, before=before, password_set=password_set, acting_user=acting_user,
                        request=request)
    return user, created


STATE_LABELS = {"roles": "角色", "regions": "负责统筹区", "superuser": "超级管理员", "staff": "后台登录",
                "active": "启用"}


def staff_account_audit(*, user, before: dict | None, password_set: bool = False, acting_user=None,
                        request=None, other_changes=()) -> None:
    """The 审计日志 entry (权限修改) of an account created (``before`` None) or changed
    (``before``: ``account_state`` read before the change), by the command or the user
    admin alike: 创建账户/修改账户, what changed (``change``: the labels; ``changes``:
    before → after of each), and the role, regions and superuser status after.
    ``other_changes``: labels of other fields changed (the user admin's form: 姓名, 电子邮件…).
    Nothing is written when nothing changed."""
    after = account_state(user)
    if before is not None and not password_set and after == before and not other_changes:
        return
    details = {"operation": "创建账户" if before is None else "修改账户", "account": user.get_username()}
    if before is not None:
        changed = [key for key in STATE_LABELS if before[key] != after[key]]
        details["change"] = [*(STATE_LABELS[key] for key in changed), *(["密码"] if password_set else []),
                             *other_changes]
        if changed:
            details["changes"] = {STATE_LABELS[key]: f"{_state_text(before[key])} → {_state_text(after[key])}"
                                  for key in changed}
    details.update(role="、".join(after["roles"]) or "无", regions=after["regions"] or "无",
                   superuser=after["superuser"])
    audit_record(action=Action.PERMISSION_CHANGE, user=acting_user, request=request, obj=user, details=details)


def _state_text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value) or "无"
    return str(value)


def account_state(user) -> dict:
    """What ``staff_user_ensure`` or the user admin may change of an account (the password
    aside), as stored."""
    profile = StaffProfile.objects.filter(user=user).first()
    return {"roles": sorted(user.groups.values_list("name", flat=True)),
            "regions": sorted(profile.regions.values_list("name", flat=True)) if profile else [],
            "superuser": user.is_superuser, "staff": user.is_staff, "active": user.is_active}
