"""The login controls as middleware (config.settings.MIDDLEWARE, after the messages
middleware, in this order; docs/security.md §会话 and §身份鉴别):

1. ``IdleTimeoutMiddleware``: a session without activity for ``SESSION_IDLE_TIMEOUT_MINUTES``
   ends (logout) and the next request lands on the login page with a Chinese message.
   Background requests are not activity: a job page's progress polling (paths ending in
   ``/progress/``) and any request sending ``X-Session-Passive: 1``.
2. ``SecondFactorMiddleware``: a logged-in user who has a confirmed authenticator, or whose
   role requires one, goes to the code page (or the enrolment page) until verified.
3. ``PasswordChangeRequiredMiddleware``: a user whose password was set by an administrator
   or has expired goes to the admin's password change page until they have changed it.
"""
from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .services import has_second_factor, password_change_reason, second_factor_required
from .signals import session_idle_timeout

LAST_ACTIVITY_KEY = "_last_activity"
PASSIVE_HEADER = "HTTP_X_SESSION_PASSIVE"
# the login, logout and second-factor pages, the admin's translation catalogue
OPEN_URL_NAMES = ("admin:login", "admin:logout", "admin:jsi18n", "accounts:otp_verify",
                  "accounts:otp_setup", "accounts:recovery_codes", "accounts:keepalive")
IDLE_MESSAGE = "由于长时间未操作（超过 {minutes} 分钟），您已自动退出登录，请重新登录。"


def idle_timeout_seconds() -> int:
    return int(settings.SESSION_IDLE_TIMEOUT_MINUTES * 60)


def is_passive(request) -> bool:
    """A request the browser sends by itself (progress polling): not user activity."""
    return request.META.get(PASSIVE_HEADER) == "1" or request.path.endswith("/progress/")


def _login_url(request) -> str:
    return f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}"


def _is_open_path(request, *names) -> bool:
    """Pages a user with a pending step may still open: logout, the step's own pages,
    the admin's translation catalogue and static files."""
    path = request.path
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    return path in {reverse(name) for name in (*OPEN_URL_NAMES, *names)}


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            timeout = idle_timeout_seconds()
            if last is not None and timeout > 0 and now - last >= timeout:
                session_idle_timeout.send(sender=self.__class__, request=request, user=user,
                                          idle_seconds=int(now - last))
                logout(request)
                messages.warning(request, IDLE_MESSAGE.format(
                    minutes=f"{settings.SESSION_IDLE_TIMEOUT_MINUTES:g}"))
                return redirect(_login_url(request))
            if last is None or not is_passive(request):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Needs django_otp's OTPMiddleware before it (``request.user.is_verified``)."""

    SESSION_KEY = "_second_factor_state"  # "none": neither needed nor enrolled (cached)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_verified()
                and request.session.get(self.SESSION_KEY) != "none" and not _is_open_path(request)):
            if has_second_factor(user):
                return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.get_full_path()})}")
            if second_factor_required(user):
                return redirect(f"{reverse('accounts:otp_setup')}?{urlencode({'next': request.get_full_path()})}")
            # no device and none required: not asked again in this session (a device is
            # only added by the user, who is then verified; a role change applies at the
            # next login)
            request.session[self.SESSION_KEY] = "none"
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    SESSION_KEY = "_password_checked"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.session.get(self.SESSION_KEY)
                and not _is_open_path(request, "admin:password_change", "admin:password_change_done")):
            reason = password_change_reason(user)
            if reason:
                messages.warning(request, reason)
                return redirect("admin:password_change")
            # checked once per session: changing one's password keeps the session, an
            # administrator's reset ends the user's sessions (Django's session hash)
            request.session[self.SESSION_KEY] = True
        return self.get_response(request)
