"""Command-line paths in the 审计日志 (docs/security.md §审计日志; issue 15): ``export_sheet``
and ``import_sheet`` run inline, ``export_plan_year``, accounts created or changed by
``staff_user_ensure`` (``load_demo``), ``sync_roles``, and Django's ``createsuperuser`` /
``changepassword``. Who: the ``--user`` given, else the OS user as text; every entry names
the command and the OS user."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import changepassword
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEntry
from audit.services import audit_command, audit_verify, command_username, os_username
from enrollment.tests.sheet_rows import PERSON_HEADER, person_row
from policies.models import Region
from policies.roles import CLERK, SUPERVISOR
from policies.staff import staff_user_ensure
from policies.tests.factories import PASSWORD, role_staff
from sheets.tests.helpers import write_csv

pytestmark = pytest.mark.django_db
OS = command_username()


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_export_sheet_records_who_what_filters_rows_and_file(loaded_policies, tmp_path):
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER,
                                                          [person_row(1), person_row(3)])))
    role_staff("jianguan", SUPERVISOR)
    out = tmp_path / "out.csv"
    call_command("export_sheet", "persons", str(out), "--user", "jianguan", "--region", "500231", "--year", "2024")
    call_command("export_sheet", "persons", str(tmp_path / "all.xlsx"))
    call_command("export_sheet", "persons", str(tmp_path / "t.xlsx"), "--template")  # no data: not recorded
    as_user, as_system = entries(Action.EXPORT)
    assert (as_user.username, as_user.object_repr) == ("jianguan", "参保人")
    assert as_user.details == {"kind": "参保人", "region": "垫江县", "year": 2024, "rows": 2, "file": str(out),
                               "command": "命令行导出表格", "os_user": os_username()}
    assert as_system.username == OS and as_system.user_id is None and as_system.details["rows"] == 2
    assert audit_verify().ok


def test_import_sheet_inline_recorded_when_it_ends(loaded_policies, tmp_path):
    role_staff("jingban", CLERK)
    good = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])
    call_command("import_sheet", "persons", str(good), "--dry-run")  # checks only: nothing recorded
    assert not entries(Action.IMPORT)
    call_command("import_sheet", "persons", str(good), "--user", "jingban")
    [end] = entries(Action.IMPORT)
    assert end.details["stage"] == "完成"
    assert end.username == "jingban" and end.details["rows"] == 1
    assert end.details["file"] == str(good) and end.details["command"] == "命令行导入表格"
    assert end.details["kind"] == "参保人" and end.details["os_user"] == os_username()

    bad = write_csv(tmp_path / "bad.csv", PERSON_HEADER, [person_row(5, category="外星人")])
    with pytest.raises(CommandError):
        call_command("import_sheet", "persons", str(bad))
    failed = entries(Action.IMPORT)[-1]
    assert failed.username == OS and failed.details["stage"] == "校验未通过（未写入任何数据）"
    with pytest.raises(CommandError):
        call_command("import_sheet", "persons", str(tmp_path / "missing.csv"))
    assert entries(Action.IMPORT)[-1].details["reason"] == "文件不存在"
    headless = write_csv(tmp_path / "h.csv", ["证件号码", "姓名"], [[person_row(7)[0], "甲"]])
    with pytest.raises(CommandError):  # refused at its header: nothing read, not recorded
        call_command("import_sheet", "persons", str(headless))
    assert len(entries(Action.IMPORT)) == 3
    assert audit_verify().ok


def test_export_plan_year_is_an_export(loaded_policies, tmp_path):
    out = tmp_path / "py.xlsx"
    call_command("export_plan_year", str(out), "--region", "500231", "--kind", "resident_basic", "--year", "2024",
                 verbosity=0)
    [entry] = entries(Action.EXPORT)
    assert entry.username == OS and entry.object_type == "policies.planyear"
    assert entry.details["command"] == "命令行导出参数表" and entry.details["file"] == str(out)


def test_accounts_created_or_changed_by_commands(loaded_policies):
    call_command("sync_roles")
    [roles] = entries(Action.PERMISSION_CHANGE)
    assert roles.username == OS and roles.details["command"] == "命令行同步角色"
    regions = list(Region.objects.filter(code="500231"))
    with audit_command("命令行加载演示数据"):
        user, _ = staff_user_ensure(username="clerk1", password=PASSWORD, role=CLERK, regions=regions)
        staff_user_ensure(username="clerk1", password=PASSWORD, role=CLERK, regions=regions)  # no change
        staff_user_ensure(username="clerk1", password=PASSWORD, role=SUPERVISOR, regions=regions,
                          acting_user=user)
    created, changed = entries(Action.PERMISSION_CHANGE)[1:]
    assert (created.username, created.object_repr, created.details["operation"]) == (OS, "clerk1", "创建账户")
    assert created.details["role"] == CLERK and created.details["regions"] == ["垫江县"]
    assert created.details["command"] == "命令行加载演示数据" and "change" not in created.details
    assert (changed.username, changed.details["operation"], changed.details["change"]) == ("clerk1", "修改账户", ["角色"])


def test_createsuperuser_and_changepassword(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Yibao#2024root")
    call_command("createsuperuser", interactive=False, username="root2", email="r@example.com", verbosity=0)
    [created] = entries(Action.PERMISSION_CHANGE)
    assert (created.username, created.object_repr) == (OS, "root2")
    assert created.details == {"operation": "创建超级管理员", "account": "root2", "superuser": True,
                               "command": "命令行创建超级管理员", "os_user": os_username()}
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": "Yibao#2025Neu!")
    call_command("changepassword", "root2", stdout=None)
    [changed] = entries(Action.CREDENTIAL_CHANGE)
    assert (changed.username, changed.details["operation"], changed.details["command"]) == (
        OS, "修改密码", "命令行修改密码")
    get_user_model().objects.filter(username="root2").update(first_name="x")  # not a save: nothing
    user = get_user_model().objects.get(username="root2")
    user.save()  # outside those commands: nothing recorded
    assert len(entries(Action.PERMISSION_CHANGE)) == 1 and len(entries(Action.CREDENTIAL_CHANGE)) == 1
