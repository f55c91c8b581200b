"""Browser: a clerk prepares the 三明普惠医联保 2024 year-end statement (年度清算表) on its
admin page and a reviewer signs it (docs/money.md §年度清算); the statement page shows
premium income, the claims by responsibility, the check against the ledger, the expenses
and the 健康管理基金 transfer. Screenshots in $BROWSER_ARTIFACTS."""
from decimal import Decimal

import pytest

from claims import services as claims
from claims.tests.factories import CASES, claim_for_case, enroll, new_person, plan_year
from finance.checks import ledger_differences
from finance.models import YearEndExpense, YearEndStatement
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, recorded_page, save_screenshot

pytestmark = pytest.mark.browser


def test_prepare_and_sign_a_statement(page, browser, live_server, loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clerk = role_staff("jingban_sm", CLERK, ("350400",))
    reviewer = role_staff("shenhe_sm", REVIEWER, ("350400",))
    for _ in range(3):
        enroll(new_person("350400"), "350400", "inclusive_commercial")
    claim = claims.claim_settle(claim=claim_for_case(CASES["ex-6"], acting_user=clerk), acting_user=clerk)
    claims.claim_documents_receive(claim=claim, acting_user=reviewer,
                                   received={d.pk: True for d in claim.documents.all()})
    claims.claim_approve(claim=claim, acting_user=reviewer)
    py = plan_year("350400", "inclusive_commercial")
    YearEndExpense.objects.create(plan_year=py, seq=1, name="运营服务费", method="ratio", ratio=Decimal("8"))

    login(page, live_server, "jingban_sm", PASSWORD, to="/admin/finance/yearendstatement/add/")
    page.select_option("#id_scheme", str(py.scheme_id))
    page.fill("#id_year", "2024")
    page.click("#prepare-form input[type=submit]")
    page.wait_for_selector("#year-end")
    statement = YearEndStatement.objects.get()
    assert page.locator("#statement-status").inner_text() == "草稿"
    assert page.locator("tr[data-code=R1] td").nth(1).inner_text() == "20,000.00"
    assert page.locator("tr[data-code=premium_total] td").nth(1).inner_text() == "600.00"
    assert page.locator("tr[data-code=difference] td").nth(3).inner_text() == "一致"
    assert page.locator("#same-person").count() == 0  # a clerk cannot sign at all
    save_screenshot(page, "year_end_statement_draft")
    assert_only_local_requests(page, live_server)

    with recorded_page(browser, 1600, 1000) as second:
        login(second, live_server, "shenhe_sm", PASSWORD, to=f"/admin/finance/yearendstatement/{statement.pk}/change/")
        second.click("#btn-sign")
        second.wait_for_selector(".messagelist .success")
        assert second.locator("#statement-status").inner_text() == "已签认"
        assert second.locator("#btn-sign").count() == 0
        save_screenshot(second, "year_end_statement_signed")
        assert_only_local_requests(second, live_server)
    statement.refresh_from_db()
    assert statement.status == "signed" and statement.signed_by == reviewer
    assert ledger_differences() == []
