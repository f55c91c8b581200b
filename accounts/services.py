"""Services and selectors of the login controls (docs/security.md §身份鉴别).

Writes go through the ``account_*`` / ``password_*`` services; the middleware and views
only read through the selectors below and call these.
"""
from __future__ import annotations

import math
from datetime import timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action
from audit.services import audit_record

from .models import AccountSecurity, PasswordHistory

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


# ---- selectors ------------------------------------------------------------------------

def account_security(user) -> AccountSecurity:
    """The user's row; an account seen for the first time starts its password clock now
    (accounts that existed before these controls are not forced to change at once)."""
    state, _ = AccountSecurity.objects.get_or_create(
        user=user, defaults={"password_changed_at": timezone.now()})
    return state


def password_change_reason(user) -> str | None:
    """Why the user must change their password before going on (a Chinese message), or
    None. Demo accounts never must."""
    state = account_security(user)
    if state.demo_account:
        return None
    if state.must_change_password:
        return "为保障账户安全，首次登录（或管理员重设密码后）须先修改密码，修改后才能继续使用系统。"
    max_age = settings.PASSWORD_MAX_AGE_DAYS
    if max_age and state.password_changed_at and \
            timezone.now() - state.password_changed_at > timedelta(days=max_age):
        return f"您的密码已超过 {max_age} 天未修改，已过期：请先修改密码，修改后才能继续使用系统。"
    return None


def second_factor_required(user) -> bool:
    """Whether the user must log in with a second factor although they have none yet:
    a superuser when ``OTP_REQUIRED_FOR_SUPERUSERS``, anyone holding a role (group) named
    in ``OTP_REQUIRED_ROLES``; never a demo account of ``load_demo``."""
    if account_security(user).demo_account:
        return False
    if user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSERS:
        return True
    roles = set(settings.OTP_REQUIRED_ROLES)
    return bool(roles) and user.groups.filter(name__in=roles).exists()


def has_second_factor(user) -> bool:
    """A confirmed authenticator (or recovery codes) exists: the login asks for a code."""
    return next(devices_for_user(user, confirmed=True), None) is not None


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# ---- services -------------------------------------------------------------------------

@transaction.atomic
def password_record_change(*, user, history_size: int) -> None:
    """The user's password (``user.password``, already saved) has just changed: keep its
    hash in the history (the last ``history_size``), restart the expiry clock, and a
    change due at login is done. Called by ``PasswordHistoryValidator.password_changed``
    (Django calls it from ``User.save()`` after ``set_password``)."""
    if not user.pk or not user.has_usable_password():
        return
    PasswordHistory.objects.create(user=user, password=user.password)
    keep = list(PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[:max(history_size, 1)])
    PasswordHistory.objects.filter(user=user).exclude(pk__in=keep).delete()
    AccountSecurity.objects.update_or_create(
        user=user, defaults={"password_changed_at": timezone.now(), "must_change_password": False})


def password_mark_must_change(*, user, acting_user) -> None:
    """An administrator created the account or set its password: the user changes it at
    their next login (not when an administrator set their own password)."""
    if acting_user is not None and acting_user.pk == user.pk:
        return
    state = account_security(user)
    if not state.must_change_password:
        state.must_change_password = True
        state.save(update_fields=["must_change_password"])


def account_mark_demo(*, user, acting_user=None) -> None:
    """A demo account of ``load_demo``: one factor, no forced or periodic change."""
    state = account_security(user)
    if not state.demo_account or state.must_change_password:
        state.demo_account = True
        state.must_change_password = False
        state.save(update_fields=["demo_account", "must_change_password"])


def authenticator_pending(*, user) -> TOTPDevice:
    """The user's authenticator being enrolled (unconfirmed), created on first need: its
    key is shown as a QR code and as text until the user confirms a code from it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


@transaction.atomic
def authenticator_confirm(*, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the enrolment with a code of the new authenticator. Returns the new
    recovery codes (shown once), or None when the code is wrong (the device stays
    unconfirmed). Any older authenticator and recovery codes of the user are replaced."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_replace(user=device.user)


@transaction.atomic
def recovery_codes_replace(*, user) -> list[str]:
    """New single-use recovery codes for the user (the old ones stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def second_factor_reset(*, user, acting_user) -> None:
    """Delete the user's authenticator and recovery codes (a lost phone): a user whose
    role requires two-step verification enrols again at the next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def account_unlock(*, username: str, acting_user, request=None) -> int:
    """Lift django-axes' lockout of the account ``username`` from every address: its
    failure records are removed through axes' own ``reset`` (the user may log in at once,
    with five tries again), and the audit log records who unlocked which account from
    which addresses (权限修改, 操作：解除锁定). Returns the number of records removed."""
    if not username:
        raise ValueError("account_unlock needs a username: axes' reset without one removes every record")
    addresses = sorted({str(ip) for ip in AccessAttempt.objects.filter(username=username)
                        .values_list("ip_address", flat=True) if ip})
    removed = axes_reset(username=username)
    account = get_user_model().objects.filter(username=username).first()
    audit_record(action=Action.PERMISSION_CHANGE, user=acting_user, request=request,
                 obj=account if account is not None else username,
                 details={"operation": "解除锁定", "account": username, "addresses": addresses,
                          "records": removed})
    return removed


def code_wait_seconds(user) -> int:
    """Seconds before the user's authenticator accepts a code again: django-otp doubles
    the wait after each wrong code (1, 2, 4 … s), across logins."""
    wait = 0
    for device in TOTPDevice.objects.filter(user=user):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            wait = max(wait, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    return wait
