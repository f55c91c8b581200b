"""A related-field list filter that reads its choices from the related table (issue 17).

Django's ``RelatedOnlyFieldListFilter`` finds the regions to offer by
``SELECT DISTINCT region_id`` over the listed rows — a full scan of a million persons
(twice per page when two columns are filtered so). ``RegionListFilter`` lists the rows of
the related table itself (five regions, not a million persons), limited by the admin's
hook, when it has one::

    def list_filter_limit(self, request, field):  # -> Q / dict, or None for no limit
        ...

(``policies.access.RegionScopedFormfieldMixin`` defines it: the user's regions and
their sub-regions for a field to ``Region``, the rows of those regions for a field to a
region-bound table such as ``Scheme``; no limit for a superuser.)

A choice may have no row in the list (a region without persons yet): the filter then
shows an empty list, as any filter value does.

``through_keys(filter_class, via)``: Django's field filter on a path through a foreign key
to a small table (``plan_year__scheme__kind`` of the enrollments: ``via="plan_year"``)
joins the large table to the small one and filters there, which no index of the large
table serves. This filter reads the small table's keys that match the choice first and
filters the list by ``plan_year_id IN (…)``: its own column, which an index of the
list's order can hold (and whose statistics the planner has). The keys are limited by the
admin's ``list_filter_limit`` hook as the choices are (the user's plan years): a choice
with no row in the user's scope is then an empty list without a query, not a scan of the
user's rows in search of one. ``via`` is a path of non-null foreign keys (a null one would
not match ``…__isnull`` as the join does).

``within_keys(filter_class, via, own="")``: a filter on a column of the listed table
(``auto_renew``; or, with ``own``, the listed table's copy of a related column:
``person__category`` read from the enrollment's own ``category``) that also narrows the
list to ``via_id IN (the keys of via the user may see)`` — for a superuser every key. With
an index led by ``via`` and then the filtered column (``enrollment_category``:
plan year, category, id), the database reads each key's range of the chosen value in the
list's order: a value with no row in the scope is an empty range per key, where a walk of
the list's order index would read every row of the scope to prove there is none. The
parameter stays the field filter's own (``person__category__exact``), so links keep working.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import build_q_object_from_lookup_parameters
from django.core.exceptions import ValidationError


class RegionListFilter(admin.RelatedFieldListFilter):
    """``("hukou_region", RegionListFilter)``: the user's regions, read from ``Region``, once
    per request (with facet counts Django builds every filter again for each filter's counts)."""

    def field_choices(self, field, request, model_admin):
        cache = request.__dict__.setdefault("_region_filter_choices", {})
        key = (type(model_admin), self.field_path)
        if key not in cache:
            ordering = self.field_admin_ordering(field, request, model_admin)
            hook = getattr(model_admin, "list_filter_limit", None)
            limit = hook(request, field) if hook is not None else None
            cache[key] = field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)
        return cache[key]


class KeysMixin:
    """The keys of ``keys_via`` (a path of foreign keys from the listed model) the admin's
    ``list_filter_limit`` hook leaves to the user, matching ``lookups``."""

    keys_via = ""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.keys_admin = model_admin
        super().__init__(field, request, params, model, model_admin, field_path)

    def via_keys(self, request, model, lookups) -> list:
        related = model
        for part in self.keys_via.split("__"):
            field = related._meta.get_field(part)
            related = field.related_model
        rows = related._default_manager.all()
        hook = getattr(self.keys_admin, "list_filter_limit", None)
        limit = hook(request, field) if hook is not None else None
        if limit is not None:  # the user's rows only: a choice outside them selects nothing, no scan
            rows = rows.complex_filter(limit)
        try:
            return list(rows.filter(build_q_object_from_lookup_parameters(lookups))
                        .order_by("pk").values_list("pk", flat=True))
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class ThroughKeysMixin(KeysMixin):
    """The filtering of ``through_keys`` (see the module); ``keys_via`` is the path."""

    def queryset(self, request, queryset):
        prefix = f"{self.keys_via}__"
        if not self.used_parameters or not all(p.startswith(prefix) for p in self.used_parameters):
            return super().queryset(request, queryset)
        lookups = {p.removeprefix(prefix): values for p, values in self.used_parameters.items()}
        keys = self.via_keys(request, queryset.model, lookups)
        return queryset.filter(**{f"{self.keys_via}__in": keys})


class WithinKeysMixin(KeysMixin):
    """The filtering of ``within_keys`` (see the module): the chosen value on the listed
    table's column ``own_field`` (default: the filter's own field path), and the keys of
    ``keys_via``."""

    own_field = ""

    def queryset(self, request, queryset):
        if not self.used_parameters:
            return super().queryset(request, queryset)
        own = self.own_field or self.field_path
        lookups = {own + p.removeprefix(self.field_path): values
                   for p, values in self.used_parameters.items()}
        try:
            queryset = queryset.filter(build_q_object_from_lookup_parameters(lookups))
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(**{f"{self.keys_via}__in": self.via_keys(request, queryset.model, {})})


def through_keys(filter_class, via: str):
    """``filter_class`` (a Django field list filter) filtering by the keys of ``via``."""
    return type(f"{filter_class.__name__}ThroughKeys", (ThroughKeysMixin, filter_class), {"keys_via": via})


def within_keys(filter_class, via: str, own: str = ""):
    """``filter_class`` (a Django field list filter) filtering the listed table's column
    (``own``, default the field itself) within the keys of ``via``."""
    return type(f"{filter_class.__name__}WithinKeys", (WithinKeysMixin, filter_class),
                {"keys_via": via, "own_field": own})
