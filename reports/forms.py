"""Dashboard filter form: 统筹区 / 险种 / 年度, choices limited to the user's regions
(policies.access; docs/reports.md §范围)."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms

from policies.models import Region, Scheme

from .selectors import plan_years_for

FILTER_FIELDS = ("region", "scheme", "year")


class DashboardFilterForm(forms.Form):
    region = forms.ModelChoiceField(label="统筹区", queryset=Region.objects.none(), required=False,
                                    empty_label="全部统筹区")
    scheme = forms.ModelChoiceField(label="险种", queryset=Scheme.objects.none(), required=False,
                                    empty_label="全部险种")
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)

    def __init__(self, data, *, user):
        data = {k: data.get(k) for k in FILTER_FIELDS if data.get(k)}
        super().__init__(data)
        self.user = user
        visible = plan_years_for(user)
        self.fields["region"].queryset = Region.objects.filter(
            pk__in=visible.values("scheme__region")).order_by("code")
        self.fields["scheme"].queryset = Scheme.objects.filter(
            pk__in=visible.values("scheme")).select_related("region").order_by(
            "region__code", "settlement_order")
        years = sorted(set(visible.values_list("year", flat=True)), reverse=True)
        self.fields["year"].choices = [("", "全部年度")] + [(y, f"{y} 年") for y in years]

    def filters(self) -> dict:
        """The valid filters (an invalid field is dropped and shown as an error)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {k: cleaned.get(k) for k in FILTER_FIELDS if cleaned.get(k) is not None}

    def plan_years(self):
        return plan_years_for(self.user, **self.filters())

    def query_string(self) -> str:
        """The valid filters as a query string (for the export links), '' if none."""
        params = {k: (v.pk if hasattr(v, "pk") else v) for k, v in self.filters().items()}
        return urlencode(params)

    def description(self) -> str:
        """The filters in words (xlsx header)."""
        f = self.filters()
        parts = [str(f["region"]) if "region" in f else "全部统筹区",
                 str(f["scheme"]) if "scheme" in f else "全部险种",
                 f"{f['year']} 年" if "year" in f else "全部年度"]
        return "；".join(parts)
