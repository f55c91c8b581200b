"""The second-factor pages (Chinese, inside the admin layout) and the session keep-alive.

- ``otp_verify``: after the password, the 6-digit code of the authenticator app (or one
  recovery code). A wrong code is a login failure for django-axes (``user_login_failed``):
  the lockout after ``AXES_FAILURE_LIMIT`` failures ends the half-open session too.
  django-otp also slows down repeated wrong codes on the device itself (throttling),
  across logins.
- ``otp_setup``: enrolment — QR code (SVG, drawn here) and the key as text, confirmed by
  a code from the app; then ``recovery_codes`` shows the 10 single-use codes once.
- ``keepalive``: the idle warning's 继续使用 button (counts as activity).
"""
from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from .services import (
    authenticator_confirm,
    authenticator_pending,
    code_wait_seconds,
    has_authenticator,
    has_second_factor,
    second_factor_required,
)
from .signals import second_factor_enrolled, second_factor_verified

RECOVERY_SESSION_KEY = "_recovery_codes"
WRONG_CODE = "验证码不正确或已过期：请输入身份验证器当前显示的 6 位数字（或一个未用过的恢复码）。"


def _with_wait(message, user):
    wait = code_wait_seconds(user)
    return f"{message}连续输错后须稍候：请 {wait} 秒后再输入。" if wait > 0 else message


def _next_url(request, default="admin:index"):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return reverse(default)


def _context(request, title, **extra):
    return {**admin.site.each_context(request), "title": title, "is_nav_sidebar_enabled": False,
            "next": _next_url(request), **extra}


def _clean_token(value) -> str:
    return "".join(str(value or "").split()).lower()


@never_cache
@login_required
def otp_verify(request):
    user = request.user
    if user.is_verified() or not has_second_factor(user):
        return redirect(_next_url(request))
    error = None
    if request.method == "POST":
        token = _clean_token(request.POST.get("otp_token"))
        device = match_token(user, token) if token else None
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            second_factor_verified.send(sender=otp_verify, request=request, user=user, device=device)
            return redirect(_next_url(request))
        user_login_failed.send(sender=otp_verify, request=request,
                               credentials={"username": user.get_username(), "second_factor": True})
        if getattr(request, "axes_locked_out", False):
            logout(request)  # the lockout page follows (AxesMiddleware)
        error = _with_wait(WRONG_CODE, user)
    return render(request, "accounts/otp_verify.html",
                  _context(request, "两步验证", error=error), status=200)


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def _grouped(key: str) -> str:
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@never_cache
@login_required
def otp_setup(request):
    user = request.user
    if has_authenticator(user) and not user.is_verified():
        return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': _next_url(request)})}")
    device = authenticator_pending(user=user)
    error = None
    if request.method == "POST":
        codes = authenticator_confirm(device=device, token=_clean_token(request.POST.get("otp_token")))
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            request.session.cycle_key()
            request.session[RECOVERY_SESSION_KEY] = codes
            second_factor_enrolled.send(sender=otp_setup, request=request, user=user, device=device)
            return redirect(f"{reverse('accounts:recovery_codes')}?{urlencode({'next': _next_url(request)})}")
        error = _with_wait("验证码不正确：请确认手机时间准确，输入身份验证器中本系统当前显示的 6 位数字。", user)
    key = b32encode(device.bin_key).decode()
    return render(request, "accounts/otp_setup.html", _context(
        request, "启用两步验证", error=error, qr_svg=mark_safe(_qr_svg(device.config_url)),  # noqa: S308 (our own SVG)
        secret=_grouped(key), required=second_factor_required(user),
        replacing=has_authenticator(user)))


@never_cache
@login_required
def recovery_codes(request):
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    if not codes:
        return redirect(_next_url(request))
    return render(request, "accounts/recovery_codes.html", _context(request, "恢复码", codes=codes))


@require_POST
@login_required
def keepalive(request):
    return JsonResponse({"ok": True})
