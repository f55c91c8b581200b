"""Policies admin: plan-year page with every rule table, history, status rules
(policies.admin, docs/access.md §年度方案状态)."""
import re
from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.urls import reverse

from policies import admin as policies_admin
from policies.models import (
    RULE_MODELS,
    ContributionStandard,
    EnrollmentWindow,
    PlanFigure,
    PlanYear,
    Scheme,
)
from policies.roles import CLERK, POLICY_OFFICER, SUPERVISOR, roles_sync

from . import factories as f

pytestmark = pytest.mark.django_db

SEED_REGIONS = ["511100", "500231", "350400", "140400", "371500"]


def url(model, action="changelist", *args):
    return reverse(f"admin:policies_{model._meta.model_name}_{action}", args=args)


def inline_prefix(model):
    return f"{model._meta.model_name}_rows"


@pytest.fixture
def root(client):
    user = f.staff_user("root", superuser=True, profile=False)
    client.force_login(user)
    return user


@pytest.fixture
def systems():
    return f.two_systems()


def role_user(name, role, regions):
    roles_sync()
    return f.staff_user(name, regions=regions, groups=[Group.objects.get(name=role)])


def formset_data(response):
    """POST data reproducing every form and inline formset of a rendered change page."""
    data = {}
    context = response.context
    form = context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for sub in formset.forms:
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                if value is None or value is False:
                    continue
                data[sub.add_prefix(name)] = value.pk if hasattr(value, "pk") else value
    return data


# --------------------------------------------------------------------------- registration


def test_every_rule_model_has_its_own_history_admin():
    for model in RULE_MODELS:
        model_admin = django_admin.site._registry[model]
        assert isinstance(model_admin, policies_admin.PlanRowAdmin), model
        assert model_admin.region_field == "plan_year__scheme__region"
    inline_models = [inline.model for inline in policies_admin.PlanYearAdmin.inlines]
    assert inline_models == list(RULE_MODELS)
    assert all(inline.extra == 0 for inline in policies_admin.PlanYearAdmin.inlines)
    with_link = {i.model for i in policies_admin.PlanYearAdmin.inlines if i.show_change_link}
    assert EnrollmentWindow in with_link and PlanFigure not in with_link


def test_every_rule_changelist_renders(client, root, systems):
    for model in RULE_MODELS:
        response = client.get(url(model))
        assert response.status_code == 200, model
        assert response.context["cl"].list_filter


def test_site_is_chinese_and_uses_local_assets_only(client, root, systems):
    for path in [reverse("admin:index"), url(PlanYear, "change", systems["py_a"].pk),
                 url(PlanFigure)]:
        page = client.get(path).content.decode()
        assert "医疗保障经办管理系统" in page
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]*)"', page)
        assert external == [], external
    client.logout()
    login = client.get("/admin/login/")
    assert "医疗保障经办管理系统" in login.content.decode()


# --------------------------------------------------------------------------- plan year page


def test_plan_year_page_shows_every_rule_table(client, root, systems):
    py = systems["py_a"]
    window = EnrollmentWindow.objects.create(
        plan_year=py, code="regular", name="集中缴费期", coverage_rule="fixed",
        coverage_start="2024-01-01", coverage_end="2024-12-31")
    ContributionStandard.objects.create(plan_year=py, window=window, tier=0, amount=Decimal("380"))
    response = client.get(url(PlanYear, "change", py.pk))
    assert response.status_code == 200
    page = response.content.decode()
    for model in RULE_MODELS:
        assert f'id="{inline_prefix(model)}-group"' in page, model
    assert 'value="670.00"' in page and 'value="800.00"' in page
    assert reverse("admin:policies_planfigure_history", args=[systems["fig_a"].pk]) in page
    # a standard's window can only be one of this plan year's windows
    other_window = EnrollmentWindow.objects.create(
        plan_year=systems["py_b"], code="regular", name="长治缴费期", coverage_rule="next_day",
        coverage_end="2024-12-31")
    response = client.get(url(PlanYear, "change", py.pk))
    standards = next(i for i in response.context["inline_admin_formsets"]
                     if i.opts.model is ContributionStandard)
    choices = set(standards.formset.forms[0].fields["window"].queryset)
    assert choices == {window} and other_window not in choices


def test_new_plan_year_page_shows_every_rule_table_without_choices(client, root, systems):
    """The 新增 page: no plan year yet, so each table's row choices are empty (``none()``,
    which has no statement to read once for several tables: policies/admin.py field_rows)."""
    response = client.get(url(PlanYear, "add"))
    assert response.status_code == 200
    page = response.content.decode()
    for model in RULE_MODELS:
        assert f'id="{inline_prefix(model)}-group"' in page, model
    standards = next(i for i in response.context["inline_admin_formsets"]
                     if i.opts.model is ContributionStandard)
    assert list(standards.formset.empty_form.fields["window"].choices) == [("", "---------")]


@pytest.mark.parametrize("region_code", SEED_REGIONS)
def test_seed_plan_year_pages_render_all_inlines(client, loaded_policies, region_code):
    user = f.staff_user("root", superuser=True, profile=False)
    client.force_login(user)
    plan_years = PlanYear.objects.filter(scheme__region__code=region_code, year=2024)
    assert plan_years.exists()
    for py in plan_years:
        response = client.get(url(PlanYear, "change", py.pk))
        assert response.status_code == 200, py
        page = response.content.decode()
        for model in RULE_MODELS:
            assert f'id="{inline_prefix(model)}-group"' in page, (py, model)


def test_policy_officer_edits_active_plan_year_and_history_records_it(client, systems):
    officer = role_user("zhengce", POLICY_OFFICER, [systems["a"]])
    client.force_login(officer)
    py, row = systems["py_a"], systems["fig_a"]
    change = url(PlanYear, "change", py.pk)
    response = client.get(change)
    assert policies_admin.ACTIVE_NOTICE in response.content.decode()
    data = formset_data(response)
    key = next(k for k, v in data.items() if k.startswith(inline_prefix(PlanFigure))
               and k.endswith("-value"))
    assert Decimal(str(data[key])) == Decimal("670.00")
    data[key] = "680.00"
    response = client.post(change, data)
    assert response.status_code == 302, response.context and [
        i.formset.errors for i in response.context["inline_admin_formsets"] if any(i.formset.errors)]
    row.refresh_from_db()
    assert row.value == Decimal("680.00")
    last = row.history.latest()
    assert last.history_user == officer
    assert last.prev_record.value == Decimal("670.00")
    history = client.get(url(PlanFigure, "history", row.pk)).content.decode()
    assert "670.00" in history and "680.00" in history and "zhengce" in history


def test_other_roles_cannot_edit_parameters(client, systems):
    for name, role in [("jianguan", SUPERVISOR), ("jingban", CLERK)]:
        user = role_user(name, role, [systems["a"]])
        client.force_login(user)
        response = client.get(url(PlanYear, "change", systems["py_a"].pk))
        assert response.status_code == 200
        assert not response.context["has_change_permission"]
        assert 'name="_save"' not in response.content.decode()
        response = client.post(url(PlanFigure, "change", systems["fig_a"].pk),
                               {"plan_year": systems["py_a"].pk, "code": "fiscal_subsidy",
                                "value": "1.00"})
        assert response.status_code == 403
    systems["fig_a"].refresh_from_db()
    assert systems["fig_a"].value == Decimal("670.00")


def test_draft_has_no_banner(client, root):
    py = f.plan_year(f.scheme(f.region("500231", "垫江县")), year=2025)
    page = client.get(url(PlanYear, "change", py.pk)).content.decode()
    assert policies_admin.ACTIVE_NOTICE not in page
    assert policies_admin.CLOSED_NOTICE not in page


def test_closed_plan_year_is_read_only_for_everyone(client, root, systems):
    py, row = systems["py_a"], systems["fig_a"]
    PlanYear.objects.filter(pk=py.pk).update(status=PlanYear.Status.CLOSED)
    response = client.get(url(PlanYear, "change", py.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert policies_admin.CLOSED_NOTICE in page
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in page
    for inline in response.context["inline_admin_formsets"]:
        assert not inline.has_add_permission and not inline.has_change_permission
        assert not inline.has_delete_permission
    assert client.post(url(PlanYear, "change", py.pk), {"source": "x"}).status_code == 403
    response = client.post(url(PlanFigure, "change", row.pk),
                           {"plan_year": py.pk, "code": row.code, "value": "1.00"})
    assert response.status_code == 403
    assert client.post(url(PlanFigure, "delete", row.pk), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.value == Decimal("670.00")
    # no new row can be attached to a closed plan year
    response = client.post(url(PlanFigure, "add"), {"plan_year": py.pk, "code": "minor_age",
                                                    "value": "18"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["plan_year"]
    assert "已关闭，不能新增或修改其参数" in errors[0]
    # reverting an old version is refused as well
    version = row.history.earliest()
    revert = reverse("admin:policies_planfigure_simple_history", args=[row.pk, version.history_id])
    assert client.get(revert).status_code == 200
    assert client.post(revert, {"plan_year": py.pk, "code": row.code,
                                "value": "5.00"}).status_code == 403


def test_status_actions_follow_draft_active_closed(client, root, systems):
    draft = f.plan_year(systems["py_a"].scheme, year=2025)
    changelist = url(PlanYear)

    def act(action, *objs):
        return client.post(changelist, {"action": action,
                                        "_selected_action": [o.pk for o in objs]}, follow=True)

    page = act("close", draft).content.decode()
    assert "不能从“草稿”改为“已关闭”" in page
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.DRAFT
    act("activate", draft)
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.ACTIVE
    assert draft.history.latest().history_user == root
    act("close", draft)
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.CLOSED
    page = act("activate", draft).content.decode()
    assert "不能从“已关闭”改为“生效”" in page
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.CLOSED


def test_status_is_not_editable_in_the_form(client, root, systems):
    response = client.get(url(PlanYear, "change", systems["py_a"].pk))
    assert "status" not in response.context["adminform"].form.fields
    assert "scheme" not in response.context["adminform"].form.fields


def test_only_draft_plan_years_can_be_deleted(client, root, systems):
    draft = f.plan_year(systems["py_a"].scheme, year=2025)
    assert client.get(url(PlanYear, "delete", systems["py_a"].pk)).status_code == 403
    response = client.post(url(PlanYear, "delete", draft.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not PlanYear.objects.filter(pk=draft.pk).exists()


def test_scheme_and_code_tables_render(client, root, systems):
    for model in [Scheme, PlanYear]:
        assert client.get(url(model)).status_code == 200
    for name in ["region", "identity", "chronicdisease", "holiday", "staffprofile"]:
        assert client.get(reverse(f"admin:policies_{name}_changelist")).status_code == 200
    page = client.get(reverse("admin:auth_user_change", args=[root.pk])).content.decode()
    assert "负责统筹区" in page
