"""What the audit log records across the apps (docs/security.md §审计日志): logins, logouts
and failures; exports and downloads with who, what, filters and row count; one entry per
page view showing full identity numbers; imports at start and end; settlements and
review decisions; parameter and permission changes — and that only 审计员 and superusers
see the 审计日志 page, whose export is itself audited."""
from io import BytesIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from accounts.middleware import LAST_ACTIVITY_KEY
from accounts.tests import helpers as accounts_helpers
from audit.models import Action, AuditEntry
from audit.providers import reads_full_numbers
from audit.services import audit_verify
from claims import services as claim_services
from claims.tests.factories import dianjiang_person, outpatient
from enrollment.models import Person
from enrollment.tests.sheet_rows import PERSON_HEADER, id_number, person_row
from policies.models import PlanYear
from policies.plan_status import plan_year_set_status
from policies.roles import AUDITOR, CLERK, POLICY_OFFICER, REVIEWER, SUPERVISOR
from policies.services import plan_year_rollover
from policies.tests import factories as f
from sheets.tests.helpers import admin_confirm, admin_upload, write_csv

pytestmark = pytest.mark.django_db
ALL = ("511100", "500231", "350400", "140400", "371500")


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def only(action):
    [entry] = entries(action)
    return entry


def test_login_failure_login_and_logout(client):
    f.five_regions()
    f.role_staff("jingban", CLERK)
    login = reverse("admin:login")
    client.post(login, {"username": "jingban", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    failed = only(Action.LOGIN_FAILED)
    assert (failed.username, failed.user_id, failed.ip_address) == ("jingban", None, "10.0.0.7")
    assert "wrong" not in str(failed.details)
    assert client.post(login, {"username": "jingban", "password": f.PASSWORD}).status_code == 302
    login_entry = only(Action.LOGIN)
    assert (login_entry.username, login_entry.ip_address) == ("jingban", "127.0.0.1")
    client.post(reverse("admin:logout"))
    assert only(Action.LOGOUT).username == "jingban"
    assert audit_verify().ok


def test_a_locked_out_login_is_a_failure_marked_locked(client):
    f.five_regions()
    f.role_staff("jingban", CLERK)
    for _ in range(5):  # the 5th failure locks the pair (docs/access.md §5)
        client.post(reverse("admin:login"), {"username": "jingban", "password": "wrong"})
    client.post(reverse("admin:login"), {"username": "jingban", "password": f.PASSWORD})  # refused while locked
    failures = entries(Action.LOGIN_FAILED)
    assert [e.details.get("locked_out", False) for e in failures] == [False] * 4 + [True, True]
    assert not entries(Action.LOGIN)


def test_second_factor_stages_enrolment_and_idle_logout(client, settings):
    settings.OTP_REQUIRED_ROLES = [CLERK]
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    user = accounts_helpers.staff(role=CLERK)
    accounts_helpers.password_login(client)
    client.get("/admin/otp/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post("/admin/otp/setup/", {"otp_token": accounts_helpers.current_code(device), "next": "/admin/"})
    enrolled = only(Action.CREDENTIAL_CHANGE)
    assert (enrolled.username, enrolled.details["operation"]) == ("jingban", "绑定身份验证器并生成恢复码")
    client.post(reverse("admin:logout"))
    accounts_helpers.password_login(client)
    client.post("/admin/otp/verify/", {"otp_token": "000000"})
    failed = only(Action.LOGIN_FAILED)
    assert (failed.username, failed.details) == ("jingban", {"stage": "两步验证"})
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, last_t=-1)
    client.post("/admin/otp/verify/", {"otp_token": accounts_helpers.current_code(device), "next": "/admin/"})
    assert [e.details.get("stage") for e in entries(Action.LOGIN)] == [None, None, "两步验证通过"]
    session = client.session
    session[LAST_ACTIVITY_KEY] -= 30 * 60 + 5
    session.save()
    client.get("/admin/")
    idle = entries(Action.LOGOUT)[-1]
    assert idle.details["reason"] == "闲置超时" and idle.details["idle_seconds"] >= 30 * 60


def test_admin_export_background_export_and_download(client, loaded_policies, tmp_path):
    rows = [person_row(1), person_row(3, region="长治市")]
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows)))
    viewer = f.role_staff("jianguan", SUPERVISOR)
    client.force_login(viewer)
    response = client.post(reverse("admin:enrollment_person_export") + "?category__exact=resident",
                           {"format": "1", "resource": "0", "personresource_name": "on"})
    assert response.status_code == 200
    export = only(Action.EXPORT)
    assert (export.username, export.object_type, export.details["rows"]) == ("jianguan", "enrollment.person", 1)
    assert export.details["filters"] == {"category__exact": "resident"}
    assert export.details["file"].startswith("参保人_垫江县_") and export.details["file"].endswith(".csv")

    started = client.post(reverse("admin:enrollment_person_export_job"), {"region": "", "year": "", "fmt": "csv"})
    job = client.get(started["Location"]).context["job"]
    background = entries(Action.EXPORT)[1]
    assert (background.object_type, background.object_id, background.details["rows"]) == ("jobs.job", str(job.pk), 1)
    assert background.details["kind"] == "参保人"
    client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "result"]))
    download = only(Action.DOWNLOAD)
    assert (download.username, download.object_id, download.details["which"]) == ("jianguan", str(job.pk), "结果文件")
    assert download.details["file"] == job.result_name


def test_sheet_import_job_recorded_at_start_and_end(client, loaded_policies, tmp_path):
    clerk = f.role_staff("jingban", CLERK)
    client.force_login(clerk)
    url = reverse("admin:enrollment_person_import_sheet")
    check = admin_upload(client, url, write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])).context["job"]
    assert not entries(Action.IMPORT)  # checking writes nothing
    done = admin_confirm(client, url, check).context["job"]
    start, end = entries(Action.IMPORT)
    assert (start.details["stage"], end.details["stage"]) == ("开始", "完成")
    assert start.object_id == end.object_id == str(done.pk) and end.username == "jingban"
    assert end.details["rows"] == 1 and end.details["file"] == "p.csv"


def test_full_identity_views_one_entry_per_page(client, loaded_policies, tmp_path):
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER,
                                                          [person_row(1), person_row(3)])))
    person = Person.objects.get(document_number=id_number(1))
    client.force_login(f.role_staff("jianguan", SUPERVISOR))  # masked: nothing to record
    client.get(reverse("admin:enrollment_person_changelist"))
    client.get(reverse("admin:enrollment_person_change", args=[person.pk]))
    assert not entries(Action.VIEW_FULL_ID)
    client.force_login(f.role_staff("jingban", CLERK))
    page = client.get(reverse("admin:enrollment_person_changelist") + "?q=" + id_number(3)).content.decode()
    assert id_number(3) in page
    listed = only(Action.VIEW_FULL_ID)
    assert (listed.object_type, listed.details["filters"]) == ("enrollment.person", {"q": id_number(3)})
    client.get(reverse("admin:enrollment_person_change", args=[person.pk]))
    opened = entries(Action.VIEW_FULL_ID)[1]
    assert (opened.object_id, opened.username, len(entries(Action.VIEW_FULL_ID))) == (str(person.pk), "jingban", 2)


def test_settlement_and_review_decisions(loaded_policies):
    clerk = f.role_staff("jingban", CLERK)
    reviewer = f.role_staff("shenhe", REVIEWER)
    claim = claim_services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "400"), acting_user=clerk)
    settled = only(Action.SETTLE)
    assert (settled.username, settled.object_type, settled.object_id) == ("jingban", "claims.claim", str(claim.pk))
    claim_services.claim_return(claim=claim, acting_user=reviewer, reason="金额核对有误")
    review = only(Action.REVIEW)
    assert (review.username, review.details) == ("shenhe", {"operation": "退回", "reason": "金额核对有误"})
    claim_services.claim_settle(claim=claim, acting_user=None)  # a command or worker: no user
    assert entries(Action.SETTLE)[1].username == "" and audit_verify().ok


def test_parameter_change_in_the_policies_admin(client):
    f.five_regions()
    plan_year = f.plan_year(f.scheme(f.region("500231")))
    row = f.figure(plan_year, "670.00")
    client.force_login(f.role_staff("zhengce", POLICY_OFFICER, ALL))
    change = reverse("admin:policies_planfigure_change", args=[row.pk])
    response = client.post(change, {"plan_year": plan_year.pk, "code": row.code, "value": "680.00",
                                    "change_reason": "调标"})
    assert response.status_code == 302
    entry = only(Action.PARAMETER_CHANGE)
    assert (entry.username, entry.object_type, entry.object_id) == ("zhengce", "policies.planfigure", str(row.pk))
    assert entry.details["operation"] == "修改" and "数值" in entry.details["change"]


def test_plan_year_status_and_rollover_are_parameter_changes():
    f.five_regions()
    plan_year = f.plan_year(f.scheme(f.region("500231")), year=2025)
    f.figure(plan_year, "670.00")
    officer = f.role_staff("zhengce", POLICY_OFFICER, ALL)
    plan_year_set_status(plan_year=plan_year, status=PlanYear.Status.ACTIVE, acting_user=officer)
    status = only(Action.PARAMETER_CHANGE)
    assert (status.username, status.object_id, status.details["status"]) == ("zhengce", str(plan_year.pk),
                                                                             "草稿 → 生效")
    draft = plan_year_rollover(region_code="500231", kind=plan_year.scheme.kind, from_year=2025, to_year=2026,
                               acting_user=officer)
    copied = entries(Action.PARAMETER_CHANGE)[1]
    assert (copied.object_id, copied.details["operation"]) == (str(draft.pk), "由 2025 年度复制为新年度草稿")


def test_permission_change_in_the_admin(client):
    f.five_regions()
    f.role_staff("jianguan", SUPERVISOR)
    root = f.staff_user("root", superuser=True, profile=False)
    client.force_login(root)
    group = Group.objects.get(name=SUPERVISOR)
    before = AuditEntry.objects.count()
    perms = list(group.permissions.values_list("pk", flat=True)) + [
        Permission.objects.get(codename="change_planyear").pk]
    response = client.post(reverse("admin:auth_group_change", args=[group.pk]),
                           {"name": group.name, "permissions": perms})
    assert response.status_code == 302
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.username, entry.object_repr) == (Action.PERMISSION_CHANGE, "root", SUPERVISOR)
    assert entry.details["operation"] == "修改"


def test_audit_page_only_for_auditor_and_superuser_and_its_export_is_audited(client):
    f.five_regions()
    url = reverse("admin:audit_auditentry_changelist")
    for name, role in [("jingban", CLERK), ("shenhe", REVIEWER), ("zhengce", POLICY_OFFICER),
                       ("jianguan", SUPERVISOR)]:
        client.force_login(f.role_staff(name, role))
        assert client.get(url).status_code == 403, name
        assert "审计日志" not in client.get(reverse("admin:index")).content.decode()
        assert client.get(reverse("admin:audit_auditentry_export", args=["xlsx"])).status_code == 403
    auditor = f.role_staff("shenji", AUDITOR, ())
    client.force_login(auditor)
    assert "审计日志" in client.get(reverse("admin:index")).content.decode()
    page = client.get(url + "?action__exact=login")
    text = page.content.decode()
    assert page.status_code == 200 and "导出 Excel" in text and "shenji" in text
    assert 'name="_save"' not in text and "增加 审计日志" not in text
    entry = entries(Action.LOGIN)[-1]
    shown = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert shown.status_code == 200
    # written once, never changed: no 历史 link (its page would be empty)
    assert reverse("admin:audit_auditentry_history", args=[entry.pk]) not in shown.content.decode()
    assert client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {}).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.get(reverse("admin:audit_auditentry_export", args=["xlsx"]) + "?action__exact=login")
    sheet = load_workbook(BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:5] == ["序号", "时间", "用户名", "IP 地址", "操作"]
    assert {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"登录"}
    export = only(Action.EXPORT)
    assert (export.object_type, export.details["rows"], export.details["filters"]) == (
        "audit.auditentry", sheet.max_row - 1, {"action__exact": "login"})
    client.force_login(f.staff_user("root", superuser=True, profile=False))
    assert client.get(url).status_code == 200


def test_searched_numbers_are_hidden_from_the_auditor(client, loaded_policies, tmp_path):
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])))
    number = id_number(1)
    clerk = f.role_staff("jingban", CLERK)
    assert reads_full_numbers(clerk)  # the masking rules, registered by policies: not only superusers
    client.force_login(clerk)
    client.get(reverse("admin:enrollment_person_changelist") + "?q=" + number)
    entry = only(Action.VIEW_FULL_ID)
    assert entry.details["filters"] == {"q": number}  # recorded as typed
    url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    client.force_login(f.role_staff("shenji", AUDITOR, ()))
    hidden = f"q={number[:3]}{'*' * 11}{number[-4:]}"
    for page in (client.get(url), client.get(reverse("admin:audit_auditentry_changelist"))):
        assert hidden in page.content.decode() and number not in page.content.decode()
    sheet = load_workbook(BytesIO(client.get(reverse("admin:audit_auditentry_export", args=["xlsx"])).content)).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row]
    assert any(hidden in c for c in cells) and not any(number in c for c in cells)
    client.force_login(f.staff_user("root", superuser=True, profile=False))
    assert f"q={number}" in client.get(url).content.decode()


def _change_form(page) -> dict:
    """What the user admin's change page posts back unchanged (inputs, checked boxes,
    selected options of single and multiple selects)."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.select = {}, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button"):
                if a.get("type") == "checkbox":
                    if "checked" in a:
                        self.data[name] = a.get("value") or "on"
                elif name != "csrfmiddlewaretoken":
                    self.data[name] = a.get("value", "")
            elif tag == "select" and name:
                self.select = name
                self.data.setdefault(name, [])
            elif tag == "option" and self.select and "selected" in a:
                self.data[self.select].append(a.get("value", ""))

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None

    parser = Form()
    parser.feed(page.content.decode())
    return parser.data


def test_account_created_and_changed_in_the_user_admin(client):
    """The user admin creates a staff account through staff_user_ensure (it logs in and
    changes its password first) and both pages write the command's details in Chinese:
    role, regions, superuser, each change before → after; the stored change messages
    name the fields in Chinese."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth import get_user_model

    from policies.models import Region
    from policies.roles import roles_sync

    f.five_regions()
    roles_sync()
    root = f.staff_user("root", superuser=True, profile=False)
    client.force_login(root)
    dianjiang = Region.objects.get(code="500231")
    response = client.post(reverse("admin:auth_user_add"), {
        "username": "shenji2", "password1": "Kaishi#2024", "password2": "Kaishi#2024", "role": AUDITOR,
        "regions": [dianjiang.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    user = get_user_model().objects.get(username="shenji2")
    assert user.is_staff and not user.is_superuser and [g.name for g in user.groups.all()] == [AUDITOR]
    created = AuditEntry.objects.filter(action=Action.PERMISSION_CHANGE, object_repr="shenji2").get()
    assert (created.username, created.details) == ("root", {
        "operation": "创建账户", "account": "shenji2", "role": AUDITOR, "regions": ["垫江县"], "superuser": False})
    assert created.ip_address == "127.0.0.1"

    client.logout()
    assert accounts_helpers.password_login(client, "shenji2", "Kaishi#2024").status_code == 302
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == "/admin/password_change/"

    client.force_login(root)
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = client.get(url)
    assert 'name="is_staff"' not in page.content.decode()  # every account is staff
    assert 'name="last_login_0"' not in page.content.decode()  # kept by the login, not typed (minutes only)
    data = {**_change_form(page), "groups": [str(Group.objects.get(name=SUPERVISOR).pk)], "first_name": "审"}
    data.pop("is_active", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    changed = AuditEntry.objects.filter(action=Action.PERMISSION_CHANGE, object_repr="shenji2").order_by("-seq")[0]
    assert changed.details == {
        "operation": "修改账户", "account": "shenji2", "change": ["角色", "启用", "名字"],
        "changes": {"角色": f"{AUDITOR} → {SUPERVISOR}", "启用": "是 → 否"},
        "role": SUPERVISOR, "regions": ["垫江县"], "superuser": False}
    log = LogEntry.objects.filter(object_id=str(user.pk)).order_by("-pk")[0]
    assert "Groups" not in log.change_message and "Active" not in log.change_message
    assert "组" in log.get_change_message() and "名字" in log.get_change_message()
    user.refresh_from_db()
    assert user.is_staff and not user.is_active
