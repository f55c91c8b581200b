"""The login records of django-axes in the admin (登录记录与锁定; docs/security.md
§登录失败处理), replacing axes' own pages: 登录失败记录, 登录日志 and 登录失败日志, read-only
for the superuser — no add, change or delete, no delete action (等保三级: login records
are audit records) — in Chinese, times local (2026-12-05 13:22), and no request data (axes
keeps the posted form, csrf token included, in ``get_data`` / ``post_data``: not shown).
登录失败记录 has the action 解除锁定 (``accounts.services.account_unlock``, audited).
"""
from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone

from listing.read_only import ReadOnlyAdminMixin

from .services import account_unlock

TIME_FORMAT = "%Y-%m-%d %H:%M"


def local_time(value) -> str:
    """A stored (UTC) time as the product shows times: local, 2026-12-05 13:22; — for none."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime(TIME_FORMAT)


def locked_until(attempt: AccessAttempt):
    """When the lockout of this record ends, or None when it does not lock (fewer failures
    than the limit, or its cool-off already over)."""
    cool_off = get_cool_off()
    if attempt.failures_since_start < settings.AXES_FAILURE_LIMIT or cool_off is None:
        return None
    until = attempt.attempt_time + cool_off
    return until if until > timezone.now() else None


def record_title(record) -> str:
    """``jingban（10.0.0.1，2026-12-05 13:22）``: a record of any of the three models (each
    has ``username``, ``ip_address`` and ``attempt_time``)."""
    return f"{record.username or '（无用户名）'}（{record.ip_address or '未知地址'}，{local_time(record.attempt_time)}）"


def install_titles() -> None:
    """A record's name on its page, breadcrumbs and history (``str``) in Chinese and local
    time: axes' own read "Attempted Access: 2026-12-05 05:22:50.493412+00:00"."""
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.__str__ = record_title


class LockedFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "已锁定"), ("no", "未锁定")]

    def queryset(self, request, queryset):
        cool_off = get_cool_off()
        locked = {"failures_since_start__gte": settings.AXES_FAILURE_LIMIT}
        if cool_off is not None:
            locked["attempt_time__gt"] = timezone.now() - cool_off
        if self.value() == "yes":
            return queryset.filter(**locked)
        if self.value() == "no":
            return queryset.exclude(**locked)
        return queryset


class ReadOnlyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: no add, change or delete, and no action but the ones a subclass names."""

    empty_value_display = "—"
    search_fields = ["username", "ip_address"]
    search_help_text = "按用户名或 IP 地址搜索"
    list_per_page = 100

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="用户名", ordering="username")
    def account(self, obj):
        return obj.username or "—"

    @admin.display(description="IP 地址", ordering="ip_address")
    def address(self, obj):
        return obj.ip_address or "—"


class AccessAttemptAdmin(ReadOnlyRecordAdmin):
    list_display = ["account", "address", "last_failure", "failures", "status", "lock_end", "user_agent"]
    list_display_links = ["account"]
    list_filter = [LockedFilter]
    fields = ["account", "address", "last_failure", "failures", "status", "lock_end", "user_agent",
              "path_info"]
    readonly_fields = fields
    actions = ["unlock"]

    @admin.display(description="最近失败时间", ordering="attempt_time")
    def last_failure(self, obj):
        return local_time(obj.attempt_time)

    @admin.display(description="连续失败次数", ordering="failures_since_start")
    def failures(self, obj):
        return obj.failures_since_start

    @admin.display(description="状态")
    def status(self, obj):
        if locked_until(obj) is not None:
            return "已锁定"
        if obj.failures_since_start >= settings.AXES_FAILURE_LIMIT:
            return "锁定已到期"
        return f"未锁定（剩余 {settings.AXES_FAILURE_LIMIT - obj.failures_since_start} 次尝试）"

    @admin.display(description="锁定至")
    def lock_end(self, obj):
        return local_time(locked_until(obj))

    def has_unlock_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    @admin.action(description="解除锁定（清除所选账户的登录失败记录，可立即重新登录）", permissions=["unlock"])
    def unlock(self, request, queryset):
        usernames = list(queryset.values_list("username", flat=True))
        names = sorted({name for name in usernames if name})
        for name in names:
            account_unlock(username=name, acting_user=request.user, request=request)
        if names:
            self.message_user(request, f"已解除 {len(names)} 个账户的登录锁定：{'、'.join(names)}", messages.SUCCESS)
        if not all(usernames):
            self.message_user(request, "没有用户名的记录不锁定任何账户，未作处理", messages.WARNING)


class AccessLogAdmin(ReadOnlyRecordAdmin):
    list_display = ["account", "address", "login_time", "logout", "user_agent"]
    list_display_links = ["account"]
    list_filter = ["attempt_time"]
    fields = ["account", "address", "login_time", "logout", "user_agent", "path_info"]
    readonly_fields = fields

    @admin.display(description="登录时间", ordering="attempt_time")
    def login_time(self, obj):
        return local_time(obj.attempt_time)

    @admin.display(description="退出时间", ordering="logout_time")
    def logout(self, obj):
        return local_time(obj.logout_time)


class AccessFailureLogAdmin(ReadOnlyRecordAdmin):
    list_display = ["account", "address", "failure_time", "locked", "user_agent"]
    list_display_links = ["account"]
    list_filter = ["attempt_time", "locked_out"]
    fields = ["account", "address", "failure_time", "locked", "user_agent", "path_info"]
    readonly_fields = fields

    @admin.display(description="时间", ordering="attempt_time")
    def failure_time(self, obj):
        return local_time(obj.attempt_time)

    @admin.display(description="是否锁定", ordering="locked_out")
    def locked(self, obj):
        return "是" if obj.locked_out else "否"


def register(site=admin.site) -> None:
    """Replace django-axes' own pages by these (accounts sits after axes in INSTALLED_APPS)."""
    for model, model_admin in ((AccessAttempt, AccessAttemptAdmin), (AccessLog, AccessLogAdmin),
                               (AccessFailureLog, AccessFailureLogAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
