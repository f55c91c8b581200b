"""Every date input of every admin form shows its stored value in a form the input can
read, and reading it back gives the same date (issue 11: the claim page showed
``2024/10/10`` in ``<input type="date">``, which the browser shows as empty).

Walks every registered model admin's form and inline formsets (as a superuser) and every
``forms.Form`` of the project's apps; the browser round-trip of the real pages is
``tests/browser/test_browser_round_trip.py``."""
from datetime import date

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from policies.widgets import IsoDateInput

pytestmark = pytest.mark.django_db

APPS = ("policies", "enrollment", "claims", "reports", "sheets")
DAY = date(2024, 10, 10)


def admin_fields(request):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in APPS:
            continue
        label = type(model_admin).__name__
        yield from ((f"{label}.{n}", f) for n, f in model_admin.get_form(request).base_fields.items())
        for inline in model_admin.get_inline_instances(request):
            form = inline.get_formset(request).form
            yield from ((f"{type(inline).__name__}.{n}", f) for n, f in form.base_fields.items())


def project_forms(cls=forms.Form):
    for sub in cls.__subclasses__():
        if sub.__module__.split(".")[0] in APPS:
            yield sub
        yield from project_forms(sub)


def form_fields():
    for form in project_forms():
        yield from ((f"{form.__name__}.{n}", f) for n, f in form.base_fields.items())


@pytest.fixture
def request_as_superuser():
    user = get_user_model().objects.create_superuser("root", password="x")
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_date_input_shows_a_value_it_can_read_back(request_as_superuser):
    dates = [(name, field) for name, field in [*admin_fields(request_as_superuser), *form_fields()]
             if isinstance(field, forms.DateField)]
    assert {"ClaimForm.service_date", "PaymentForm.paid_date", "SuspendForm.date_from"} <= {
        n.replace("ClaimAdmin.", "ClaimForm.") for n, _ in dates}
    wrong = []
    for name, field in dates:
        shown = field.widget.format_value(DAY)
        if getattr(field.widget, "input_type", "") == "date":
            if shown != "2024-10-10" or not isinstance(field.widget, IsoDateInput):
                wrong.append(f"{name}: <input type=date> 显示 {shown!r}")
        elif field.has_changed(DAY, shown):
            wrong.append(f"{name}: 显示 {shown!r}，读回不是 {DAY}")
    assert wrong == []
