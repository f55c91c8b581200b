"""Browser: the 等保三级 login controls (accounts app; docs/security.md §会话管理, §双因素认证).

- a 经办员 whose role requires two factors enrols an authenticator (QR code drawn on the
  page, key as text), keeps the recovery codes, and logs in again with password + TOTP code
  (computed here from the key shown, as the phone app does);
- an idle session: the warning appears before the end, 继续使用 keeps the session, then
  without activity the page ends on the login page with the Chinese message.
Every request stays on the live server (the QR code is inline SVG, no CDN).
"""
import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import totp

from policies.roles import CLERK, roles_sync
from policies.staff import staff_user_ensure

from .conftest import assert_only_local_requests, save_screenshot, session_cookie

pytestmark = pytest.mark.browser

PASSWORD = "Yibao#2024demo"


@pytest.fixture
def clerk(loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    roles_sync()
    from policies.models import Region

    user, _ = staff_user_ensure(username="jingban_dj", password=PASSWORD, role=CLERK,
                                regions=[Region.objects.get(code="500231")])
    return user


def code_of(secret: str, *, steps_ahead=0) -> str:
    """What an authenticator app shows for the key (30-second steps, 6 digits)."""
    return f"{totp(b32decode(secret), step=30, t0=0, digits=6, drift=steps_ahead):06d}"


def password_step(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_clerk_enrols_an_authenticator_and_logs_in_with_totp(page, live_server, clerk, settings):
    settings.OTP_REQUIRED_ROLES = [CLERK]
    # the wait after a wrong code: 0.2 s instead of 1 s (django-otp's default), the same
    # refusal of a code sent before it has passed; each second here is waited for
    settings.OTP_TOTP_THROTTLE_FACTOR = 0.2

    # first login: the password, then the enrolment page (the role requires two factors)
    password_step(page, live_server, "jingban_dj")
    page.wait_for_url(re.compile(r"/admin/otp/setup/"))
    assert "须启用两步验证" in page.content()
    assert page.locator("#otp-qr svg").is_visible()
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    save_screenshot(page, "security-otp-setup")
    page.fill("#id_otp_token", code_of(secret))
    page.click("#otp-setup-form input[type=submit]")

    # the recovery codes, shown once; then the site
    page.wait_for_url(re.compile(r"/admin/otp/recovery-codes/"))
    assert page.locator("#recovery-codes li").count() == 10
    assert "只显示这一次" in page.content()
    page.click("#recovery-done")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "站点管理" in page.content() or "医疗保障经办管理系统" in page.content()

    # log out; the next login asks for the code after the password
    page.click("#logout-form button")
    password_step(page, live_server, "jingban_dj")
    page.wait_for_url(re.compile(r"/admin/otp/verify/"))
    assert "6 位数字验证码" in page.content()
    # a wrong code is refused in Chinese
    page.fill("#id_otp_token", "000000")
    page.click("#otp-form input[type=submit]")
    assert "验证码不正确或已过期" in page.locator(".errornote").inner_text()
    time.sleep(0.3)  # django-otp waits after a wrong code (OTP_TOTP_THROTTLE_FACTOR s, below)
    # the app's code (the next step: the enrolment code of this step may not be used twice)
    page.fill("#id_otp_token", code_of(secret, steps_ahead=1))
    page.click("#otp-form input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/enrollment/person/")
    assert "/admin/enrollment/person/" in page.url
    assert_only_local_requests(page, live_server)


def test_idle_session_warns_then_ends_on_the_login_page(page, live_server, clerk, settings):
    # 4 s; the warning at half of it (2 s). The server counts from the page's request, the
    # page from its load: the page is a light one (the person list, empty), logged in by a
    # session cookie (this test is not about the login form), so that the two clocks start
    # together and the 2 s between the warning and the server's end are left to see the
    # warning and click (the dashboard behind the login form took ≈ 1.5 s to render under
    # load). Each second here is a second of waiting: 6 s before, the run ≈ 4 s shorter.
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 4 / 60
    timeout = 4
    start = f"{live_server.url}/admin/enrollment/person/"
    page.context.add_cookies([session_cookie(live_server, clerk)])
    page.goto(start)
    loaded = time.monotonic()
    assert page.url == start  # logged in
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()

    # the warning shows before the end; 继续使用 keeps the session
    warning.wait_for(state="visible", timeout=timeout * 1000)
    assert "即将因长时间未操作而退出登录" in warning.inner_text()
    save_screenshot(page, "security-idle-warning", full_page=False)
    page.click("#idle-continue")
    warning.wait_for(state="hidden", timeout=5_000)
    # past the end the page would have had without 继续使用 (the timeout, then a second
    # late), by a second: still logged in
    time.sleep(max(0.0, loaded + timeout + 2 - time.monotonic()))
    assert page.url == start

    # then nothing: the page goes to the login page, which says why
    page.wait_for_url(re.compile(r"/admin/login/"), timeout=20_000)
    assert "由于长时间未操作" in page.locator(".messagelist").inner_text()
    assert "您已自动退出登录" in page.content()
    # the session is over on the server: a page asks for the login again
    page.goto(f"{live_server.url}/admin/enrollment/person/")
    assert "/admin/login/" in page.url
    assert_only_local_requests(page, live_server)


def test_superuser_unlocks_a_locked_clerk_from_the_failure_records(page, live_server, clerk):
    from django.contrib.auth import get_user_model

    # five wrong passwords from the browser lock the clerk: the lockout page says to ask
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "jingban_dj")
        page.fill("#id_password", "wrong-password")
        page.click("input[type=submit]")
    assert "联系系统管理员解除锁定" in page.content()

    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(live_server, root)])
    page.goto(f"{live_server.url}/admin/axes/accessattempt/")
    row = page.locator("#result_list tbody tr").first
    assert "jingban_dj" in row.inner_text() and "已锁定" in row.inner_text()
    save_screenshot(page, "security-failure-records")
    page.click("#result_list tbody tr th a")
    save_screenshot(page, "security-failure-record")
    assert "csrfmiddlewaretoken" not in page.locator("#content").inner_text()
    page.go_back()
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "unlock")
    page.click("button[name=index]")
    assert "已解除 1 个账户的登录锁定：jingban_dj" in page.locator(".messagelist").inner_text()
    save_screenshot(page, "security-unlocked")

    # the clerk logs in again
    page.context.clear_cookies()
    password_step(page, live_server, "jingban_dj")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert_only_local_requests(page, live_server)
