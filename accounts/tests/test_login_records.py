"""django-axes' login records in the admin (accounts/admin_login_records.py): Chinese,
local times, no request data, read-only, and the audited action 解除锁定."""
import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.services import account_unlock
from audit.models import Action, AuditEntry

from .helpers import password_login, staff

pytestmark = pytest.mark.django_db

ATTEMPTS = "/admin/axes/accessattempt/"
LOGS = "/admin/axes/accesslog/"
IP = "10.0.0.1"


@pytest.fixture
def root():
    client = Client()
    client.force_login(staff("root", superuser=True))
    return client


@pytest.fixture
def locked():
    """jingban, locked from IP after five wrong passwords; one earlier login in the log."""
    staff("jingban")
    assert password_login(Client(), ip=IP).status_code == 302
    client = Client()
    for _ in range(5):
        password_login(client, password="wrong-password", ip=IP)
    assert password_login(client, ip=IP).status_code == 429
    return AccessAttempt.objects.get(username="jingban")


def utc_and_local(value) -> tuple[str, str]:
    return (value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))


def test_failure_records_are_chinese_in_local_time_without_form_data(root, locked):
    page = root.get(ATTEMPTS).content.decode()
    assert "Status" not in page and "STATUS" not in page  # axes' column header, untranslated
    assert "状态" in page and "已锁定" in page and "连续失败次数" in page and "锁定至" in page
    utc, local = utc_and_local(locked.attempt_time)
    assert local in page and utc not in page and "+00:00" not in page

    record = root.get(f"{ATTEMPTS}{locked.pk}/change/")
    assert record.status_code == 200
    page = record.content.decode()
    assert f"jingban（{IP}，{local}）" in page  # the title
    assert "Attempted Access" not in page and "+00:00" not in page and utc not in page
    assert "csrfmiddlewaretoken" not in page.replace('name="csrfmiddlewaretoken"', "")
    assert "表单数据" not in page and "POST" not in page and "wrong-password" not in page
    assert 'name="_save"' not in page and "/delete/" not in page  # no 保存, no 删除


def test_login_log_is_chinese_and_cannot_be_deleted(root, locked):
    log = AccessLog.objects.get(username="jingban")
    page = root.get(LOGS).content.decode()
    utc, local = utc_and_local(log.attempt_time)
    assert "登录时间" in page and local in page and utc not in page
    assert "delete_selected" not in page and "删除所选" not in page

    record = root.get(f"{LOGS}{log.pk}/change/").content.decode()
    assert "Access Log for" not in record and "+00:00" not in record
    assert 'name="_save"' not in record and "/delete/" not in record
    assert root.post(f"{LOGS}{log.pk}/delete/", {"post": "yes"}).status_code == 403
    assert root.post(LOGS, {"action": "delete_selected", "_selected_action": [log.pk],
                            "post": "yes"}).status_code in (200, 302)
    assert AccessLog.objects.filter(pk=log.pk).exists()

    request = RequestFactory().get(LOGS)
    request.user = get_user_model().objects.get(username="root")
    for model in (AccessLog, AccessAttempt):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_add_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)


def test_unlock_action_lets_the_user_log_in_and_is_audited(root, locked):
    page = root.get(ATTEMPTS).content.decode()
    assert "解除锁定" in page
    response = root.post(ATTEMPTS, {"action": "unlock", "_selected_action": [locked.pk]}, follow=True)
    assert "已解除 1 个账户的登录锁定：jingban" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="jingban").exists()
    assert password_login(Client(), ip=IP).status_code == 302  # logs in again

    entry = AuditEntry.objects.get(action=Action.PERMISSION_CHANGE)
    assert entry.username == "root"
    assert entry.object_repr == "jingban" and entry.object_type == "auth.user"
    assert entry.details == {"operation": "解除锁定", "account": "jingban", "addresses": [IP], "records": 1}


def test_unlock_needs_a_username():
    with pytest.raises(ValueError):
        account_unlock(username="", acting_user=None)

