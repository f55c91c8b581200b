"""The login controls (accounts app) as the whole site configures them: the production
settings require two factors of every role and of superusers, no role may manage them,
and the demo accounts of ``load_demo`` log in with the password only (README)."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import AccountSecurity
from accounts.services import password_change_reason, second_factor_required
from config import settings as production
from policies.roles import ROLE_PERMISSIONS, roles_sync
from policies.tests import demo_stub
from policies.tests import factories as f

pytestmark = pytest.mark.django_db


def test_production_settings_require_two_factors_of_every_role_and_superusers():
    assert set(production.OTP_REQUIRED_ROLES) == set(ROLE_PERMISSIONS)
    assert production.OTP_REQUIRED_FOR_SUPERUSERS is True
    assert production.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert production.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert production.PASSWORD_MAX_AGE_DAYS == 90


def test_no_role_gets_a_permission_on_the_login_controls():
    roles_sync()
    for group in Group.objects.all():
        assert not group.permissions.filter(content_type__app_label__in=["accounts", "otp_totp", "otp_static"])


def test_demo_accounts_use_one_factor_and_are_never_forced(settings, monkeypatch):
    from policies.management.commands import load_demo

    settings.OTP_REQUIRED_ROLES = list(ROLE_PERMISSIONS)
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    monkeypatch.setattr(load_demo, "DEMO_LOADERS", ["policies.tests.demo_stub"])
    demo_stub.calls.clear()
    f.five_regions()
    call_command("load_demo", stdout=StringIO())
    users = get_user_model().objects.all()
    assert users.count() == 12  # admin, zhengce, 2 经办员, 5 审核员, caiwu_dj, jianguan, shenji
    for user in users:
        assert AccountSecurity.objects.get(user=user).demo_account
        assert not second_factor_required(user)
        assert password_change_reason(user) is None
    # a second run (resetting the passwords to the demo password they have) still works
    call_command("load_demo", "--reset-passwords", stdout=StringIO())
    assert users.get(username="jingban_dj").check_password("Yibao#2024demo")


@pytest.mark.parametrize("url", ["/admin/auth/group/add/", "/admin/auth/user/add/"])
def test_device_permissions_are_not_offered_on_the_user_and_role_pages(client, url):
    root = get_user_model().objects.create_superuser("root", password="Guanli#2024x")
    client.force_login(root)
    page = client.get(url).content.decode()
    assert "static device" not in page and "TOTP device" not in page and "Otp_" not in page
    if "group" in url:
        assert "账户安全状态" in page  # this app's own permissions have Chinese names
