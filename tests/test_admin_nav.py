"""The side bar's list of apps is remembered (policies/templatetags/admin_nav.py): the
project's ``admin/nav_sidebar.html`` renders exactly as Django's own, for every role, on
the index, on each listed model's pages (the current app and model marked) and on a page of
no listed model, the first time and from the memory (every page kind for the superuser, who
sees every model; each model's list for the other roles)."""
from __future__ import annotations

import functools
from pathlib import Path

import django.contrib.admin
import pytest
from django.contrib import admin
from django.template import Context, engines
from django.test import RequestFactory
from django.utils import translation

from policies.models import Region
from policies.roles import AUDITOR, CLERK, FUND_FINANCE, POLICY_OFFICER, REVIEWER, SUPERVISOR
from policies.templatetags import admin_nav
from policies.tests.factories import five_regions, role_staff

pytestmark = pytest.mark.django_db

DJANGOS = Path(django.contrib.admin.__file__).parent / "templates" / "admin" / "nav_sidebar.html"


def engine():
    return engines["django"].engine


def page_context(user, path):
    request = RequestFactory().get(path)
    request.user = user
    return Context({"request": request, "available_apps": admin.site.get_app_list(request), "user": user})


@functools.cache
def djangos_template():
    return engine().from_string(DJANGOS.read_text())


def sidebars(user, path) -> tuple[str, str]:
    """(Django's nav_sidebar.html, the project's) rendered for ``user`` on ``path``."""
    djangos = djangos_template().render(page_context(user, path))
    ours = engine().get_template("admin/nav_sidebar.html").render(page_context(user, path))
    return djangos, ours


def paths(user, *, every_page: bool):
    """The index, pages of no listed model, each app's page and each model's list; with
    ``every_page`` also each model's change, search and add pages (the marks are the same
    as on the list: its address is in theirs)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    found = ["/admin/", "/admin/no-such-page/", "/admin/jsi18n/"]
    for app in admin.site.get_app_list(request):
        found.append(app["app_url"])
        for model in app["models"]:
            if model.get("admin_url"):
                found.append(model["admin_url"])
                if every_page:
                    found += [f"{model['admin_url']}1/change/", f"{model['admin_url']}?q=%E5%BC%A0"]
            if model.get("add_url") and every_page:
                found.append(model["add_url"])
    return found


def test_the_remembered_side_bar_is_djangos_for_every_role_and_page():
    five_regions()
    users = [role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER), role_staff("caiwu", FUND_FINANCE),
             role_staff("jianguan", SUPERVISOR), role_staff("shenji", AUDITOR),
             role_staff("zhengce", POLICY_OFFICER, tuple(Region.objects.values_list("code", flat=True))),
             role_staff("admin", None, superuser=True), role_staff("norole", None)]
    admin_nav.clear()
    compared = set()
    for user in users:
        # every page of the superuser's (who sees every model); each list of the others'
        for path in paths(user, every_page=user.is_superuser):
            for _time in ("first", "remembered"):
                djangos, ours = sidebars(user, path)
                assert ours == djangos, (user.username, path, _time)
                compared.add(ours)
    assert admin_nav._rendered  # the memory was used …
    assert len(compared) > len(users) * 3  # … and the pages differ (roles, marks)
    assert any("current-model" in html for html in compared) and any("current-app" in html for html in compared)


def test_a_list_that_is_not_the_admins_renders_as_djangos():
    """Any value handed to the tag (an empty list, a list not of dictionaries) renders as
    Django's include renders it."""
    request = RequestFactory().get("/admin/")
    template = "{% load admin_nav %}{% nav_app_list apps %}"
    include = "{% include 'admin/app_list.html' with app_list=apps show_changelinks=False %}"
    odd = [{"app_label": "x", "app_url": "/admin/x/", "name": "X & <Y>", "models": []}]
    for apps in ([], None, "", odd):  # [], None, "": nothing to see, Django's sentence
        for _time in ("first", "remembered"):
            context = {"request": request, "apps": apps}
            assert engine().from_string(template).render(Context(context)) \
                == engine().from_string(include).render(Context(context)), apps


def test_the_language_is_part_of_the_key():
    user = role_staff("admin", None, superuser=True)
    admin_nav.clear()
    with translation.override("en"):
        djangos_en, ours_en = sidebars(user, "/admin/")
    djangos, ours = sidebars(user, "/admin/")
    assert (ours_en, ours) == (djangos_en, djangos)
    assert ours_en != ours
