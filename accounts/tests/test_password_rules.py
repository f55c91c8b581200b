"""Password rules (等保三级 身份鉴别): 8+ characters of 3 of 4 classes, none of the last 5,
expiry after PASSWORD_MAX_AGE_DAYS, a change at first login for an account an administrator
created (docs/security.md §口令)."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AccountSecurity, PasswordHistory
from accounts.services import account_mark_demo
from accounts.validators import CharacterClassesValidator

from .helpers import PASSWORD, password_login, staff

pytestmark = pytest.mark.django_db


def set_state(user, **fields):
    AccountSecurity.objects.update_or_create(user=user, defaults=fields)


def messages_of(exc):
    return " ".join(exc.value.messages)


@pytest.mark.parametrize("password", ["Yibao#2024demo", "yibao2024#x", "YIBAO#2024", "Yibaodemo2024",
                                      "Yibao#Demo", "医保Demo2024"])
def test_three_of_four_classes_pass(password):
    CharacterClassesValidator(min_classes=3).validate(password)
    validate_password(password)


@pytest.mark.parametrize(("password", "missing"), [
    ("yibaodemo2024", "大写字母、符号"), ("YIBAODEMO#", "小写字母、数字"), ("yibao#demo", "大写字母、数字"),
])
def test_two_classes_refused_with_chinese_message(password, missing):
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert "至少 3 类" in messages_of(exc) and f"缺少{missing}" in messages_of(exc)


def test_short_password_refused():
    with pytest.raises(ValidationError) as exc:
        validate_password("Yb#2024")
    assert "8" in messages_of(exc)


def test_last_five_passwords_cannot_be_reused():
    user = staff(password="Start#2024a")
    for n in range(1, 6):
        user.set_password(f"Change#2024-{n}")
        user.save()
    # the current password and the four before it are refused
    for n in range(1, 6):
        with pytest.raises(ValidationError) as exc:
            validate_password(f"Change#2024-{n}", user)
        assert "最近 5 次" in messages_of(exc)
    # the sixth-last is allowed again; only 5 hashes are kept, never the password itself
    validate_password("Start#2024a", user)
    hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True))
    assert len(hashes) == 5 and all("Change" not in h for h in hashes)


def test_password_set_before_the_history_is_not_reused(settings):
    user = get_user_model().objects.create_user("old", is_staff=True)
    user.password = "md5$salt$" + "0" * 32  # a hash from before these controls, no history row
    user.set_password("Legacy#2023")
    PasswordHistory.objects.filter(user=user).delete()
    with pytest.raises(ValidationError):
        validate_password("Legacy#2023", user)


def test_changing_the_password_restarts_the_clock_and_clears_a_due_change():
    user = staff()
    set_state(user, password_changed_at=timezone.now() - timedelta(days=100), must_change_password=True)
    user.set_password("Neu#Passwort1")
    user.save()
    state = AccountSecurity.objects.get(user=user)
    assert not state.must_change_password
    assert timezone.now() - state.password_changed_at < timedelta(minutes=1)


def _admin_client(client):
    admin = staff("root", superuser=True)
    client.force_login(admin)
    return admin


def test_account_created_by_an_administrator_changes_its_password_at_first_login(client):
    _admin_client(client)
    response = client.post("/admin/auth/user/add/", {
        "username": "xinren", "password1": "Kaishi#2024", "password2": "Kaishi#2024",
        "usable_password": "true", "staffprofile-TOTAL_FORMS": "0", "staffprofile-INITIAL_FORMS": "0",
        "staff_profile-TOTAL_FORMS": "0", "staff_profile-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    user = get_user_model().objects.get(username="xinren")
    assert AccountSecurity.objects.get(user=user).must_change_password
    assert user.is_staff  # every account of the site is staff: it logs in without another save

    client.logout()
    assert password_login(client, "xinren", "Kaishi#2024").status_code == 302
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/password_change/"
    assert "首次登录" in response.content.decode() and "须先修改密码" in response.content.decode()
    # every other page leads there too
    assert client.get("/admin/enrollment/person/").url == "/admin/password_change/"
    # the same password again is refused (reuse), a new one is taken and frees the site
    response = client.post("/admin/password_change/", {
        "old_password": "Kaishi#2024", "new_password1": "Kaishi#2024", "new_password2": "Kaishi#2024"})
    assert response.status_code == 200 and "最近 5 次" in response.content.decode()
    response = client.post("/admin/password_change/", {
        "old_password": "Kaishi#2024", "new_password1": "Ziji#Mima2024", "new_password2": "Ziji#Mima2024"})
    assert response.status_code == 302
    assert not AccountSecurity.objects.get(user=user).must_change_password
    assert client.get("/admin/").status_code == 200


def test_password_set_by_an_administrator_is_changed_at_next_login(client):
    admin = _admin_client(client)
    user = staff()
    response = client.post(f"/admin/auth/user/{user.pk}/password/", {
        "password1": "Chongzhi#2024", "password2": "Chongzhi#2024", "usable_password": "true"})
    assert response.status_code == 302
    assert AccountSecurity.objects.get(user=user).must_change_password
    # an administrator setting their own password there is not forced
    response = client.post(f"/admin/auth/user/{admin.pk}/password/", {
        "password1": "Guanli#2024x", "password2": "Guanli#2024x", "usable_password": "true"})
    assert response.status_code == 302
    assert not AccountSecurity.objects.get(user=admin).must_change_password


def test_expired_password_must_be_changed(client, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = staff()
    set_state(user, password_changed_at=timezone.now() - timedelta(days=91))
    password_login(client)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/password_change/"
    assert "超过 90 天未修改" in response.content.decode()


def test_password_younger_than_the_limit_is_not_asked(client, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = staff()
    set_state(user, password_changed_at=timezone.now() - timedelta(days=89))
    password_login(client)
    assert client.get("/admin/").status_code == 200


def test_demo_account_is_never_forced(client):
    user = staff()
    set_state(user, must_change_password=True, password_changed_at=timezone.now() - timedelta(days=400))
    account_mark_demo(user=user)
    password_login(client)
    assert client.get("/admin/").status_code == 200


def test_password_rules_are_the_settings():
    from django.conf import settings

    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"MinimumLengthValidator", "CharacterClassesValidator", "PasswordHistoryValidator"} <= set(names)
    assert settings.PASSWORD_MAX_AGE_DAYS == 90
    assert PASSWORD  # the demo password passes every rule (test_three_of_four_classes_pass)
