"""Masking of personal data — 证件号码, 联系电话, 银行账号, 出生日期 — by role, as the
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
  an 18-digit ID number).

For admins: ``masked_id(request_or_user, value)``, ``masked_phone(...)``,
``masked_bank_account(...)``, ``masked_birth_date(...)`` (or ``mask_for(user, field,
value)``) in
``list_display`` callables or templates, or ``MaskedIdentityAdminMixin`` which does it
for the declared fields on the changelist and on the change page.
"""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist

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


FULL, PARTIAL, HIDDEN = "full", "partial", "hidden"
REVEALING = {HIDDEN: 0, PARTIAL: 1, FULL: 2}
# Used only when no MaskingRule row applies (a user with no role, before roles_sync):
# the mask a user without ``view_full_identity`` gets (the rows' defaults, docs/access.md).
FALLBACK = {"document_number": (PARTIAL, 6, 4), "phone": (PARTIAL, 3, 4), "bank_account": (PARTIAL, 6, 4),
            "birth_date": (FULL, 0, 0)}
HIDDEN_TEXT = "（已隐藏）"


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
        from .models import MaskingRule

        rows = list(MaskingRule.objects.filter(group__in=user.groups.all()).values_list(
            "field", "mode", "keep_head", "keep_tail"))
        rules = {}
        for code, mode, head, tail in rows:  # the most revealing of the user's roles
            if code not in rules or REVEALING[mode] > REVEALING[rules[code][0]] or (
                    mode == rules[code][0] == PARTIAL and head + tail > sum(rules[code][1:])):
                rules[code] = (mode, head, tail)
        if user.has_perm(FULL_IDENTITY_PERMISSION):  # granted directly: full where no role row says
            rules.update({code: (FULL, 0, 0) for code in FALLBACK if code not in rules})
        for code, mode, head, tail in MaskingRule.objects.filter(group__isnull=True).values_list(
                "field", "mode", "keep_head", "keep_tail"):
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
        return value
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if mode == HIDDEN:
        return HIDDEN_TEXT
    return mask_value(text, head=head, tail=tail)


def masked_id(request_or_user, value) -> str:
    """The ID number as ``request.user`` may see it (full, or masked)."""
    return mask_for(request_or_user, "document_number", value)


def masked_phone(request_or_user, value) -> str:
    """The phone number as ``request.user`` may see it (full, or masked)."""
    return mask_for(request_or_user, "phone", value)


def masked_bank_account(request_or_user, value) -> str:
    """The bank account number as ``request.user`` may see it."""
    return mask_for(request_or_user, "bank_account", value)


def masked_birth_date(request_or_user, value) -> str:
    """The birth date as ``request.user`` may see it (it rebuilds the middle of an ID
    number, so a role that sees the number masked should not see it in full)."""
    return mask_for(request_or_user, "birth_date", value)


def masked_column(request, field_name: str, kind: str = "document_number", description: str | None = None):
    """A ``list_display`` / ``readonly_fields`` callable showing ``obj.<field_name>``
    masked for ``request.user`` under the rule of ``kind`` (a ``MaskingRule.Field``).
    Built per request (thread-safe: the request is bound in the closure, not stored on
    the shared ModelAdmin)."""

    def column(obj):
        return mask_for(request, kind, getattr(obj, field_name, None))

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


def _sees_all_masked_fields(request) -> bool:
    from .models import MaskingRule

    return all(shows_full(request, code) for code in MaskingRule.Field.values)


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
        if request is not None and not _sees_all_masked_fields(request) and self._reaches_masked(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        return [f"={name.lstrip(SEARCH_PREFIXES)}" if self._reaches_masked(name) else name
                for name in super().get_search_fields(request)]


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
