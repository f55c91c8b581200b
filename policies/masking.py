"""Masking of 身份证号 and phone numbers for staff without ``policies.view_full_identity``.

Rule (docs/access.md §脱敏):

- an identity-document number keeps its first 6 and last 4 characters
  (``500231199001011234`` → ``500231********1234``: the 行政区划 and the last 4);
- a phone number keeps its first 3 and last 4 (``13800001234`` → ``138****1234``,
  the usual mobile-number mask — first 6 + last 4 would show 10 of 11 digits);
- whatever the rule, at least ``max(4, ⌈n/3⌉)`` characters are hidden: when the value
  is too short the kept head is shortened first, then the tail
  (a 10-character 出生医学证明 number ``P440012345`` → ``P4****2345``);
- one ``*`` per hidden character, so the length stays visible; empty values stay empty.

Who sees the full value: users holding ``policies.view_full_identity`` (defined on
``StaffProfile.Meta.permissions``; roles 经办员 and 审核员 have it) and superusers.

For admins: ``masked_id(request_or_user, value)`` and ``masked_phone(...)`` in
``list_display`` callables or templates, or ``MaskedIdentityAdminMixin`` which does it
for the declared fields on the changelist and on the change page.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest

from audit.models import Action
from audit.services import audit_record, request_filters

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


def _user(request_or_user):
    return getattr(request_or_user, "user", request_or_user)


def can_view_full_identity(request_or_user) -> bool:
    user = _user(request_or_user)
    return bool(user is not None and user.is_active and user.has_perm(FULL_IDENTITY_PERMISSION))


def audit_full_view(request, obj=None) -> None:
    """审计日志: a page shows ``request.user`` unmasked numbers — one entry per page view
    (the first full number shown records it; ``obj``: the page's object, if any). Only
    for requests (an export passes a user and is audited as an export)."""
    if (isinstance(request, HttpRequest) and not getattr(request, "audited_full_view", False)
            and can_view_full_identity(request)):
        request.audited_full_view = True
        audit_record(action=Action.VIEW_FULL_ID, request=request, obj=obj,
                     details={"page": request.path, "filters": request_filters(request)})


def masked_id(request_or_user, value) -> str:
    """The ID number as ``request.user`` may see it (full, or masked)."""
    if value in (None, ""):
        return ""
    if can_view_full_identity(request_or_user):
        audit_full_view(request_or_user)
        return str(value)
    return mask_id_number(value)


def masked_phone(request_or_user, value) -> str:
    """The phone number as ``request.user`` may see it (full, or masked)."""
    if value in (None, ""):
        return ""
    if can_view_full_identity(request_or_user):
        audit_full_view(request_or_user)
        return str(value)
    return mask_phone(value)


MASKERS = {"id": masked_id, "phone": masked_phone}
PURE_MASKERS = {"id": mask_id_number, "phone": mask_phone}


def masked_column(request, field_name: str, kind: str = "id", description: str | None = None):
    """A ``list_display`` / ``readonly_fields`` callable showing ``obj.<field_name>``
    masked for ``request.user``. Built per request (thread-safe: the request is bound
    in the closure, not stored on the shared ModelAdmin)."""
    masker = MASKERS[kind]

    def column(obj):
        return masker(request, getattr(obj, field_name, None))

    column.__name__ = f"{field_name}_masked"
    if description is None:
        description = field_name
    return admin.display(description=description, ordering=field_name)(column)


SEARCH_PREFIXES = "=^@"


def admin_masked_fields(model, admin_site) -> dict[str, str]:
    """The masked fields of ``model`` as its admin on ``admin_site`` declares them."""
    model_admin = admin_site._registry.get(model)
    return dict(getattr(model_admin, "masked_fields", None) or {})


def path_reaches_masked(model, path: str, admin_site, own: dict | None = None) -> bool:
    """Whether the ORM ``path`` from ``model`` (a filter lookup or a search field, with or
    without a search prefix or transforms) names a masked field on its way, e.g.
    ``person__document_number__startswith`` from a registration. ``own``: the masked
    fields of ``model`` when its admin is not (yet) registered on ``admin_site``."""
    masked = dict(own or {}) or admin_masked_fields(model, admin_site)
    for part in path.lstrip(SEARCH_PREFIXES).split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.name in masked:
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
        masked = admin_masked_fields(model, admin_site)
    return False


class MaskedLookupsMixin:
    """Admin mixin (on every project admin through ``policies.admin.HistoryAdmin``): a
    masked value cannot be recovered through the changelist.

    - a filter lookup in the URL on a masked field (``?document_number__startswith=1404``,
      ``?person__phone__contains=``, any lookup, any path) is refused for a user who sees
      the field masked (Django's ``lookup_allowed``: the changelist answers 400);
    - a search field that reaches a masked field matches the whole value only (``=`` is
      put in front, for every user): searching a part of a number finds nothing.
    """

    masked_fields: dict[str, str] = {}

    def _reaches_masked(self, path: str) -> bool:
        return path_reaches_masked(self.model, path, self.admin_site, own=self.masked_fields)

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None and not can_view_full_identity(request) and self._reaches_masked(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        return [f"={name.lstrip(SEARCH_PREFIXES)}" if self._reaches_masked(name) else name
                for name in super().get_search_fields(request)]


class MaskedIdentityAdminMixin(MaskedLookupsMixin):
    """Masks the declared fields for users without ``policies.view_full_identity``::

        class PersonAdmin(MaskedIdentityAdminMixin, RegionScopedAdminMixin, SimpleHistoryAdmin):
            masked_fields = {"document_number": "id", "phone": "phone"}
            list_display = ["name", "document_number", "phone"]

    For such users the changelist shows masked values, the change page (and a history
    version's page) shows the masked value read-only instead of the input, and the
    simple-history change list shows masked old/new values: the full value never
    reaches the browser. The add page keeps the inputs: entering a new person needs
    them. Searching by a full number still works (``search_fields``, exact match only);
    filtering on a masked field is refused (``MaskedLookupsMixin``).
    """

    def _masking_needed(self, request):
        return bool(self.masked_fields) and not can_view_full_identity(request)

    # 审计日志: a list, page or history of these rows shown to a user who reads the
    # numbers in full is one 查看完整证件号 entry (``audit_full_view``)
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.masked_fields and getattr(response, "status_code", None) == 200:
            audit_full_view(request, self.model)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.masked_fields and getattr(response, "status_code", None) == 200:
            audit_full_view(request, self.get_object(request, unquote(object_id)) or self.model)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if self.masked_fields and getattr(response, "status_code", None) == 200:
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
        return [self._masked_callable(request, n) if isinstance(n, str) and n in self.masked_fields
                else n for n in names]

    def get_list_display(self, request):
        names = super().get_list_display(request)
        return self._replace_masked(request, names) if self._masking_needed(request) else names

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not links or not self._masking_needed(request):
            return links
        columns = {getattr(c, "__name__", None): c for c in list_display if callable(c)}
        return [columns.get(f"{n}_masked", n) if isinstance(n, str) and n in self.masked_fields
                else n for n in links]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is not None and self._masking_needed(request):
            exclude += [n for n in self.masked_fields if n not in exclude]
        return exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and self._masking_needed(request):
            readonly = [n for n in readonly if n not in self.masked_fields]
            readonly += [self._masked_callable(request, n) for n in self.masked_fields]
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
        masked, prepare = self.masked_fields, helper.prepare_delta_change_value

        def prepare_masked(change, value):
            if change.field in masked:
                return PURE_MASKERS[masked[change.field]](value)
            return prepare(change, value)

        helper.prepare_delta_change_value = prepare_masked
        return helper
