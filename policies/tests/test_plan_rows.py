"""The rule tables' rows written in Python (policies/tabular_rows.py, the template
admin/policies/edit_inline/plan_rows.html) are byte for byte the rows of Django's
admin/edit_inline/tabular.html: the plan-year page is rendered both ways and compared, for
each role's view of it (editable, read-only, closed) and with errors at the rows after a
refused save."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from policies.admin import PlanRowInline
from policies.models import BenefitRule, PlanFigure, PlanYear
from policies.roles import CLERK, POLICY_OFFICER

from .factories import role_staff
from .page_forms import form_post_data

pytestmark = pytest.mark.django_db

DJANGO_TABULAR = "admin/edit_inline/tabular.html"


def _changzhi():
    return PlanYear.objects.get(scheme__region__code="140400", year=2024, scheme__kind="resident_basic")


def _dianjiang():
    return PlanYear.objects.get(scheme__region__code="500231", year=2024, scheme__kind="resident_basic")


def _both_ways(monkeypatch, send):
    """``send()``'s page with the rows written in Python, then through Django's template
    (the CSRF token, new per response, left out)."""
    def page():
        response = send()
        assert response.status_code == 200
        return response, re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    fast_response, fast = page()
    assert "admin/policies/edit_inline/plan_rows.html" in [t.name for t in fast_response.templates]
    with monkeypatch.context() as patch:
        patch.setattr(PlanRowInline, "template", DJANGO_TABULAR)
        slow_response, slow = page()
    assert "admin/policies/edit_inline/plan_rows.html" not in [t.name for t in slow_response.templates]
    return fast, slow


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _url(plan_year):
    return reverse("admin:policies_planyear_change", args=[plan_year.pk])


@pytest.mark.parametrize("who", ["superuser", "policy officer", "clerk"])
def test_the_rows_are_django_s_rows_for_every_role(loaded_policies, monkeypatch, who):
    plan_year = _changzhi()
    user = {
        "superuser": lambda: role_staff("root", None, superuser=True),
        "policy officer": lambda: role_staff("zhengce", POLICY_OFFICER, ("140400",)),
        "clerk": lambda: role_staff("jingban", CLERK, ("140400",)),
    }[who]()
    client = _client(user)
    fast, slow = _both_ways(monkeypatch, lambda: client.get(_url(plan_year)))
    assert fast.count("<tr class=\"form-row") > 90
    if who == "clerk":  # every cell read-only
        assert 'class="related-widget-wrapper"' not in fast and "-DELETE" not in fast
    else:
        assert fast.count('class="related-widget-wrapper"') > 20 and "empty-form" in fast
    assert fast == slow


def test_the_rows_are_django_s_rows_with_autocomplete_boxes_and_a_closed_year(loaded_policies, monkeypatch,
                                                                              admin_client):
    plan_year = _dianjiang()
    fast, slow = _both_ways(monkeypatch, lambda: admin_client.get(_url(plan_year)))
    assert "admin-autocomplete" in fast
    assert fast == slow
    PlanYear.objects.filter(pk=plan_year.pk).update(status=PlanYear.Status.CLOSED)
    fast, slow = _both_ways(monkeypatch, lambda: admin_client.get(_url(plan_year)))
    assert 'class="related-widget-wrapper"' not in fast
    assert fast == slow


def test_the_rows_are_django_s_rows_after_a_refused_save(loaded_policies, monkeypatch, admin_client):
    plan_year = _changzhi()
    url = _url(plan_year)
    data = form_post_data(admin_client.get(url).content.decode(), "planyear_form")
    figure = PlanFigure.objects.filter(plan_year=plan_year).order_by("pk").first()
    rule = BenefitRule.objects.filter(plan_year=plan_year, ratio__isnull=False).order_by("pk").first()
    for key, value in list(data.items()):
        if value == [str(figure.pk)] and key.startswith("planfigure_rows-") and key.endswith("-id"):
            data[key.replace("-id", "-value")] = ["不是数字"]  # a field's error
        if value == [str(rule.pk)] and key.startswith("benefitrule_rows-") and key.endswith("-id"):
            row = key.removesuffix("-id")
            data[f"{row}-ratio"], data[f"{row}-fixed_amount"] = [""], [""]  # the row's own error
    fast, slow = _both_ways(monkeypatch, lambda: admin_client.post(url, data))
    assert 'class="row-form-errors"' in fast and 'class="errorlist' in fast
    assert fast == slow
