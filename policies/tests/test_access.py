"""Region scoping (policies.access, docs/access.md §区域范围)."""
import datetime

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from policies.access import (
    region_path_for,
    scope_queryset,
    user_can_access,
    user_region_ids,
)
from policies.models import (
    BenefitRule,
    ChronicDisease,
    Holiday,
    Identity,
    PlanFigure,
    PlanYear,
    Region,
    Scheme,
)

from . import factories as f

pytestmark = pytest.mark.django_db

RULE_PERMS = f.policy_perms("planyear", "planfigure", "benefitrule", "region", "scheme",
                            "holiday", "chronicdisease")


@pytest.fixture
def systems():
    return f.two_systems()


@pytest.fixture
def user_a(systems):
    return f.staff_user("clerk_a", regions=[systems["a"]], perms=RULE_PERMS)


def admin_url(model, action="changelist", *args):
    return reverse(f"admin:policies_{model._meta.model_name}_{action}", args=args)


# --------------------------------------------------------------------------- selectors


def test_superuser_sees_every_region(systems):
    root = f.staff_user("root", superuser=True, profile=False)
    assert user_region_ids(root) == set(Region.objects.values_list("id", flat=True))
    assert scope_queryset(PlanYear.objects.all(), root, "scheme__region").count() == 2


def test_user_without_profile_or_regions_sees_nothing(systems):
    nobody = f.staff_user("nobody", perms=RULE_PERMS, profile=False)
    empty = f.staff_user("empty", perms=RULE_PERMS, regions=[])
    for user in (nobody, empty):
        assert user_region_ids(user) == frozenset()
        assert not scope_queryset(PlanYear.objects.all(), user, "scheme__region").exists()
        assert not user_can_access(user, systems["py_a"], "scheme__region")


def test_inactive_user_sees_nothing(user_a):
    user_a.is_active = False
    assert user_region_ids(user_a) == frozenset()


def test_sub_regions_belong_to_their_parent():
    sanming = f.region("350400", "三明市")
    youxi = f.region("350426", "尤溪县", parent=sanming, is_pooling=False)
    town = f.region("350426", "尤溪县")  # get_or_create: same row
    assert town == youxi
    village = f.region("350427", "下级测试区", parent=youxi, is_pooling=False)
    other = f.region("140400", "长治市")
    city_user = f.staff_user("sm", regions=[sanming])
    county_user = f.staff_user("yx", regions=[youxi])
    assert user_region_ids(city_user) == {sanming.id, youxi.id, village.id}
    assert user_region_ids(county_user) == {youxi.id, village.id}
    assert other.id not in user_region_ids(city_user)


def test_scope_queryset_on_rule_rows(systems, user_a):
    rows = scope_queryset(PlanFigure.objects.all(), user_a, "plan_year__scheme__region")
    assert list(rows) == [systems["fig_a"]]
    assert user_can_access(user_a, systems["ben_a"], "plan_year__scheme__region")
    assert not user_can_access(user_a, systems["ben_b"], "plan_year__scheme__region")


def test_region_paths():
    assert region_path_for(Region, site) == "pk"
    assert region_path_for(Scheme, site) == "region"
    assert region_path_for(PlanYear, site) == "scheme__region"
    assert region_path_for(BenefitRule, site) == "plan_year__scheme__region"
    assert region_path_for(ChronicDisease, site) == "region"
    assert region_path_for(Identity, site) is None


# --------------------------------------------------------------------------- admin


def test_changelists_show_only_own_region(client, systems, user_a):
    client.force_login(user_a)
    page = client.get(admin_url(PlanYear)).content.decode()
    assert str(systems["py_a"]) in page
    assert str(systems["py_b"]) not in page
    for model, own, other in [(PlanFigure, "fig_a", "fig_b"), (BenefitRule, "ben_a", "ben_b")]:
        response = client.get(admin_url(model))
        assert response.status_code == 200
        ids = {obj.pk for obj in response.context["cl"].result_list}
        assert ids == {systems[own].pk}, model
        assert systems[other].pk not in ids


def test_region_filter_lists_only_own_regions(client, systems, user_a):
    client.force_login(user_a)
    page = client.get(admin_url(BenefitRule)).content.decode()
    assert "垫江县" in page
    assert "长治市" not in page


def test_other_regions_change_pages_do_not_open(client, systems, user_a):
    client.force_login(user_a)
    for model, key in [(PlanYear, "py_b"), (PlanFigure, "fig_b"), (BenefitRule, "ben_b"),
                       (Region, "b")]:
        pk = systems[key].pk
        response = client.get(admin_url(model, "change", pk))
        assert response.status_code == 302, model
        assert response.url == reverse("admin:index")
        # regions are deleted by a superuser only: refused before the object is looked up
        assert client.get(admin_url(model, "delete", pk)).status_code == (403 if model is Region else 302)
        assert client.get(admin_url(model, "history", pk)).status_code in (302, 403)
    own = client.get(admin_url(PlanYear, "change", systems["py_a"].pk))
    assert own.status_code == 200


def test_other_regions_history_versions_are_forbidden(client, systems, user_a):
    client.force_login(user_a)
    row = systems["fig_b"]
    version = row.history.latest()
    url = reverse("admin:policies_planfigure_simple_history", args=[row.pk, version.history_id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"value": "1.00"}).status_code == 403
    assert client.get(admin_url(PlanFigure, "history", row.pk)).status_code == 403


def test_other_regions_rows_cannot_be_changed_by_post(client, systems, user_a):
    client.force_login(user_a)
    row = systems["fig_b"]
    response = client.post(admin_url(PlanFigure, "change", row.pk), {
        "plan_year": systems["py_b"].pk, "code": row.code, "value": "1.00", "note": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    assert str(row.value) == "640.00"


def test_foreign_key_choices_are_scoped(client, systems, user_a):
    client.force_login(user_a)
    response = client.get(admin_url(PlanFigure, "add"))
    field = response.context["adminform"].form.fields["plan_year"]
    assert set(field.queryset) == {systems["py_a"]}
    page = response.content.decode()
    assert f'value="{systems["py_a"].pk}"' in page
    assert f'value="{systems["py_b"].pk}"' not in page

    # Posting region B's plan year by hand is rejected and nothing is written.
    before = PlanFigure.objects.count()
    response = client.post(admin_url(PlanFigure, "add"), {
        "plan_year": systems["py_b"].pk, "code": PlanFigure.Code.MINOR_AGE, "value": "18"})
    assert response.status_code == 200
    assert "plan_year" in response.context["adminform"].form.errors
    assert PlanFigure.objects.count() == before

    schemes = client.get(admin_url(PlanYear, "add")).context["adminform"].form.fields["scheme"]
    assert set(schemes.queryset) == {systems["py_a"].scheme}


def test_superuser_sees_all_rows(client, systems):
    root = f.staff_user("root", superuser=True, profile=False)
    client.force_login(root)
    response = client.get(admin_url(BenefitRule))
    assert {o.pk for o in response.context["cl"].result_list} == {
        systems["ben_a"].pk, systems["ben_b"].pk}
    assert client.get(admin_url(PlanYear, "change", systems["py_b"].pk)).status_code == 200


def test_user_without_regions_sees_empty_lists(client, systems):
    user = f.staff_user("empty", perms=RULE_PERMS, regions=[])
    client.force_login(user)
    response = client.get(admin_url(PlanYear))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert client.get(admin_url(PlanYear, "change", systems["py_a"].pk)).status_code == 302


def test_shared_holidays_visible_but_only_superuser_changes_them(client, systems, user_a):
    national = f.holiday(datetime.date(2024, 10, 1), name="国庆节")
    local = f.holiday(datetime.date(2024, 10, 2), reg=systems["a"], name="本地")
    foreign = f.holiday(datetime.date(2024, 10, 3), reg=systems["b"], name="外地")
    client.force_login(user_a)
    ids = {o.pk for o in client.get(admin_url(Holiday)).context["cl"].result_list}
    assert ids == {national.pk, local.pk}
    shared_page = client.get(admin_url(Holiday, "change", national.pk))
    assert shared_page.status_code == 200
    assert not shared_page.context["has_change_permission"]
    assert client.get(admin_url(Holiday, "change", local.pk)).context["has_change_permission"]
    assert client.get(admin_url(Holiday, "change", foreign.pk)).status_code == 302


def test_regional_user_cannot_add_regions(client, systems, user_a):
    client.force_login(user_a)
    assert client.get(admin_url(Region, "add")).status_code == 403
    ids = {o.pk for o in client.get(admin_url(Region)).context["cl"].result_list}
    assert ids == {systems["a"].pk}
