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
"""
from __future__ import annotations

from django.contrib import admin


class RegionListFilter(admin.RelatedFieldListFilter):
    """``("hukou_region", RegionListFilter)``: the user's regions, read from ``Region``."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        hook = getattr(model_admin, "list_filter_limit", None)
        limit = hook(request, field) if hook is not None else None
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)
