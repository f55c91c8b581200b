"""Roles (policies.roles), ``sync_roles`` and ``load_demo`` (docs/access.md §角色)."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import Action, AuditEntry
from policies.access import user_region_ids
from policies.management.commands import load_demo
from policies.roles import AUDITOR, CLERK, FUND_FINANCE, POLICY_OFFICER, REVIEWER, SUPERVISOR, roles_sync

from . import demo_stub
from . import factories as f

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def perms_of(name):
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")}


def test_roles_sync_is_idempotent():
    first = roles_sync()
    snapshot = {name: perms_of(name) for name in first}
    second = roles_sync()
    assert first == second
    assert Group.objects.filter(name__in=first).count() == 6
    assert {name: perms_of(name) for name in second} == snapshot


def test_role_contents():
    roles_sync()
    clerk, reviewer = perms_of(CLERK), perms_of(REVIEWER)
    officer, supervisor = perms_of(POLICY_OFFICER), perms_of(SUPERVISOR)
    assert "policies.view_full_identity" in clerk
    assert "policies.view_full_identity" in reviewer
    assert "policies.view_full_identity" not in officer | supervisor
    assert {"policies.change_benefitrule", "policies.add_planyear",
            "policies.delete_planfigure"} <= officer
    for perms in (clerk, reviewer, officer, supervisor):
        assert not [p for p in perms if p.endswith("_staffprofile")]
    assert "policies.view_benefitrule" in clerk and "policies.change_benefitrule" not in clerk
    assert all(p.split(".")[1].startswith("view_") for p in supervisor)
    assert "policies.view_planyear" in supervisor
    for perms in (clerk, reviewer, officer, supervisor):
        assert not any("historical" in p for p in perms)
        assert not any(p.startswith(("auth.", "axes.", "admin.", "audit.")) for p in perms)
    assert perms_of(AUDITOR) == {"audit.view_auditentry", "audit.export_auditentry"}
    # payment batches: 审核员 generates them, 基金财务 exports and imports the bank's answer
    finance = perms_of(FUND_FINANCE)
    assert {"finance.add_paymentbatch", "finance.view_paymentbatch"} <= reviewer
    assert not {"finance.import_bank_return", "finance.export_paymentbatch", "claims.pay_claim"} & reviewer
    assert {"finance.import_bank_return", "finance.export_paymentbatch", "claims.pay_claim"} <= finance
    assert "finance.add_paymentbatch" not in finance and "policies.view_full_identity" not in finance
    # whatever enrollment / claims models exist now are covered
    for perm in Permission.objects.filter(content_type__app_label__in=["enrollment", "claims"]):
        key = f"{perm.content_type.app_label}.{perm.codename}"
        if "historical" in perm.codename:
            continue
        if perm.codename.startswith("view_"):
            assert key in clerk and key in reviewer and key in supervisor
        if perm.codename.startswith(("add_", "change_")):
            assert key in clerk
        if perm.codename.startswith("delete_"):
            assert key not in clerk


def test_permissions_of_models_written_later_are_picked_up():
    roles_sync()
    content_type = ContentType.objects.create(app_label="claims", model="latermodel")
    approve = Permission.objects.create(content_type=content_type, codename="approve_latermodel",
                                        name="审核")
    add = Permission.objects.create(content_type=content_type, codename="add_latermodel",
                                    name="新增")
    view = Permission.objects.create(content_type=content_type, codename="view_latermodel",
                                     name="查看")
    assert "claims.approve_latermodel" not in perms_of(REVIEWER)
    roles_sync()
    assert {"claims.approve_latermodel", "claims.view_latermodel"} <= perms_of(REVIEWER)
    assert "claims.add_latermodel" not in perms_of(REVIEWER)
    assert {"claims.add_latermodel", "claims.view_latermodel"} <= perms_of(CLERK)
    assert "claims.approve_latermodel" not in perms_of(CLERK)
    assert "claims.view_latermodel" in perms_of(SUPERVISOR)
    assert not {approve, add, view} & set(Group.objects.get(name=POLICY_OFFICER).permissions.all())


def test_roles_sync_resets_hand_added_permissions():
    roles_sync()
    group = Group.objects.get(name=SUPERVISOR)
    group.permissions.add(Permission.objects.get(codename="change_planyear"))
    roles_sync()
    assert "policies.change_planyear" not in perms_of(SUPERVISOR)


def test_roles_sync_audits_a_change_of_permissions_only():
    roles_sync()  # creates the roles: audited
    entry = AuditEntry.objects.get()
    assert entry.action == Action.PERMISSION_CHANGE and entry.details["operation"] == "角色同步"
    assert set(entry.details["roles"]) == {CLERK, REVIEWER, POLICY_OFFICER, SUPERVISOR, AUDITOR, FUND_FINANCE}
    roles_sync()  # nothing changed: nothing recorded
    assert AuditEntry.objects.count() == 1
    Group.objects.get(name=SUPERVISOR).permissions.add(Permission.objects.get(codename="change_planyear"))
    roles_sync()
    assert AuditEntry.objects.count() == 2 and list(AuditEntry.objects.first().details["roles"]) == [SUPERVISOR]


def test_sync_roles_command():
    out = StringIO()
    call_command("sync_roles", stdout=out)
    assert "角色同步完成" in out.getvalue()
    assert Group.objects.filter(name=POLICY_OFFICER).exists()


def test_load_demo_creates_accounts_idempotently(settings, monkeypatch):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    monkeypatch.setattr(load_demo, "DEMO_LOADERS", ["policies.tests.no_such_demo",
                                                    "policies.tests.demo_stub"])
    demo_stub.calls.clear()
    regions = f.five_regions()
    youxi = f.region("350426", "尤溪县", parent=regions["350400"], is_pooling=False)
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    User = get_user_model()
    names = {"admin", "zhengce", "jingban_dj", "shenhe_dj", "jingban_cz", "jianguan",
             "shenhe_cz", "shenhe_ls", "shenhe_sm", "shenhe_lc", "shenji", "caiwu_dj"}
    assert set(User.objects.values_list("username", flat=True)) == names
    assert "演示账户" in text and "Yibao#2024demo" in text and "垫江县经办员" in text
    assert "policies.tests.no_such_demo 尚未提供演示数据" in text
    assert demo_stub.calls == ["admin"] and "演示桩已加载" in text

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("Yibao#2024demo")
    clerk = User.objects.get(username="jingban_dj")
    assert not clerk.is_superuser and clerk.is_staff
    assert [g.name for g in clerk.groups.all()] == [CLERK]
    assert user_region_ids(clerk) == {regions["500231"].id}
    officer = User.objects.get(username="zhengce")
    assert user_region_ids(officer) == {r.id for r in regions.values()} | {youxi.id}
    assert user_region_ids(User.objects.get(username="jingban_cz")) == {regions["140400"].id}
    assert [g.name for g in User.objects.get(username="jianguan").groups.all()] == [SUPERVISOR]
    auditor = User.objects.get(username="shenji")
    assert [g.name for g in auditor.groups.all()] == [AUDITOR] and user_region_ids(auditor) == set()

    clerk.set_password("Changed#2024pw")
    clerk.save()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert User.objects.count() == len(names)
    assert User.objects.get(username="jingban_dj").check_password("Changed#2024pw")
    assert "已修改，未重置" in out.getvalue()
    call_command("load_demo", "--reset-passwords", stdout=StringIO())
    assert User.objects.get(username="jingban_dj").check_password("Yibao#2024demo")


def test_load_demo_needs_regions():
    with pytest.raises(CommandError, match="load_policies"):
        call_command("load_demo", stdout=StringIO())


def test_demo_accounts_can_log_in(client, settings, monkeypatch):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    monkeypatch.setattr(load_demo, "DEMO_LOADERS", [])
    f.five_regions()
    call_command("load_demo", stdout=StringIO())
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "jingban_dj", "password": "Yibao#2024demo"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_permission_names_are_chinese(db):
    """migrate renames Django's English default permission names (policies/permission_names.py)."""
    from django.contrib.auth.models import Permission

    assert Permission.objects.get(codename="add_person").name == "可新增参保人"
    assert Permission.objects.get(codename="view_historicalperson").name == "可查看参保人（历史记录）"
    assert not Permission.objects.filter(name__startswith="Can ").exists()
