"""Error pages in Chinese inside the admin layout (templates/403.html, 404.html, 500.html,
403_csrf.html; docs/access.md §错误页).

Django's default 404/500/CSRF views already render those templates; only the 403 view is
ours: it shows the refusal's own message when it is a Chinese sentence (our services and
admins raise ``PermissionDenied("该记录不属于您负责的统筹区")``) and the generic Chinese text
otherwise (Django's bare ``PermissionDenied`` has no message, third-party ones are English).
"""
from __future__ import annotations

import re

from django.http import HttpResponseForbidden
from django.template import loader

_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def permission_denied(request, exception):
    message = str(exception or "")
    reason = message if _CHINESE.search(message) else ""
    body = loader.get_template("403.html").render({"reason": reason}, request)
    return HttpResponseForbidden(body)
