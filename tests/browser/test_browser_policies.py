"""Browser: a policy officer edits a 垫江 2024 parameter and reads its history
(policies admin; docs/access.md). Every request must stay on the live server."""
import re
from decimal import Decimal

import pytest

from policies.models import PlanFigure, PlanYear
from policies.roles import POLICY_OFFICER, roles_sync
from policies.staff import staff_user_ensure

from .conftest import assert_only_local_requests, login

pytestmark = pytest.mark.browser

PASSWORD = "Yibao#2024demo"


@pytest.fixture
def officer(loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    roles_sync()
    dianjiang = PlanYear.objects.get(scheme__region__code="500231", year=2024,
                                     scheme__kind="resident_basic").scheme.region
    user, _ = staff_user_ensure(username="zhengce", password=PASSWORD, role=POLICY_OFFICER,
                                regions=[dianjiang])
    return user


def test_policy_officer_edits_fiscal_subsidy_and_sees_history(page, live_server, officer):
    plan_year = PlanYear.objects.get(scheme__region__code="500231", year=2024,
                                     scheme__kind="resident_basic")
    figure = PlanFigure.objects.get(plan_year=plan_year, code=PlanFigure.Code.FISCAL_SUBSIDY)
    old = figure.value

    login(page, live_server, "zhengce", PASSWORD)
    assert "医疗保障经办管理系统" in page.content()

    # 年度方案 list → the 垫江 resident plan year of 2024
    page.goto(f"{live_server.url}/admin/policies/planyear/?q=垫江")
    page.get_by_role("link", name=re.compile(r"垫江县 城乡居民基本医疗保险 2024")).first.click()
    page.wait_for_url(re.compile(rf"/admin/policies/planyear/{plan_year.pk}/change/"))
    assert "本年度方案已生效" in page.content()

    # the F row of the 参考指标 tab shows the fixture's value; change it
    page.locator('.rule-tabs a[href="#planfigure_rows-group"]').click()
    group = page.locator("#planfigure_rows-group")
    row = group.locator("tr.has_original").filter(
        has=page.locator('select[name$="-code"] option[value="fiscal_subsidy"][selected]'))
    value_input = row.locator('input[name$="-value"]')
    assert Decimal(value_input.input_value()) == old
    new = old + 10
    value_input.fill(str(new))
    page.locator('#planyear_form input[name="_save"]').last.click()
    page.wait_for_url(re.compile(r"/admin/policies/planyear/(\?.*)?$"))
    assert "成功" in page.locator(".messagelist").inner_text()
    figure.refresh_from_db()
    assert figure.value == new

    # the row's history: who, and old → new
    page.goto(f"{live_server.url}/admin/policies/planyear/{plan_year.pk}/change/")
    page.locator('.rule-tabs a[href="#planfigure_rows-group"]').click()
    history_link = page.locator("#planfigure_rows-group tr.has_original").filter(
        has=page.locator('select[name$="-code"] option[value="fiscal_subsidy"][selected]')
    ).get_by_role("link", name="历史")
    history_link.click()
    page.wait_for_url(re.compile(rf"/admin/policies/planfigure/{figure.pk}/history/"))
    history = page.locator("#change-history").inner_text()
    assert "zhengce" in history
    assert f"{old:.2f}" in history and f"{new:.2f}" in history

    assert_only_local_requests(page, live_server)
