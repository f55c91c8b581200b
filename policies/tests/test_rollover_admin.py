"""复制为新年度草稿 / 生效 on the plan-year page (policies/admin_rollover.py): the policy
officer rolls a plan year over, reviews the draft's rule tables and activates it with a
confirmation; a clerk is refused."""
import pytest
from django.urls import reverse

from policies.models import ContributionStandard, PlanYear
from policies.roles import CLERK, POLICY_OFFICER
from policies.tests.factories import role_staff

pytestmark = pytest.mark.django_db
REGIONS = ("500231", "140400", "511100", "350400", "371500")


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def url(name, *args):
    return reverse(f"admin:policies_planyear_{name}", args=args)


def source():
    return PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic", year=2024)


def test_officer_rolls_over_reviews_and_activates(client, loaded_policies):
    officer = role_staff("zhengce", POLICY_OFFICER, regions=REGIONS)
    client.force_login(officer)
    plan = source()
    page = client.get(url("change", plan.pk)).content.decode()
    assert "复制为新年度草稿" in page and url("rollover", plan.pk) in page
    assert "activate-link" not in page  # 2024 is already active

    form = client.get(url("rollover", plan.pk))
    assert form.status_code == 200 and 'value="2025"' in form.content.decode()
    response = client.post(url("rollover", plan.pk), {"to_year": "2025"}, follow=True)
    draft = PlanYear.objects.get(scheme=plan.scheme, year=2025)
    assert draft.status == PlanYear.Status.DRAFT
    assert response.redirect_chain[-1][0] == url("change", draft.pk)
    text = response.content.decode()
    assert "请逐项核对参数表" in text and "activate-link" in text
    assert ContributionStandard.objects.filter(plan_year=draft).count() == \
        ContributionStandard.objects.filter(plan_year=plan).count()

    # the draft's rule tables are editable: a standard changed on its own page
    standard = ContributionStandard.objects.filter(plan_year=draft, tier=1, window__code="central").get()
    edit = client.get(reverse("admin:policies_contributionstandard_change", args=[standard.pk]))
    assert edit.status_code == 200 and 'name="amount"' in edit.content.decode()

    again = client.post(url("rollover", plan.pk), {"to_year": "2025"})
    assert again.status_code == 200 and "已有 2025 年度方案" in again.content.decode()

    confirm = client.get(url("activate", draft.pk))
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "确认生效" in text and "2024 年度" in text  # names the scheme's active year
    client.post(url("activate", draft.pk), {})  # without ticking the confirmation
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.DRAFT
    client.post(url("activate", draft.pk), {"confirm": "on"})
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.ACTIVE
    assert source().status == PlanYear.Status.ACTIVE  # the previous year stays active (plan_status)


def test_clerk_is_refused(client, loaded_policies):
    clerk = role_staff("jingban", CLERK)
    client.force_login(clerk)
    plan = source()
    page = client.get(url("change", plan.pk)).content.decode()
    assert "复制为新年度草稿" not in page
    assert client.get(url("rollover", plan.pk)).status_code == 403
    assert client.post(url("rollover", plan.pk), {"to_year": "2025"}).status_code == 403
    assert not PlanYear.objects.filter(scheme=plan.scheme, year=2025).exists()
    draft = PlanYear.objects.create(scheme=plan.scheme, year=2026)
    assert client.post(url("activate", draft.pk), {"confirm": "on"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == PlanYear.Status.DRAFT


def test_officer_of_another_region_does_not_find_it(client, loaded_policies):
    client.force_login(role_staff("zhengce_cz", POLICY_OFFICER, regions=("140400",)))
    assert client.get(url("rollover", source().pk)).status_code == 404
