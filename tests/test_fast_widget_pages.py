"""Every admin page renders through ``policies.widgets.FastWidgetRenderer`` (the site's
``FORM_RENDERER``) with the bytes of Django's widget templates: a list (its action
checkboxes) and a change form compared with and without it."""
import re

import pytest
from django.urls import reverse

from claims.tests.factories import dianjiang_person
from enrollment.models import Person
from policies.widgets import FastWidgetRenderer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_every_admin_page_is_the_same_without_the_templates_it_skips(loaded_policies, admin_client,
                                                                      monkeypatch, page):
    """``FastWidgetRenderer`` is the site's form renderer (settings.FORM_RENDERER): a list's
    action checkboxes and a change form's inputs and selects are written in Python, with the
    templates' HTML."""
    persons = [dianjiang_person(tier=1) for _ in range(3)]
    url = (reverse("admin:enrollment_person_changelist") if page == "changelist"
           else reverse("admin:enrollment_person_change", args=[persons[0].pk]))

    def get():
        response = admin_client.get(url)
        assert response.status_code == 200
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return html, [t.name for t in response.templates]

    fast, rendered = get()
    assert Person.objects.count() == 3
    skipped = {"changelist": "django/forms/widgets/checkbox.html",
               "change": "django/forms/widgets/text.html"}[page]
    assert skipped not in rendered
    assert fast.count('type="checkbox"' if page == "changelist" else "<input") >= 3
    monkeypatch.setattr(FastWidgetRenderer, "render",
                        lambda self, name, context, request=None:
                        super(FastWidgetRenderer, self).render(name, context, request))
    slow, rendered = get()
    assert skipped in rendered
    assert fast == slow
