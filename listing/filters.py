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
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import build_q_object_from_lookup_parameters
from django.core.exceptions import ValidationError


class RegionListFilter(admin.RelatedFieldListFilter):
    """``("hukou_region", RegionListFilter)``: the user's regions, read from ``Region``."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        hook = getattr(model_admin, "list_filter_limit", None)
        limit = hook(request, field) if hook is not None else None
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


class ThroughKeysMixin:
    """The filtering of ``through_keys`` (see the module); ``keys_via`` is the path."""

    keys_via = ""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.keys_admin = model_admin
        super().__init__(field, request, params, model, model_admin, field_path)

    def queryset(self, request, queryset):
        prefix = f"{self.keys_via}__"
        if not self.used_parameters or not all(p.startswith(prefix) for p in self.used_parameters):
            return super().queryset(request, queryset)
        related = queryset.model
        for part in self.keys_via.split("__"):
            field = related._meta.get_field(part)
            related = field.related_model
        lookups = {p.removeprefix(prefix): values for p, values in self.used_parameters.items()}
        rows = related._default_manager.all()
        hook = getattr(self.keys_admin, "list_filter_limit", None)
        limit = hook(request, field) if hook is not None else None
        if limit is not None:  # the user's rows only: a choice outside them selects nothing, no scan
            rows = rows.complex_filter(limit)
        try:
            keys = list(rows.filter(build_q_object_from_lookup_parameters(lookups))
                        .order_by("pk").values_list("pk", flat=True))
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(**{f"{self.keys_via}__in": keys})


def through_keys(filter_class, via: str):
    """``filter_class`` (a Django field list filter) filtering by the keys of ``via``."""
    return type(f"{filter_class.__name__}ThroughKeys", (ThroughKeysMixin, filter_class), {"keys_via": via})
