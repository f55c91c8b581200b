"""Browser: a 垫江 clerk enters an inpatient claim (person and hospital through the
autocomplete), settles it from the claim page and opens the printable 结算单
(docs/claims.md). Every request must stay on the live server."""
import re
from decimal import Decimal

import pytest

from claims.models import Claim
from claims.tests.factories import dianjiang_person, hospital
from policies.roles import CLERK
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login

pytestmark = pytest.mark.browser


@pytest.fixture
def clerk(loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return role_staff("jingban_dj", CLERK)


def pick(page, field, term, option):
    """Choose ``option`` in the select2 autocomplete of ``field`` after typing ``term``."""
    page.locator(f"span[aria-labelledby='select2-id_{field}-container']").click()
    page.locator(".select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_clerk_enters_settles_and_prints_a_claim(page, live_server, clerk):
    person = dianjiang_person(tier=1, name="陈静")
    hospital("500231", level=3, grade="A", admin_level="city", name="垫江县第一人民医院",
             code="DJ-RMYY")

    login(page, live_server, "jingban_dj", PASSWORD, to="/admin/claims/claim/add/")
    pick(page, "person", "陈静", "陈静")
    page.select_option("#id_claim_type", "inpatient")
    page.fill("#id_service_date", "2024-05-10")
    pick(page, "hospital", "第一人民", "垫江县第一人民医院")
    page.fill("#id_settlement_no", "DJ-B-0001")
    page.fill("#id_total", "30000")
    # live checks while typing (static/claims/claim_form.js): the derived compliant amount,
    # then an error for a self-paid part above the total, gone once corrected
    assert "合规费用将为 30000.00" in page.locator("#live-check-compliant").inner_text()
    page.fill("#id_out_of_catalog", "30000.01")
    assert "超过医疗总费用 30000.00" in page.locator("#live-check-out_of_catalog").inner_text()
    page.fill("#id_out_of_catalog", "0")
    assert not page.locator("#live-check-out_of_catalog").is_visible()
    page.locator('input[name="_save"]').click()
    page.wait_for_url(re.compile(r"/admin/claims/claim/(\?.*)?$"))
    assert "成功" in page.locator(".messagelist").inner_text()

    claim = Claim.objects.get(settlement_no="DJ-B-0001")
    assert claim.person == person and claim.region.code == "500231"
    page.goto(f"{live_server.url}/admin/claims/claim/{claim.pk}/change/")
    page.locator(".claim-btn-settle").click()
    page.wait_for_url(re.compile(rf"/admin/claims/claim/{claim.pk}/change/"))
    assert "结算完成" in page.locator(".messagelist").inner_text()
    lines = page.locator("table.claim-lines").inner_text()
    # the paid column as every page shows amounts; the engine's explanation keeps its text
    assert "14,600.00" in lines and "(30000.00−800.00)×50% = 14600.00" in lines
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED and claim.fund_total == Decimal("14600.00")

    page.locator(".claim-btn-print").click()
    page.wait_for_url(re.compile(rf"/admin/claims/claim/{claim.pk}/print/"))
    sheet = page.locator("body").inner_text()
    assert "垫江县医疗费用结算单" in sheet and "陈静" in sheet and "15,400.00" in sheet
    assert "垫江县第一人民医院" in sheet
    assert_only_local_requests(page, live_server)
