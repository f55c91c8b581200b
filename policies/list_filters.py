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


class SchemeListFilter(admin.RelatedOnlyFieldListFilter):
    """``RelatedOnlyFieldListFilter`` on a foreign key to ``Scheme`` (险种): the same
    choices, each labelled ``str(scheme)`` (统筹区 and name), with the regions read in the
    same query instead of one query per scheme."""

    def field_choices(self, field, request, model_admin):
        pk_qs = (model_admin.get_queryset(request).distinct()
                 .values_list(f"{self.field_path}__pk", flat=True))
        qs = field.related_model._default_manager.filter(pk__in=pk_qs).select_related("region")
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(scheme.pk, str(scheme)) for scheme in qs]
