"""Browser: a role whose 脱敏规则 for 姓名 is 部分遮盖 reads 张* on the person list and on a
claim page, never the full name (policies/masking.py; issue 15). Screenshots in
$BROWSER_ARTIFACTS."""
import pytest

from claims.tests.factories import dianjiang_person, outpatient
from policies.models import MaskingRule
from policies.roles import CLERK, SUPERVISOR
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = pytest.mark.browser


def test_a_partly_masked_role_reads_the_surname_only(page, live_server, loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clerk = role_staff("jingban_dj", CLERK)
    role_staff("jianguan", SUPERVISOR)
    claim = outpatient(dianjiang_person(name="张三"), "400", acting_user=clerk)
    outpatient(dianjiang_person(name="欧阳娜娜"), "300", acting_user=clerk)
    MaskingRule.objects.filter(group__name=SUPERVISOR, field="name").update(mode="partial", keep_head=1)
    login(page, live_server, "jianguan", PASSWORD, to="/admin/enrollment/person/")
    names = page.locator("#result_list tbody tr td:nth-child(2), #result_list tbody tr th").all_inner_texts()
    assert "张*" in names and "欧阳**" in names, names
    assert "张三" not in page.content() and "欧阳娜娜" not in page.content()
    save_screenshot(page, "name_masking_person_list", full_page=False)

    page.goto(f"{live_server.url}/admin/claims/claim/{claim.pk}/change/")
    assert "张*" in page.locator(".claim-person").inner_text()
    assert "张三" not in page.content()
    save_screenshot(page, "name_masking_claim_page", full_page=False)
    assert_only_local_requests(page, live_server)
