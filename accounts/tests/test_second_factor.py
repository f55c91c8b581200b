"""Two-step login (等保三级 身份鉴别: two factors): TOTP with django-otp, required per role
and for superusers by settings, recovery codes, wrong codes counted by django-axes
(docs/security.md §双因素认证)."""
import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountSecurity
from accounts.services import account_mark_demo

from .helpers import authenticator, current_code, password_login, staff

pytestmark = pytest.mark.django_db

CLERK = "经办员"
IP = "10.0.0.1"  # password_login's address: axes locks a username from one address
VERIFY = "/admin/otp/verify/"
SETUP = "/admin/otp/setup/"


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED_ROLES = [CLERK]
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    return settings


def test_user_with_an_authenticator_is_asked_for_the_code(client):
    user = staff()
    device = authenticator(user)
    assert password_login(client).status_code == 302
    response = client.get("/admin/enrollment/person/")
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    page = client.get(response.url).content.decode()
    assert "6 位数字验证码" in page and "恢复码" in page
    response = client.post(response.url, {"otp_token": current_code(device),
                                          "next": "/admin/enrollment/person/"})
    assert response.status_code == 302 and response.url == "/admin/enrollment/person/"
    assert client.get("/admin/").status_code == 200


def test_wrong_code_is_refused_in_chinese_and_counted_by_axes(client):
    from axes.models import AccessAttempt

    user = staff()
    authenticator(user)
    password_login(client)
    response = client.post(VERIFY, {"otp_token": "000000"})
    assert response.status_code == 200 and "验证码不正确或已过期" in response.content.decode()
    assert AccessAttempt.objects.get(username="jingban").failures_since_start == 1
    assert client.get("/admin/").url.startswith(VERIFY)  # still not in


def test_five_wrong_codes_lock_the_account_and_end_the_session(client):
    user = staff()
    authenticator(user)
    password_login(client)
    for _ in range(4):
        assert client.post(VERIFY, {"otp_token": "000000"}, REMOTE_ADDR=IP).status_code == 200
    response = client.post(VERIFY, {"otp_token": "000000"}, REMOTE_ADDR=IP)
    assert response.status_code == 429 and "账户已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # the password alone does not open a way back in during the lock
    assert password_login(client).status_code == 429


def test_wrong_codes_slow_down_the_authenticator_across_logins(client):
    # a new password login resets axes' counter (AXES_RESET_ON_SUCCESS), not the device's
    user = staff()
    device = authenticator(user)
    password_login(client)
    for _ in range(3):
        client.post(VERIFY, {"otp_token": "000000"}, REMOTE_ADDR=IP)
    client.post("/admin/logout/")
    password_login(client)
    response = client.post(VERIFY, {"otp_token": current_code(device)}, REMOTE_ADDR=IP)
    assert response.status_code == 200 and "秒后再输入" in response.content.decode()


def test_role_that_requires_two_factors_enrols_first(client, required):
    user = staff(role=CLERK)
    password_login(client)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(SETUP)
    page = client.get(SETUP).content.decode()
    assert "须启用两步验证" in page
    assert re.search(r"<svg[^>]*>.*<path", page, re.S)  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    import base64

    assert base64.b32decode(secret) == device.bin_key
    # a wrong code leaves it unconfirmed
    response = client.post(SETUP, {"otp_token": "000000"})
    assert "验证码不正确" in response.content.decode()
    assert "秒后再输入" in response.content.decode()  # django-otp's throttling: 1 s, 2 s, …
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # as after the wait
    # the right one confirms it, verifies this session and shows 10 codes once
    response = client.post(SETUP, {"otp_token": current_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response.url.startswith("/admin/otp/recovery-codes/")
    page = client.get(response.url).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.replace("<code>", "<code>").lower())
    assert len(codes) == 10 and "只显示这一次" in page
    assert client.get("/admin/otp/recovery-codes/").status_code == 302  # not a second time
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert client.get("/admin/").status_code == 200


def test_recovery_code_works_once(client):
    user = staff()
    device = StaticDevice.objects.create(user=user, name="恢复码")
    device.token_set.create(token="abcd2345")
    password_login(client)
    assert client.post(VERIFY, {"otp_token": "ABCD 2345"}).status_code == 302
    client.post("/admin/logout/")
    password_login(client)
    response = client.post(VERIFY, {"otp_token": "abcd2345"})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()


def test_role_not_required_and_no_device_logs_in_with_password(client, required):
    staff(role="只读/监管")
    password_login(client)
    assert client.get("/admin/").status_code == 200


def test_superusers_as_the_setting_says(client, required):
    staff("root", superuser=True)
    password_login(client, "root")
    assert client.get("/admin/").url.startswith(SETUP)
    client.post("/admin/logout/")
    required.OTP_REQUIRED_FOR_SUPERUSERS = False
    password_login(client, "root")
    assert client.get("/admin/").status_code == 200


def test_demo_accounts_stay_on_one_factor(client, required):
    user = staff(role=CLERK)
    account_mark_demo(user=user)
    password_login(client)
    assert client.get("/admin/").status_code == 200


def test_pending_second_factor_still_allows_logout(client, required):
    staff(role=CLERK)
    password_login(client)
    response = client.post("/admin/logout/")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_superuser_resets_a_lost_authenticator(client, required):
    user = staff(role=CLERK)
    authenticator(user)
    StaticDevice.objects.create(user=user, name="恢复码")
    state, _ = AccountSecurity.objects.get_or_create(user=user)
    root = staff("root", superuser=True)
    required.OTP_REQUIRED_FOR_SUPERUSERS = False
    client.force_login(root)
    page = client.get("/admin/accounts/accountsecurity/").content.decode()
    assert "重置两步验证" in page
    response = client.post("/admin/accounts/accountsecurity/", {
        "action": "reset_second_factor", "_selected_action": [state.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()



def test_the_logged_out_page_says_so_in_the_tools_words(client, required):
    """注销 leads to a page titled 已注销 (the user tools' word), with the way back to the
    login page, not Django's "登出" and its "感谢您今天与本网站共享一段美好时光"."""
    staff(role=CLERK)
    password_login(client)
    page = client.post("/admin/logout/").content.decode()
    assert "<h1>已注销</h1>" in page and "重新登录" in page and "/admin/login/" in page
    assert "美好时光" not in page and "登出" not in page
