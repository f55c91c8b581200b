"""Browser: the 审计员 logs in, opens 审计日志 from the admin index and finds the entry of
their own login, and of a failed login before it (docs/security.md §审计日志)."""
import pytest

from policies.roles import AUDITOR, roles_sync
from policies.staff import staff_user_ensure

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = pytest.mark.browser

PASSWORD = "Yibao#2024demo"


@pytest.fixture
def auditor(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    roles_sync()
    user, _ = staff_user_ensure(username="shenji", password=PASSWORD, role=AUDITOR, regions=[])
    return user


def test_auditor_finds_the_login_in_the_audit_log(page, live_server, auditor):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "shenji")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    assert "请输入" in page.content() or "不正确" in page.content()

    login(page, live_server, "shenji", PASSWORD)
    page.get_by_role("link", name="审计日志", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/audit/auditentry/")
    assert page.locator("h1").inner_text() == "选择审计日志查看"
    page.get_by_role("link", name="登录", exact=True).click()  # the 操作 filter
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "shenji" in row and "登录" in row and "127.0.0.1" in row
    page.goto(f"{live_server.url}/admin/audit/auditentry/?q=shenji")
    text = page.locator("#result_list").inner_text()
    assert "登录失败" in text and "登录" in text
    assert page.get_by_role("link", name="导出 Excel").is_visible()
    save_screenshot(page, "audit_log_auditor")
    assert_only_local_requests(page, live_server)
