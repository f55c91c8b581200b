"""The 动作 menu offers a user only the actions they may run (docs/access.md §1): each
write action names the permission its service checks (``@admin.action(permissions=…)``),
so a read-only role is not shown an action that would refuse it after its form."""
import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from policies.roles import CLERK, SUPERVISOR
from policies.tests.factories import role_staff

pytestmark = pytest.mark.usefixtures("loaded_policies")


def _actions(user) -> dict[str, list[str]]:
    """Every admin list's actions for ``user`` (the lists the user may open)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    found = {}
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_view_or_change_permission(request):
            names = [name for name in model_admin.get_actions(request)]
            if names:
                found[model._meta.label] = names
    return found


def test_a_read_only_user_is_offered_no_action_anywhere():
    assert _actions(role_staff("jianguan", SUPERVISOR, regions=("500231",))) == {}


def test_the_enrollment_list_offers_the_write_actions_to_the_clerk_only(client):
    url = reverse("admin:enrollment_enrollment_changelist")
    labels = ["登记缴费", "暂停参保", "恢复参保", "终止参保"]
    client.force_login(role_staff("jianguan", SUPERVISOR, regions=("500231",)))
    page = client.get(url)
    assert page.status_code == 200
    assert not any(f">{label}" in page.content.decode() for label in labels)
    assert 'name="action"' not in page.content.decode()
    client.force_login(role_staff("jingban_dj", CLERK, regions=("500231",)))
    page = client.get(url).content.decode()
    assert all(f">{label}" in page for label in labels)
