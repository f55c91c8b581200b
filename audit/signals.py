"""Logins, logouts and failed logins: Django's auth signals, and — when the ``accounts``
app (two factors, idle sessions) is installed — its own signals, connected by name (it
sits above the audit app in the import layers).

- a failed login records the typed username (never the password) and the client's
  address; a login refused by the django-axes lockout is a failed login too (Django sends
  ``user_login_failed`` after the backend refused), marked 已锁定; a wrong second-factor
  code is a failed login at the 两步验证 stage;
- 登录 is recorded when the password is accepted and again when the second factor is
  (stage 两步验证通过); enrolling an authenticator is an entry of its own;
- a logout after the idle timeout says so (原因：闲置超时);
- Django's own ``createsuperuser`` and ``changepassword`` commands: the account they save
  (``post_save`` of the user model while one of them runs — found on the call stack, so
  ``call_command`` counts too) is recorded as the OS user's 权限修改 (创建超级管理员) or
  认证方式变更 (修改密码), naming the command. Accounts created or changed by the
  project's own commands are recorded where they are saved (``policies.staff``).
"""
from __future__ import annotations

import sys

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.utils.module_loading import import_string

from .models import Action
from .services import audit_command, audit_record

IDLE_FLAG = "audit_idle_seconds"


def on_login(sender, request, user, **kwargs):
    audit_record(action=Action.LOGIN, user=user, request=request)


def on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    idle = getattr(request, IDLE_FLAG, None)
    audit_record(action=Action.LOGOUT, user=user, request=request,
                 details={"reason": "闲置超时", "idle_seconds": idle} if idle is not None else {})


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")[:150]
    details = {}
    if credentials.get("second_factor"):
        details["stage"] = "两步验证"
    if getattr(request, "axes_locked_out", False):
        details["locked_out"] = True
    audit_record(action=Action.LOGIN_FAILED, request=request, username=username, details=details)


def on_second_factor(sender, request, user, device=None, **kwargs):
    audit_record(action=Action.LOGIN, user=user, request=request, details={"stage": "两步验证通过"})


def on_enrolled(sender, request, user, device=None, **kwargs):
    audit_record(action=Action.CREDENTIAL_CHANGE, user=user, request=request,
                 details={"operation": "绑定身份验证器并生成恢复码"})


def on_idle_timeout(sender, request, user, idle_seconds=None, **kwargs):
    setattr(request, IDLE_FLAG, idle_seconds)  # the logout that follows records it


# Django's account commands: (action, operation) of the account they save
AUTH_COMMANDS = {"createsuperuser": (Action.PERMISSION_CHANGE, "创建超级管理员", "命令行创建超级管理员"),
                 "changepassword": (Action.CREDENTIAL_CHANGE, "修改密码", "命令行修改密码")}
AUTH_COMMAND_MODULE = "django.contrib.auth.management.commands."


def running_auth_command() -> str | None:
    """The name of the Django account command on the call stack (``AUTH_COMMANDS``), if any."""
    frame = sys._getframe(1)
    while frame is not None:
        module = type(frame.f_locals.get("self", None)).__module__
        if module.startswith(AUTH_COMMAND_MODULE):
            name = module.removeprefix(AUTH_COMMAND_MODULE)
            if name in AUTH_COMMANDS:
                return name
        frame = frame.f_back
    return None


def on_user_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    command = running_auth_command()
    if command is None:
        return
    action, operation, label = AUTH_COMMANDS[command]
    with audit_command(label):
        audit_record(action=action, obj=instance, details={
            "operation": operation, "account": instance.get_username(), "superuser": instance.is_superuser})


ACCOUNTS_SIGNALS = {"second_factor_verified": on_second_factor, "second_factor_enrolled": on_enrolled,
                    "session_idle_timeout": on_idle_timeout}


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="audit.user_saved")
    if apps.is_installed("accounts"):
        for name, receiver in ACCOUNTS_SIGNALS.items():
            import_string(f"accounts.signals.{name}").connect(receiver, dispatch_uid=f"audit.{name}")
