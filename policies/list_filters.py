"""Admin list filters whose choices come from the policy tables, not from the listed
table (issue 17: Django's ``AllValuesFieldListFilter`` on a ``year`` column runs
``SELECT DISTINCT year`` over every claim or journal on each page)."""
from __future__ import annotations

from django.contrib import admin

from .models import PlanYear


class PlanYearListFilter(admin.SimpleListFilter):
    """``year`` (年度): the years that have plan years, newest first. The parameter is
    ``year__exact``, as Django's own filter (links such as the dashboard's keep working)."""

    title = "年度"
    parameter_name = "year__exact"
    field_name = "year"

    def lookups(self, request, model_admin):
        years = PlanYear.objects.order_by("-year").values_list("year", flat=True).distinct()
        return [(str(y), f"{y} 年") for y in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            return queryset.filter(**{self.field_name: int(value)})
        except ValueError:
            return queryset.none()
