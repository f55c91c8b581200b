"""The admin site remembers each user's list of apps (policies/admin_site.py): the remembered
list is the one Django builds, for every role, and a change of permissions, groups or
regions is seen at the next page."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from policies.admin_site import AppListCachingAdminSite
from policies.models import Region
from policies.roles import AUDITOR, CLERK, FUND_FINANCE, POLICY_OFFICER, REVIEWER, SUPERVISOR
from policies.tests.factories import five_regions, role_staff

pytestmark = pytest.mark.django_db


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def fresh(user, label=None):
    """Django's own dictionary (nothing remembered), for a new user object."""
    user = type(user).objects.get(pk=user.pk)
    return AdminSite._build_app_dict(admin.site, request_of(user), label)


def remembered(user, label=None):
    user = type(user).objects.get(pk=user.pk)
    return admin.site._build_app_dict(request_of(user), label)


def names(app_dict):
    return {label: sorted((m["object_name"], tuple(sorted(m["perms"].items())), m["admin_url"], m["add_url"])
                          for m in app["models"]) for label, app in app_dict.items()}


def test_the_project_site_is_the_caching_one():
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site,
                      AppListCachingAdminSite)


def test_remembered_list_equals_djangos_for_every_role():
    five_regions()
    admin.site.clear_app_list_cache()
    users = [role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER),
             role_staff("caiwu", FUND_FINANCE), role_staff("jianguan", SUPERVISOR),
             role_staff("shenji", AUDITOR),
             role_staff("zhengce", POLICY_OFFICER, tuple(Region.objects.values_list("code", flat=True))),
             role_staff("admin", None, superuser=True)]
    seen = set()
    for user in users:
        for label in (None, "policies", "claims"):
            expected = names(fresh(user, label))
            assert names(remembered(user, label)) == expected, (user.username, label)
            assert names(remembered(user, label)) == expected, (user.username, label)  # from the cache
        seen.add(repr(names(fresh(user))))
    assert len(seen) == len(users)  # each role its own list: the test compares something


def test_a_copy_is_returned():
    five_regions()
    user = role_staff("jingban", CLERK)
    first = remembered(user)
    first["claims"]["models"].clear()
    assert remembered(user)["claims"]["models"]


def test_a_permission_change_is_seen_at_once():
    five_regions()
    user = role_staff("jingban", CLERK)
    before = names(remembered(user))
    assert "finance" not in before or not any(m[0] == "PaymentBatch" for m in before["finance"])

    group = Group.objects.create(name="临时")
    group.permissions.add(Permission.objects.get(codename="view_paymentbatch"))
    user.groups.add(group)
    after = names(remembered(user))
    assert any(m[0] == "PaymentBatch" for m in after["finance"])
    assert after == names(fresh(user))

    user.groups.remove(group)
    assert names(remembered(user)) == before



def test_binding_every_region_is_seen_at_once():
    """A 政策管理员 of one region reads the national catalogue; bound to every region
    (``user_has_national_scope``) he may add to it."""
    regions = five_regions()
    officer = role_staff("zhengce", POLICY_OFFICER)
    one_region = names(remembered(officer))
    officer.staff_profile.regions.set(regions.values())
    national = names(remembered(officer))
    assert national == names(fresh(officer))
    assert national != one_region


@pytest.mark.django_db
def test_no_two_sections_of_the_side_bar_have_one_name():
    """The superuser sees every app: each section's name says which one (登录安全 was both
    django-axes' 登录记录 and the accounts' 账户安全状态)."""
    titles = [app["name"] for app in fresh(role_staff("root", None, superuser=True)).values()]
    assert len(titles) == len(set(titles)), titles
