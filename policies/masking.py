"""Masking of personal data — 证件号码, 联系电话, 银行账号, 出生日期, 姓名 — by role, as the
``MaskingRule`` rows say (docs/access.md §脱敏; 个人信息保护法 §28): each role sees each
field in full, partly (first/last characters kept) or not at all; ``rule_for`` resolves a
user's rule (superusers: full; no row: ``policies.view_full_identity`` → full, else the
partial defaults below). The rows ``roles_sync`` creates keep the masks that were the
code's rule before they were rows:

- an identity-document number keeps its first 6 and last 4 characters
  (``500231199001011234`` → ``500231********1234``: the 行政区划 and the last 4);
- a phone number keeps its first 3 and last 4 (``13800001234`` → ``138****1234``,
  the usual mobile-number mask — first 6 + last 4 would show 10 of 11 digits);
- whatever the rule, at least ``max(4, ⌈n/3⌉)`` characters are hidden: when the value
  is too short the kept head is shortened first, then the tail
  (a 10-character 出生医学证明 number ``P440012345`` → ``P4****2345``);
- one ``*`` per hidden character, so the length stays visible; empty values stay empty.

- a birth date is shown by 只读/监管 as its year only (it rebuilds the 8 hidden digits of
  an 18-digit ID number);
- a name is shown in full to every role (staff need names to work); a bureau may set a
  role to 部分遮盖, which keeps the surname (``mask_name``: 张三 → 张*, 欧阳娜娜 → 欧阳**), or
  完全隐藏.

Where Django itself prints a person (``Person.__str__``: breadcrumbs, page titles, links
to a related person, select options, autocomplete results, messages) there is no request
at hand: ``shown_name(name)`` masks the name under the rule of the user of the current
request, which ``MaskingViewerMiddleware`` (or ``viewing_as(user)``) makes known; outside
a request (commands, workers) it is the name itself.

For admins: ``masked_id(request_or_user, value)``, ``masked_phone(...)``,
``masked_bank_account(...)``, ``masked_birth_date(...)``, ``masked_name(...)`` (or
``mask_for(user, field, value)``) in
``list_display`` callables or templates, or ``MaskedIdentityAdminMixin`` which does it
for the declared fields on the changelist and on the change page.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.http import HttpRequest

from audit.models import Action
from audit.services import audit_record, request_filters
from sheets.bulk_sql import PreparedValues

FULL_IDENTITY_PERMISSION = "policies.view_full_identity"
MASK_CHAR = "*"


def mask_value(value, *, head: int = 6, tail: int = 4, min_hidden: int = 4) -> str:
    """Pure masking function (no permission check)."""
    if value is None:
        return ""
    text = str(value).strip()
    n = len(text)
    if n == 0:
        return ""
    must_hide = max(min_hidden, -(-n // 3))
    if n <= must_hide:
        return MASK_CHAR * n
    head, tail = min(head, n), min(tail, n)
    while n - head - tail < must_hide:
        if head > 0:
            head -= 1
        else:
            tail -= 1
    return text[:head] + MASK_CHAR * (n - head - tail) + text[n - tail:]


def mask_id_number(value) -> str:
    """身份证号（及其他证件号码）：前 6 位 + 后 4 位。"""
    return mask_value(value, head=6, tail=4)


def mask_phone(value) -> str:
    """电话号码：前 3 位 + 后 4 位。"""
    return mask_value(value, head=3, tail=4)


def mask_name(value, *, head: int = 1, tail: int = 0) -> str:
    """姓名：the surname — the first ``head`` characters (at least 1), one more for a name
    of four or more characters (a 复姓: ``欧阳娜娜`` → ``欧阳**``) — and the last ``tail``;
    at least half of the characters are hidden (``张三`` → ``张*``, ``张三丰`` → ``张**``)."""
    text = "" if value is None else str(value).strip()
    n = len(text)
    if n == 0:
        return ""
    head = max(head, 1) + (1 if n >= 4 else 0)
    return mask_value(text, head=head, tail=tail, min_hidden=-(-n // 2))


def _user(request_or_user):
    return getattr(request_or_user, "user", request_or_user)


FULL, PARTIAL, HIDDEN = "full", "partial", "hidden"
REVEALING = {HIDDEN: 0, PARTIAL: 1, FULL: 2}
# Used only when no MaskingRule row applies (a user with no role, before roles_sync):
# the mask a user without ``view_full_identity`` gets (the rows' defaults, docs/access.md).
FALLBACK = {"document_number": (PARTIAL, 6, 4), "phone": (PARTIAL, 3, 4), "bank_account": (PARTIAL, 6, 4),
            "birth_date": (FULL, 0, 0), "name": (FULL, 0, 0)}
HIDDEN_TEXT = "（已隐藏）"


def _rule_rows(user_id):
    """The user's roles' rows and the rows for every role (no group) in one statement,
    each kind in the model's order (group name, field) as two statements read them."""
    from django.contrib.auth.models import Group

    from .models import MaskingRule

    return (MaskingRule.objects.filter(Q(group__in=Group.objects.filter(user=user_id)) | Q(group__isnull=True))
            .values_list("group_id", "field", "mode", "keep_head", "keep_tail"))


# read on the first masked value of each staff request: compiled once per process on
# PostgreSQL (sheets.bulk_sql.PreparedValues), 0.15 ms a call instead of 1.0 ms
_RULE_ROWS = PreparedValues(_rule_rows)


def rule_for(request_or_user, field: str) -> tuple[str, int, int]:
    """(mode, keep_head, keep_tail) of ``field`` for the user (``MaskingRule`` rows; see
    its docstring), memoised on the user object for the request."""
    user = _user(request_or_user)
    if user is None or not user.is_active:
        return (HIDDEN, 0, 0)
    if user.is_superuser:
        return (FULL, 0, 0)
    rules = getattr(user, "_masking_rules", None)
    if rules is None:
        rows = _RULE_ROWS.rows(user.pk)
        rules = {}
        for _group, code, mode, head, tail in (row for row in rows if row[0] is not None):
            # the most revealing of the user's roles
            if code not in rules or REVEALING[mode] > REVEALING[rules[code][0]] or (
                    mode == rules[code][0] == PARTIAL and head + tail > sum(rules[code][1:])):
                rules[code] = (mode, head, tail)
        if user.has_perm(FULL_IDENTITY_PERMISSION):  # granted directly: full where no role row says
            rules.update({code: (FULL, 0, 0) for code in FALLBACK if code not in rules})
        for _group, code, mode, head, tail in (row for row in rows if row[0] is None):
            rules.setdefault(code, (mode, head, tail))
        user._masking_rules = rules
    return rules.get(field) or FALLBACK.get(field, (FULL, 0, 0))


def shows_full(request_or_user, field: str) -> bool:
    return rule_for(request_or_user, field)[0] == FULL


def can_view_full_identity(request_or_user) -> bool:
    """Whether the user sees identity-document numbers in full."""
    return shows_full(request_or_user, "document_number")


def mask_for(request_or_user, field: str, value):
    """``value`` (a number, a date …) as the user may see it under ``field``'s rule: the
    value itself when shown in full (a date stays a date in an export), else text."""
    if value in (None, ""):
        return ""
    mode, head, tail = rule_for(request_or_user, field)
    if mode == FULL:
        if field == "document_number":
            audit_full_view(request_or_user)
        return value
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if mode == HIDDEN:
        return HIDDEN_TEXT
    if field == "name":
        return mask_name(text, head=head, tail=tail)
    return mask_value(text, head=head, tail=tail)


def mask_for_user_or_system(user, field: str, value):
    """``mask_for`` for code that may run as a user or as the system: ``user`` None (a
    command without ``--user``, a system job) sees the value in full."""
    return value if user is None else mask_for(user, field, value)


# --------------------------------------------------------------------------- the viewer

_viewer: ContextVar = ContextVar("masking_viewer", default=None)


@contextmanager
def viewing_as(request_or_user):
    """Within the block, ``shown_name`` masks names under ``request_or_user``'s rule."""
    token = _viewer.set(request_or_user)
    try:
        yield
    finally:
        _viewer.reset(token)


class MaskingViewerMiddleware:
    """Makes the request's user the viewer of ``shown_name`` while the response is made
    (the template of a ``TemplateResponse`` is rendered inside; after
    ``AuthenticationMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with viewing_as(request):
            return self.get_response(request)


def shown_name(name):
    """A person's name as the current viewer may see it (``viewing_as``; no viewer: the
    name itself). For ``__str__`` and messages that have no request at hand."""
    viewer = _viewer.get()
    return name if viewer is None else mask_for(viewer, "name", name)


def audit_full_view(request, obj=None) -> None:
    """审计日志: a page shows ``request.user`` unmasked numbers — one entry per page view
    (the first full number shown records it; ``obj``: the page's object, if any). Only
    for requests (an export passes a user and is audited as an export)."""
    if (isinstance(request, HttpRequest) and not getattr(request, "audited_full_view", False)
            and can_view_full_identity(request)):
        request.audited_full_view = True
        audit_record(action=Action.VIEW_FULL_ID, request=request, obj=obj,
                     details={"page": request.path, "filters": request_filters(request)})


def _masks(field: str):
    """Name on a ``masked_*`` function the rule field it masks (``fn.field``): the job
    pages ask whether a viewer reads a sheet's masked columns in full."""

    def mark(function):
        function.field = field
        return function

    return mark


@_masks("document_number")
def masked_id(request_or_user, value) -> str:
    """The ID number as ``request.user`` may see it (full, or masked)."""
    return mask_for(request_or_user, "document_number", value)


@_masks("phone")
def masked_phone(request_or_user, value) -> str:
    """The phone number as ``request.user`` may see it (full, or masked)."""
    return mask_for(request_or_user, "phone", value)


@_masks("bank_account")
def masked_bank_account(request_or_user, value) -> str:
    """The bank account number as ``request.user`` may see it."""
    return mask_for(request_or_user, "bank_account", value)


@_masks("birth_date")
def masked_birth_date(request_or_user, value) -> str:
    """The birth date as ``request.user`` may see it (it rebuilds the middle of an ID
    number, so a role that sees the number masked should not see it in full)."""
    return mask_for(request_or_user, "birth_date", value)


@_masks("name")
def masked_name(request_or_user, value) -> str:
    """A person's name as ``request.user`` may see it (full for every role by default)."""
    return mask_for(request_or_user, "name", value)


def masked_column(request, field_name: str, kind: str = "document_number", description: str | None = None):
    """A ``list_display`` / ``readonly_fields`` callable showing ``obj.<field_name>``
    (a field, or a path such as ``person__name``) masked for ``request.user`` under the
    rule of ``kind`` (a ``MaskingRule.Field``), sorted by that field. Built per request
    (thread-safe: the request is bound in the closure, not stored on the shared
    ModelAdmin)."""

    def column(obj):
        value = obj
        for part in field_name.split("__"):
            value = getattr(value, part, None)
        return mask_for(request, kind, value)

    column.__name__ = f"{field_name}_masked"
    if description is None:
        description = field_name
    return admin.display(description=description, ordering=field_name)(column)


SEARCH_PREFIXES = "=^@"


def admin_masked_fields(model, admin_site) -> dict[str, str]:
    """The masked fields of ``model`` as its admin on ``admin_site`` declares them."""
    model_admin = admin_site._registry.get(model)
    return dict(getattr(model_admin, "masked_fields", None) or {})


def path_masked_kind(model, path: str, admin_site, own: dict | None = None) -> str | None:
    """The rule field (``MaskingRule.Field``) of the first masked field the ORM ``path``
    from ``model`` (a filter lookup or a search field, with or without a search prefix or
    transforms) names on its way, e.g. ``document_number`` for
    ``person__document_number__startswith`` from a registration; None when it reaches
    none. ``own``: the masked fields of ``model`` when its admin is not (yet) registered
    on ``admin_site``."""
    masked = dict(own or {}) or admin_masked_fields(model, admin_site)
    for part in path.lstrip(SEARCH_PREFIXES).split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if field.name in masked:
            return masked[field.name]
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
        masked = admin_masked_fields(model, admin_site)
    return None


def path_reaches_masked(model, path: str, admin_site, own: dict | None = None) -> bool:
    """Whether the ORM ``path`` from ``model`` names a masked field (``path_masked_kind``)."""
    return path_masked_kind(model, path, admin_site, own) is not None


# A number is found by the whole of it only, whoever searches (a part of a number is no
# way to find a person). A name is searched by a part as usual, except by a user who sees
# names masked: for them too only the whole name matches.
SEARCHED_WHOLE_BY_EVERYONE = {"document_number", "phone", "bank_account", "birth_date"}


class MaskedLookupsMixin:
    """Admin mixin (on every project admin through ``policies.admin.HistoryAdmin``): a
    masked value cannot be recovered through the changelist.

    - a filter lookup in the URL on a masked field (``?document_number__startswith=1404``,
      ``?person__phone__contains=``, any lookup, any path) is refused for a user who sees
      that field masked (Django's ``lookup_allowed``: the changelist answers 400);
    - a search field that reaches a masked number matches the whole value only (``=`` is
      put in front, for every user): searching a part of a number finds nothing; one that
      reaches a name does so for the users who see names masked.
    """

    masked_fields: dict[str, str] = {}

    def _masked_kind(self, path: str) -> str | None:
        return path_masked_kind(self.model, path, self.admin_site, own=self.masked_fields)

    def _reaches_masked(self, path: str) -> bool:
        return self._masked_kind(path) is not None

    def lookup_allowed(self, lookup, value, request=None):
        kind = self._masked_kind(lookup)
        if request is not None and kind is not None and not shows_full(request, kind):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = []
        for name in super().get_search_fields(request):
            kind = self._masked_kind(name)
            whole = kind is not None and (kind in SEARCHED_WHOLE_BY_EVERYONE or not shows_full(request, kind))
            fields.append(f"={name.lstrip(SEARCH_PREFIXES)}" if whole else name)
        return fields


class MaskedIdentityAdminMixin(MaskedLookupsMixin):
    """Masks the declared fields (field name → ``MaskingRule.Field``) for the users whose
    rule does not show them in full::

        class PersonAdmin(MaskedIdentityAdminMixin, RegionScopedAdminMixin, SimpleHistoryAdmin):
            masked_fields = {"document_number": "document_number", "phone": "phone"}
            list_display = ["name", "document_number", "phone"]

    For such users the changelist shows masked values, the change page (and a history
    version's page) shows the masked value read-only instead of the input, and the
    simple-history change list shows masked old/new values: the full value never
    reaches the browser. The add page keeps the inputs: entering a new person needs
    them. Searching by a full number still works (``search_fields``, exact match only);
    filtering on a masked field is refused (``MaskedLookupsMixin``).
    """

    def _masked_now(self, request) -> dict[str, str]:
        """The declared fields ``request.user`` sees masked (field name → rule field)."""
        return {name: kind for name, kind in self.masked_fields.items() if not shows_full(request, kind)}

    def _masking_needed(self, request):
        return bool(self._masked_now(request))

    # 审计日志: a list, page or history of these rows shown to a user who reads the
    # numbers in full is one 查看完整证件号 entry (``audit_full_view``)
    def _shows_full_numbers(self, request, response) -> bool:
        return ("document_number" in self.masked_fields.values() and can_view_full_identity(request)
                and getattr(response, "status_code", None) == 200)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self._shows_full_numbers(request, response):
            audit_full_view(request, self.model)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self._shows_full_numbers(request, response):
            audit_full_view(request, self.get_object(request, unquote(object_id)) or self.model)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if self._shows_full_numbers(request, response):
            audit_full_view(request, self.get_object(request, unquote(object_id)) or self.model)
        return response

    def _masked_callable(self, request, name):
        # One callable per (admin, field) and request: Django compares readonly
        # callables by identity between get_fields() and get_form().
        cache = request.__dict__.setdefault("_masked_columns", {})
        key = (id(self), name)
        if key not in cache:
            field = self.model._meta.get_field(name)
            cache[key] = masked_column(request, name, self.masked_fields[name],
                                       str(field.verbose_name))
        return cache[key]

    def _replace_masked(self, request, names):
        masked = self._masked_now(request)
        return [self._masked_callable(request, n) if isinstance(n, str) and n in masked else n for n in names]

    def get_list_display(self, request):
        names = super().get_list_display(request)
        return self._replace_masked(request, names) if self._masking_needed(request) else names

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not links or not self._masking_needed(request):
            return links
        columns = {getattr(c, "__name__", None): c for c in list_display if callable(c)}
        masked = self._masked_now(request)
        return [columns.get(f"{n}_masked", n) if isinstance(n, str) and n in masked else n for n in links]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is not None and self._masking_needed(request):
            exclude += [n for n in self._masked_now(request) if n not in exclude]
        return exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and self._masking_needed(request):
            masked = self._masked_now(request)
            readonly = [n for n in readonly if n not in masked]
            readonly += [self._masked_callable(request, n) for n in masked]
        return readonly

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and self._masking_needed(request) and self.fields:
            return self._replace_masked(request, fields)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self._masking_needed(request) or not self.fieldsets:
            return fieldsets
        result = []
        for title, options in fieldsets:
            options = dict(options)
            options["fields"] = [
                tuple(self._replace_masked(request, f)) if isinstance(f, (list, tuple))
                else self._replace_masked(request, [f])[0]
                for f in options.get("fields", ())
            ]
            result.append((title, options))
        return result

    def get_historical_record_context_helper(self, request, historical_record):
        """simple-history: mask the old/new values of the masked fields in the history."""
        helper = super().get_historical_record_context_helper(request, historical_record)
        if not self._masking_needed(request):
            return helper
        masked, prepare = self._masked_now(request), helper.prepare_delta_change_value

        def prepare_masked(change, value):
            if change.field in masked:
                return mask_for(request, masked[change.field], value)
            return prepare(change, value)

        helper.prepare_delta_change_value = prepare_masked
        return helper
