"""Saving the plan-year page (policies/admin.py ``PlanRowInlineForm``, ``PlanRowFormSet``,
``KnownRowsMixin``): the page sends back every row of every rule table; rows the user did
not change skip the checks that ask the database (it holds them and enforces them),
a changed row is validated as before, its error in Chinese at its row."""
import re

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.models import BenefitRule, ChronicBenefit, ChronicDisease, PlanFigure, PlanYear

from .page_forms import form_post_data

pytestmark = pytest.mark.django_db


def _page(client, plan_year):
    url = reverse("admin:policies_planyear_change", args=[plan_year.pk])
    return url, form_post_data(client.get(url).content.decode(), "planyear_form")


def _row_prefix(data, prefix, pk) -> str:
    """``<prefix>-<n>`` of the form showing row ``pk``."""
    name = next(k for k, v in data.items() if re.fullmatch(rf"{prefix}-\d+-id", k) and v == [str(pk)])
    return name.removesuffix("-id")


def _changzhi():
    return PlanYear.objects.get(scheme__region__code="140400", year=2024, scheme__kind="resident_basic")


def test_an_unchanged_save_asks_the_database_nothing_per_row(loaded_policies, admin_client):
    plan_year = _changzhi()
    url, data = _page(admin_client, plan_year)
    rows = sum(1 for k in data if re.fullmatch(r".+-\d+-id", k))
    assert rows > 80
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(url, data)
    assert response.status_code == 302
    sql = [q["sql"] for q in queries]
    # no constraint check (SELECT 1 AS "_check" …, 145 before), uniqueness or row lookup per
    # row: the plan year's own form is checked as before
    assert len([s for s in sql if '"_check"' in s]) < 5
    assert len(sql) < 80, len(sql)  # 681 before: ≈ 7 per row


def test_a_changed_row_is_still_checked_for_uniqueness_in_chinese(loaded_policies, admin_client):
    plan_year = PlanYear.objects.annotate(n=Count("planfigure_rows")).filter(n__gte=2).first()
    first, second = PlanFigure.objects.filter(plan_year=plan_year).order_by("pk")[:2]
    url, data = _page(admin_client, plan_year)
    row = _row_prefix(data, "planfigure_rows", second.pk)
    data[f"{row}-code"] = [first.code]  # the code of another, unchanged row
    response = admin_client.post(url, data)
    assert response.status_code == 200
    figures = next(f for f in response.context["inline_admin_formsets"]
                   if f.formset.prefix == "planfigure_rows").formset
    assert "请修改code的重复数据" in str(figures.non_form_errors())
    # at the row of one of the two (the later one on the page)
    assert any("请修正重复的数据" in str(f.errors) for f in figures.forms if f.instance.pk in (first.pk, second.pk))
    second.refresh_from_db()
    assert second.code != first.code


def test_a_changed_row_is_still_checked_against_its_constraints(loaded_policies, admin_client):
    plan_year = _changzhi()
    rule = BenefitRule.objects.filter(plan_year=plan_year, ratio__isnull=False).order_by("pk").first()
    url, data = _page(admin_client, plan_year)
    row = _row_prefix(data, "benefitrule_rows", rule.pk)
    data[f"{row}-ratio"] = [""]
    data[f"{row}-fixed_amount"] = [""]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    rules = next(f for f in response.context["inline_admin_formsets"]
                 if f.formset.prefix == "benefitrule_rows").formset
    assert any("请填写报销比例或定额" in str(form.errors) for form in rules.forms if form.instance.pk == rule.pk)
    rule.refresh_from_db()
    assert rule.ratio is not None


def test_a_changed_choice_outside_the_table_is_refused_as_before(loaded_policies, admin_client):
    plan_year = _changzhi()
    benefit = ChronicBenefit.objects.filter(plan_year=plan_year).order_by("pk").first()
    missing = ChronicDisease.objects.order_by("-pk").first().pk + 1000
    url, data = _page(admin_client, plan_year)
    row = _row_prefix(data, "chronicbenefit_rows", benefit.pk)
    for value in (str(missing), "x"):  # no such disease; not a key at all
        data[f"{row}-disease"] = [value]
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert "选择一个有效的选项" in response.content.decode()
    benefit.refresh_from_db()
    assert benefit.disease_id != missing


def test_a_saved_change_is_written(loaded_policies, admin_client):
    plan_year = _changzhi()
    figure = PlanFigure.objects.filter(plan_year=plan_year).order_by("pk").first()
    url, data = _page(admin_client, plan_year)
    row = _row_prefix(data, "planfigure_rows", figure.pk)
    data[f"{row}-value"] = [str(figure.value + 1)]
    assert admin_client.post(url, data).status_code == 302
    old = figure.value
    figure.refresh_from_db()
    assert figure.value == old + 1


@pytest.mark.parametrize("query_string", ["a=1&a=2&b=&c=%E7%94%B2", ""])
def test_each_rule_table_gets_the_same_copy_of_the_post_as_django_gives(query_string):
    """``QuickCopyPost.copy`` (each formset's copy of the posted data, policies/admin.py)
    is ``QueryDict.copy``: a new mutable QueryDict with the same lists, its own lists."""
    from django.http import QueryDict

    from policies.admin import QuickCopyPost

    post = QueryDict(query_string)
    expected = post.copy()
    post.__class__ = QuickCopyPost
    for _ in range(2):  # the second from what the first found out about the post
        copied = post.copy()
        assert type(copied) is QueryDict and copied._mutable and copied.encoding == expected.encoding
        assert dict(copied.lists()) == dict(expected.lists())
        copied.appendlist("a", "3")
        assert post.getlist("a") == expected.getlist("a")
    odd = QueryDict(mutable=True)
    odd.setlist("n", [b"bytes"])
    odd.__class__ = QuickCopyPost
    assert dict(odd.copy().lists()) == {"n": ["bytes"]}
