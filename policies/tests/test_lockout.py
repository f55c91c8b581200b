"""Login lockout (django-axes) and password validators (docs/access.md §登录锁定)."""
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "Yibao#2024demo"


@pytest.fixture
def staff(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_user("jingban", password=PASSWORD, is_staff=True)


def attempt(client, password, username="jingban", ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_lockout_after_five_failures_with_chinese_message(client, staff):
    limit = django_settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _ in range(limit - 1):
        response = attempt(client, "wrong-password")
        assert response.status_code == 200  # the login form again, with Django's error
        assert "请输入一个正确的" in response.content.decode()
    response = attempt(client, "wrong-password")  # the 5th failure locks
    assert response.status_code == 429
    page = response.content.decode()
    assert "账户已锁定" in page
    assert "连续" in page and "5 次登录失败" in page
    assert "1 小时" in page
    assert "联系系统管理员" in page
    # locked: even the right password is refused
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "账户已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_ip(client, staff):
    for _ in range(5):
        attempt(client, "wrong-password")
    assert attempt(client, PASSWORD).status_code == 429
    # the same user from another address may still log in
    response = attempt(client, PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302


def test_success_before_the_limit_resets_the_counter(client, staff):
    for _ in range(4):
        attempt(client, "wrong-password")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "wrong-password").status_code == 200


def test_password_validators_stay_on():
    names = [v["NAME"].rsplit(".", 1)[1] for v in django_settings.AUTH_PASSWORD_VALIDATORS]
    assert {"UserAttributeSimilarityValidator", "MinimumLengthValidator",
            "CommonPasswordValidator", "NumericPasswordValidator"} <= set(names)
    for weak in ("12345678", "password", "abc"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password(PASSWORD)
