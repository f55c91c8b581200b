"""``{% idle_warning %}`` (templates/admin/base_site.html): the idle-logout countdown of a
logged-in page — accounts/static/accounts/idle.js with the timeout of the settings."""
from django import template
from django.conf import settings
from django.urls import reverse

from accounts.middleware import idle_timeout_seconds

register = template.Library()


@register.inclusion_tag("accounts/idle_warning.html", takes_context=True)
def idle_warning(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    timeout = idle_timeout_seconds()
    if user is None or not user.is_authenticated or timeout <= 0:
        return {"enabled": False}
    return {
        "enabled": True,
        "timeout": timeout,
        # a couple of minutes before, or half the time when the timeout is that short
        "warning": min(settings.SESSION_IDLE_WARNING_SECONDS, timeout // 2),
        "keepalive_url": reverse("accounts:keepalive"),
    }
