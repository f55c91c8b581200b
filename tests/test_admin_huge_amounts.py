"""Every admin add form with an amount field answers 1e30, a 29-digit number and 1e400 with
a form error, never an exception (issue 15 hole 8: the bound of amounts; Django's
DecimalField max_digits gives the Chinese message)."""
import pytest
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

HUGE = ("1e30", "1" * 29, "1e400", "-1e30")


def decimal_admins():
    for model in admin.site._registry:
        fields = [f.name for f in model._meta.get_fields()
                  if isinstance(f, models.DecimalField) and f.editable]
        if fields:
            yield model, fields


CASES = [(model, field) for model, fields in decimal_admins() for field in fields]


@pytest.mark.parametrize("model,field", CASES, ids=[f"{m._meta.label}.{f}" for m, f in CASES])
def test_huge_amount_in_an_admin_add_form(admin_client, loaded_policies, model, field):
    try:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    except NoReverseMatch:
        pytest.skip("no add page")
    form = admin_client.get(url)
    if form.status_code != 200:
        pytest.skip("add page not offered")
    if f'name="{field}"' not in form.content.decode():  # a stored figure, not an input
        pytest.skip("the add page has no input for this amount")
    for value in HUGE:
        response = admin_client.post(url, {field: value})
        assert response.status_code in (200, 403), (value, response.status_code)
        if response.status_code == 200:
            page = response.content.decode()
            assert "errorlist" in page or "errornote" in page
            if value in HUGE[:2]:
                assert "确认总共不超过" in page  # Django's Chinese max_digits message
