"""Issue 15 holes 3 and 4 in the policies admin: region structure and staff bindings are
the superuser's alone; the national 特殊身份 catalogue is written only with national scope
(docs/access.md §2)."""
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from policies.access import user_region_ids
from policies.models import Identity, Region, StaffProfile
from policies.roles import CLERK, POLICY_OFFICER, role_permissions, roles_sync
from policies.tests import factories as f

ALL = [code for code, _name, _province in f.FIVE_REGIONS]


@pytest.fixture
def regions(db):
    return f.five_regions()


def test_policy_officer_cannot_change_region_structure(client, regions):
    officer = f.role_staff("zhengce", POLICY_OFFICER, ALL)
    clerk = f.role_staff("jingban_cz", CLERK, ["140400"])
    changzhi, dianjiang = regions["140400"], regions["500231"]
    assert not [p for p in role_permissions(POLICY_OFFICER)
                if p.codename in ("add_region", "change_region", "delete_region")]
    client.force_login(officer)
    change = reverse("admin:policies_region_change", args=[changzhi.pk])
    page = client.get(change)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(change, {"code": changzhi.code, "name": changzhi.name,
                                    "province": changzhi.province, "parent": dianjiang.pk,
                                    "is_pooling": "on"})
    assert response.status_code == 403
    assert client.get(reverse("admin:policies_region_add")).status_code == 403
    assert client.post(reverse("admin:policies_region_delete", args=[changzhi.pk]),
                       {"post": "yes"}).status_code == 403
    version = changzhi.history.earliest()
    revert = reverse("admin:policies_region_simple_history", args=[changzhi.pk, version.history_id])
    assert client.post(revert, {"code": changzhi.code, "name": changzhi.name,
                                "parent": dianjiang.pk}).status_code == 403
    changzhi.refresh_from_db()
    assert changzhi.parent_id is None
    assert dianjiang.pk not in user_region_ids(type(clerk).objects.get(pk=clerk.pk))


def test_staff_bindings_are_the_superusers_alone(client, regions):
    roles_sync()
    clerk = f.role_staff("jingban_dj", CLERK, ["500231"])
    # an account given the user/group/profile permissions by hand still cannot write
    hand = f.staff_user("helper", regions=[regions["500231"]], perms=[
        f"auth.{verb}_{model}" for verb in ("view", "add", "change", "delete") for model in ("user", "group")
    ] + [f"policies.{verb}_staffprofile" for verb in ("view", "add", "change", "delete")])
    client.force_login(hand)
    profile = StaffProfile.objects.get(user=clerk)
    for name, obj in (("auth_user", clerk), ("auth_group", Group.objects.first()),
                      ("policies_staffprofile", profile)):
        page = client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert page.status_code == 200 and not page.context["has_change_permission"], name
        assert client.post(reverse(f"admin:{name}_change", args=[obj.pk]), {}).status_code == 403, name
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403, name
        assert client.post(reverse(f"admin:{name}_delete", args=[obj.pk]),
                           {"post": "yes"}).status_code == 403, name
    response = client.post(reverse("admin:policies_staffprofile_change", args=[profile.pk]),
                           {"user": clerk.pk, "regions": [r.pk for r in regions.values()]})
    assert response.status_code == 403
    assert list(profile.regions.values_list("code", flat=True)) == ["500231"]
    clerk.refresh_from_db()
    assert not clerk.is_superuser


def test_identity_catalogue_needs_national_scope(client, regions):
    dibao = Identity.objects.create(code="dibao", name="低保对象", department="civil_affairs")
    change = reverse("admin:policies_identity_change", args=[dibao.pk])
    data = {"code": "dibao", "name": "=HYPERLINK(\"x\")", "department": "civil_affairs"}
    client.force_login(f.role_staff("zhengce_dj", POLICY_OFFICER, ["500231"]))
    assert not client.get(change).context["has_change_permission"]
    assert client.post(change, data).status_code == 403
    assert client.get(reverse("admin:policies_identity_add")).status_code == 403
    assert client.post(reverse("admin:policies_identity_delete", args=[dibao.pk]),
                       {"post": "yes"}).status_code == 403
    dibao.refresh_from_db()
    assert dibao.name == "低保对象"
    client.force_login(f.role_staff("zhengce", POLICY_OFFICER, ALL))
    assert client.post(change, {**data, "name": "最低生活保障对象"}).status_code == 302
    dibao.refresh_from_db()
    assert dibao.name == "最低生活保障对象"
    assert Region.objects.count() == 5
