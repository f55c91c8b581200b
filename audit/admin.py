"""审计日志 in the admin (docs/security.md §审计日志): a read-only list for the 审计员 role
(``audit.view_auditentry``) and superusers — filters by action, date and user, search by
username and object, and 导出 (xlsx or csv of the filtered list, ``audit.export_auditentry``),
itself audited. Nothing here adds, changes or deletes an entry.
"""
from __future__ import annotations

import re
from io import BytesIO

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from listing.paging import EstimatedCountPaginator
from listing.read_only import ReadOnlyAdminMixin

from .models import Action, AuditEntry
from .providers import reads_full_numbers, table_writer
from .services import audit_record, request_filters

EXPORT_PERMISSION = "audit.export_auditentry"
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
DETAIL_LABELS = {
    "operation": "操作", "change": "修改内容", "count": "数量", "objects": "对象", "rows": "行数",
    "file": "文件名", "format": "格式", "locked_out": "已锁定", "job": "任务编号",
    "kind": "任务类型", "which": "文件", "stage": "阶段", "before": "清理此日期之前的记录",
    "deleted": "删除条数", "pruned_through_seq": "已清理至序号", "anchor_hash": "锚点哈希值",
    "roles": "角色与权限数", "result": "结果", "status": "状态", "reason": "原因", "report": "报表",
    "region": "统筹区", "year": "年度", "amount": "金额", "claims": "理赔数", "idle_seconds": "闲置秒数",
    "command": "命令", "os_user": "操作系统用户", "account": "账户", "superuser": "超级管理员",
    "password": "密码", "regions": "负责统筹区", "role": "角色", "changes": "变更",
    "addresses": "IP 地址", "records": "清除的登录失败记录",
}
HEADERS = ["序号", "时间", "用户名", "IP 地址", "操作", "对象类型", "对象编号", "对象", "页面与查询参数", "详情",
           "上一条的哈希值", "哈希值"]


def _text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return "，".join(f"{DETAIL_LABELS.get(k, k)}：{_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return str(value)


REQUEST_KEYS = ("page", "filters")  # shown as the request, not as words
# A search by an ID, phone or bank account number is recorded as typed; on this page only
# the users who read identity numbers in full elsewhere (``providers.reads_full_numbers``:
# the masking rules) read it in full.
NUMBER = re.compile(r"\d{10,}[\dXx]?")


def hide_numbers(text: str) -> str:
    """Long numbers (ID, phone, bank account) with their first 3 and last 4 characters only."""
    return NUMBER.sub(lambda m: m[0][:3] + "*" * (len(m[0]) - 7) + m[0][-4:], text)


def details_text(entry: AuditEntry) -> str:
    """The entry's details in words (the page and its query string are their own column)."""
    shown = {k: v for k, v in entry.details.items() if k not in REQUEST_KEYS}
    return _text(shown) if shown else "—"


def request_text(entry: AuditEntry, *, full: bool) -> str:
    """The page and the query string recorded (filters, search), as the browser sent them;
    long numbers hidden unless ``full``."""
    filters = entry.details.get("filters") or {}
    query = "&".join(f"{k}={'|'.join(v) if isinstance(v, list) else v}" for k, v in filters.items())
    text = entry.details.get("page", "") + (f"?{query}" if query else "")
    return (text if full else hide_numbers(text)) or "—"


def request_column(full: bool):
    """The 页面与查询参数 column for one request (named ``get_data``: technical data)."""
    def get_data(entry):
        return request_text(entry, full=full)
    return admin.display(description="页面与查询参数")(get_data)


def object_type_text(entry: AuditEntry) -> str:
    if not entry.object_type:
        return "—"
    try:
        return str(apps.get_model(entry.object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return entry.object_type


class UsernameFilter(admin.SimpleListFilter):
    """用户名: the site's accounts (a small table), not ``SELECT DISTINCT username`` over
    the whole log; the filtered list reads the index (username, -seq)."""

    title = "用户名"
    parameter_name = "username"

    def lookups(self, request, model_admin):
        names = get_user_model().objects.order_by("username").values_list("username", flat=True)
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(username=value)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["seq", "at", "username", "ip_address", "action", "object_type_name", "object_repr",
                    "get_data", "details_display"]
    list_display_links = ["seq"]
    list_filter = ["action", "at", UsernameFilter]
    # no date_hierarchy (DISTINCT dates over the whole log): the 时间 filter
    paginator = EstimatedCountPaginator
    search_fields = ["username", "object_repr", "=object_id"]
    search_help_text = "按用户名或对象（名称、编号）搜索"
    fields = ["seq", "at", "username", "ip_address", "action", "object_type_name", "object_id",
              "object_repr", "get_data", "details_display", "previous_hash", "hash"]
    readonly_fields = fields
    list_per_page = 100
    empty_value_display = "—"
    show_full_result_count = False
    change_list_template = "admin/audit/auditentry/change_list.html"

    @admin.display(description="对象类型", ordering="object_type")
    def object_type_name(self, entry):
        return object_type_text(entry)

    @admin.display(description="页面与查询参数")
    def get_data(self, entry):  # replaced per request by ``request_column`` (numbers hidden here)
        return request_text(entry, full=False)

    def _per_request(self, request, names):
        cache = request.__dict__.setdefault("_audit_request_column", {})
        if "column" not in cache:  # one callable per request: Django compares them by identity
            cache["column"] = request_column(reads_full_numbers(request.user))
        return [cache["column"] if name == "get_data" else name for name in names]

    def get_list_display(self, request):
        return self._per_request(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._per_request(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._per_request(request, super().get_readonly_fields(request, obj))

    @admin.display(description="详情")
    def details_display(self, entry):
        return details_text(entry)

    def get_actions(self, request):
        return {}

    def has_export_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(EXPORT_PERMISSION)

    # ------------------------------------------------------------------ export

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view), name=name),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_export_permission(request):
            query = request.GET.urlencode()
            extra_context["audit_exports"] = [
                (label, reverse("admin:audit_auditentry_export", args=[fmt]) + (f"?{query}" if query else ""))
                for fmt, label in (("xlsx", "导出 Excel"), ("csv", "导出 CSV"))]
        return super().changelist_view(request, extra_context)

    def export_view(self, request, fmt):
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied("您无权导出审计日志")
        if fmt not in FORMATS:
            raise Http404("没有这种导出格式")
        changelist = self.get_changelist_instance(request)
        entries = list(changelist.get_queryset(request).order_by("seq"))
        full = reads_full_numbers(request.user)
        rows = [[e.seq, timezone.localtime(e.at).replace(tzinfo=None), e.username, e.ip_address,
                 e.get_action_display(), object_type_text(e), e.object_id, e.object_repr, request_text(e, full=full),
                 details_text(e), e.previous_hash, e.hash] for e in entries]
        name = f"审计日志_{timezone.localdate():%Y%m%d}.{fmt}"
        audit_record(action=Action.EXPORT, request=request, obj=AuditEntry,
                     details={"filters": request_filters(request), "rows": len(rows), "file": name})
        buffer = BytesIO()
        table_writer()(buffer, HEADERS, rows, fmt=fmt, title="审计日志")
        response = HttpResponse(buffer.getvalue(), content_type=FORMATS[fmt])
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
