"""Browser: the claim page's buttons that POST (结算, 审核通过, 登记支付, …: a <button> in a
form) look like the object tools' links (试算, 打印结算单), not like plain text (issue 11
item 9). Screenshot in $BROWSER_ARTIFACTS."""
import pytest

from claims.tests.factories import dianjiang_person, outpatient
from policies.roles import CLERK
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = pytest.mark.browser

LOOK = ["background-color", "color", "border-radius", "padding-left", "font-size",
        "text-transform", "border-top-width", "cursor"]
STYLE = "(e, names) => Object.fromEntries(names.map(n => [n, getComputedStyle(e).getPropertyValue(n)]))"


def test_post_buttons_look_like_the_other_tools(page, live_server, loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clerk = role_staff("jingban_dj", CLERK)
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    login(page, live_server, "jingban_dj", PASSWORD, to=f"/admin/claims/claim/{claim.pk}/change/")
    link = page.locator(".object-tools .claim-btn-trial").evaluate(STYLE, LOOK)
    button = page.locator(".object-tools button.claim-btn-settle").evaluate(STYLE, LOOK)
    link["cursor"] = "pointer"  # a link's cursor comes from the user agent
    assert button == link
    save_screenshot(page, "claim_page_buttons", full_page=False)
    assert_only_local_requests(page, live_server)
