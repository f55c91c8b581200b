"""Logins, logouts and failed logins (Django's auth signals; django-axes sends no other).

A failed login records the typed username (never the password) and the client's address;
a login refused by the django-axes lockout is a failed login too (Django sends
``user_login_failed`` after the backend refused).
"""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from .models import Action
from .services import audit_record


def on_login(sender, request, user, **kwargs):
    audit_record(action=Action.LOGIN, user=user, request=request)


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=Action.LOGOUT, user=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")[:150]
    locked = getattr(request, "axes_locked_out", False)
    audit_record(action=Action.LOGIN_FAILED, request=request, username=username,
                 details={"locked_out": True} if locked else {})


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
