"""冻结参保率: service permissions, closed plan years, history; the dashboard button."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from policies.models import PlanYear
from reports.services import participation_rate_freeze

from . import dataset
from .factories import user_with

pytestmark = pytest.mark.django_db

OFFICER_PERMS = ["reports.view_report", "policies.change_planyear", "policies.view_planyear"]


@pytest.fixture
def data():
    return dataset.build()


def test_officer_freezes_rate_with_history(data):
    officer = user_with("officer", regions=[data.sanming], perms=OFFICER_PERMS)
    result = participation_rate_freeze(plan_year=data.sm_commercial, rate=Decimal("28.5714"),
                                       acting_user=officer)
    assert result.official_participation_rate == Decimal("28.57")
    data.sm_commercial.refresh_from_db()
    assert data.sm_commercial.official_participation_rate == Decimal("28.57")
    last = data.sm_commercial.history.latest()
    assert last.history_user == officer
    assert last.history_change_reason == "冻结参保率"
    assert last.official_participation_rate == Decimal("28.57")


def test_freeze_needs_change_permission_and_region(data):
    viewer = user_with("viewer", regions=[data.sanming], perms=["reports.view_report"])
    with pytest.raises(PermissionDenied):
        participation_rate_freeze(plan_year=data.sm_commercial, rate=Decimal("28.57"),
                                  acting_user=viewer)
    other = user_with("lc_officer", regions=[data.liaocheng], perms=OFFICER_PERMS)
    with pytest.raises(PermissionDenied):
        participation_rate_freeze(plan_year=data.sm_commercial, rate=Decimal("28.57"),
                                  acting_user=other)
    data.sm_commercial.refresh_from_db()
    assert data.sm_commercial.official_participation_rate is None


def test_freeze_refused_on_closed_plan_year(data):
    officer = user_with("officer", regions=[data.sanming], perms=OFFICER_PERMS)
    with pytest.raises(ValidationError) as exc:
        participation_rate_freeze(plan_year=data.sm_commercial_2023, rate=Decimal("25"),
                                  acting_user=officer)
    assert "已关闭" in exc.value.message_dict["official_participation_rate"][0]
    data.sm_commercial_2023.refresh_from_db()
    assert data.sm_commercial_2023.official_participation_rate is None


@pytest.mark.parametrize("rate, message", [(None, "无法计算"), (Decimal("100.01"), "0%–100%"),
                                           ("abc", "不是数字")])
def test_freeze_refuses_bad_rate(data, rate, message):
    officer = user_with("officer", regions=[data.sanming], perms=OFFICER_PERMS)
    with pytest.raises(ValidationError) as exc:
        participation_rate_freeze(plan_year=data.sm_commercial, rate=rate, acting_user=officer)
    assert message in exc.value.message_dict["official_participation_rate"][0]


def test_freeze_button_freezes_computed_rate(client, data):
    officer = user_with("officer", regions=[data.sanming], perms=OFFICER_PERMS)
    client.force_login(officer)
    page = client.get(reverse("admin:index")).content.decode()
    freeze_url = reverse("reports:freeze", args=[data.sm_commercial.pk])
    assert freeze_url in page and "冻结为官方参保率（28.57%）" in page
    # the closed 2023 plan year has no button
    assert reverse("reports:freeze", args=[data.sm_commercial_2023.pk]) not in page
    response = client.post(freeze_url, {"next": "/admin/?year=2024"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/?year=2024"
    assert "官方参保率冻结为 28.57%" in response.content.decode()
    data.sm_commercial.refresh_from_db()
    assert data.sm_commercial.official_participation_rate == Decimal("28.57")


def test_freeze_button_refusals(client, data):
    viewer = user_with("viewer", regions=[data.sanming], perms=["reports.view_report"])
    client.force_login(viewer)
    freeze_url = reverse("reports:freeze", args=[data.sm_commercial.pk])
    assert freeze_url not in client.get(reverse("admin:index")).content.decode()
    response = client.post(freeze_url, {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:index")  # unsafe next ignored
    assert "无权冻结" in response.content.decode()
    # another region's plan year does not exist for this user
    lc_url = reverse("reports:freeze", args=[data.lc_commercial.pk])
    assert client.post(lc_url).status_code == 404
    assert client.get(freeze_url).status_code == 405
    officer = user_with("officer", regions=[data.sanming], perms=OFFICER_PERMS)
    client.force_login(officer)
    closed = reverse("reports:freeze", args=[data.sm_commercial_2023.pk])
    response = client.post(closed, follow=True)
    # 2023 has no basic insured persons → the computed rate cannot be frozen
    assert "无法计算" in response.content.decode()
    assert PlanYear.objects.get(pk=data.sm_commercial_2023.pk).official_participation_rate is None
