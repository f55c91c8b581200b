"""Sessions (等保三级 会话管理): idle logout after SESSION_IDLE_TIMEOUT_MINUTES, the cookie
ends with the browser, a warning before (docs/security.md §会话管理)."""
import pytest

from accounts.middleware import LAST_ACTIVITY_KEY

from .helpers import password_login, staff

pytestmark = pytest.mark.django_db


def idle_for(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_KEY] -= seconds
    session.save()


@pytest.fixture
def logged_in(client, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    staff()
    password_login(client)
    client.get("/admin/")  # first request after login: the activity clock starts
    return client


def test_session_settings():
    from django.conf import settings

    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30


def test_session_cookie_has_no_expiry(client):
    staff()
    response = password_login(client)
    cookie = response.cookies["sessionid"]
    assert not cookie["expires"] and not cookie["max-age"]  # gone when the browser closes


def test_idle_session_ends_with_a_chinese_message_on_the_login_page(logged_in):
    idle_for(logged_in, 30 * 60 + 5)
    response = logged_in.get("/admin/enrollment/person/?q=1")
    assert response.status_code == 302
    assert response.url == "/admin/login/?next=%2Fadmin%2Fenrollment%2Fperson%2F%3Fq%3D1"
    assert "_auth_user_id" not in logged_in.session
    page = logged_in.get(response.url).content.decode()
    assert "由于长时间未操作（超过 30 分钟），您已自动退出登录" in page


def test_activity_within_the_timeout_keeps_the_session(logged_in):
    idle_for(logged_in, 29 * 60)
    assert logged_in.get("/admin/").status_code == 200
    idle_for(logged_in, 29 * 60)  # counted from the last request, not from the login
    assert logged_in.get("/admin/").status_code == 200


def test_progress_polling_is_not_activity(logged_in):
    idle_for(logged_in, 20 * 60)
    before = logged_in.session[LAST_ACTIVITY_KEY]
    logged_in.get("/admin/jobs/job/1/progress/")  # a job page's polling (whatever it answers)
    logged_in.get("/admin/", HTTP_X_SESSION_PASSIVE="1")
    assert logged_in.session[LAST_ACTIVITY_KEY] == before
    idle_for(logged_in, 11 * 60)
    assert logged_in.get("/admin/").status_code == 302


def test_keepalive_is_activity(logged_in):
    idle_for(logged_in, 29 * 60)
    assert logged_in.post("/admin/otp/keepalive/").json() == {"ok": True}
    idle_for(logged_in, 29 * 60)
    assert logged_in.get("/admin/").status_code == 200


def test_pages_carry_the_warning_with_the_timeout(logged_in, settings):
    page = logged_in.get("/admin/").content.decode()
    assert 'id="idle-warning"' in page and 'data-timeout="1800"' in page and 'data-warning="120"' in page
    assert "即将因长时间未操作而退出登录" in page
    assert "accounts/idle.js" in page
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 0.1  # 6 s: the warning at half of it
    assert 'data-timeout="6" data-warning="3"' in logged_in.get("/admin/").content.decode()


def test_login_page_has_no_warning(client):
    assert 'id="idle-warning"' not in client.get("/admin/login/").content.decode()
