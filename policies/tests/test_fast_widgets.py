"""The site's fast form rendering (policies/widgets.py ``FastWidgetRenderer``, the
``FORM_RENDERER``) writes the same HTML as Django's
templates, byte for byte, and skips the templates it replaces (docs/benchmarks.md)."""
import re

import pytest
from django import forms
from django.forms.utils import ErrorList
from django.urls import reverse

from policies.models import PlanYear
from policies.widgets import FastWidgetRenderer

pytestmark = pytest.mark.django_db

CHOICES = [("组一", [("a", "甲<"), ("b", "乙")]), ("c", "丙 & 丁"), ("", "---------")]


@pytest.mark.parametrize("widget, value", [
    (forms.Select(choices=CHOICES), "a"),
    (forms.Select(choices=CHOICES), None),
    (forms.SelectMultiple(choices=CHOICES), ["a", "c"]),
    (forms.TextInput(attrs={"size": 4, "required": True, "disabled": False}), '1 "2"'),
    (forms.NumberInput(), "12.50"),
    (forms.HiddenInput(), 7),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
])
def test_fast_widgets_write_the_templates_html(widget, value):
    attrs = {"id": "id_x", "data-context": "available-source", "class": "vTextField"}
    assert widget.render("rows-0-x", value, attrs=attrs, renderer=FastWidgetRenderer()) == \
        widget.render("rows-0-x", value, attrs=attrs)


@pytest.mark.parametrize("errors", [[], ["金额必须大于 0 <元>"]])
def test_error_lists_render_as_the_templates(errors):
    fast = ErrorList(errors, renderer=FastWidgetRenderer())
    assert str(fast) == str(ErrorList(errors)) and fast.as_ul() == ErrorList(errors).as_ul()


class _Hidden(forms.Form):
    a = forms.CharField(widget=forms.HiddenInput, initial="甲 <")
    b = forms.IntegerField(widget=forms.HiddenInput, initial=7)


class _Visible(_Hidden):
    c = forms.CharField(label="名称")


@pytest.mark.parametrize("make", [
    lambda **kw: forms.formsets.ManagementForm(initial={"TOTAL_FORMS": 3, "INITIAL_FORMS": 2,
                                                        "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000},
                                               prefix="rows", **kw),
    lambda **kw: _Hidden(**kw),
    lambda **kw: _Hidden(data={"a": "x", "b": "not a number"}, **kw),  # errors: the template
    lambda **kw: _Visible(**kw),  # a visible field: the template
])
def test_a_form_of_hidden_fields_renders_as_the_template(make):
    assert str(make(renderer=FastWidgetRenderer())) == str(make())


def _page(client, plan_year):
    response = client.get(reverse("admin:policies_planyear_change", args=[plan_year.pk]))
    assert response.status_code == 200
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return html, [t.name for t in response.templates]


def test_plan_year_page_is_the_same_without_the_templates_it_skips(loaded_policies, admin_client,
                                                                   monkeypatch):
    plan_year = PlanYear.objects.filter(scheme__region__code="500231", scheme__kind="resident_basic").first()
    fast, rendered = _page(admin_client, plan_year)
    # each cell's empty error list and each select inside a 新增/修改 wrapper: no template
    # (the plan year's own fields still render theirs: a handful)
    assert rendered.count("django/forms/errors/list/ul.html") < 20
    assert "django/forms/widgets/select.html" not in rendered
    assert fast.count("<select") > 50 and fast.count("<input") > 500
    monkeypatch.setattr(FastWidgetRenderer, "render",
                        lambda self, name, context, request=None:
                        super(FastWidgetRenderer, self).render(name, context, request))
    slow, rendered = _page(admin_client, plan_year)
    assert "django/forms/widgets/select.html" in rendered
    assert fast == slow

