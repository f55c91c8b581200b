"""对账 (docs/money.md §对账): a tax bureau's collection detail against the payments and a
hospital's settlement list against its claims — every category found, a difference
resolved (认可, or 复核 after a correction through the normal services), the monthly
status, a bad file refused whole, the admin pages and the command. Reconciliation moves
no money: the ledger still agrees with the tables after each scenario."""
from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from claims import services as claims
from claims.tests.factories import dianjiang_person, new_person, outpatient, plan_year
from enrollment import services as enrollment_services
from enrollment.models import Payment
from finance.checks import ledger_differences
from finance.models import DifferenceNote, ReconciliationLine, ReconciliationRun
from finance.selectors.reconciliation import Status, monthly_status
from finance.services import reconciliation as services
from policies.roles import REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import admin_confirm, admin_upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

TAX_HEADER = ["票据号/流水号", "证件号码", "姓名", "统筹区", "险种", "年度", "金额", "缴费日期"]
HOSPITAL_HEADER = ["医疗机构编码", "医院结算单号", "证件号码", "姓名", "结算日期", "基金支付金额"]
C = ReconciliationLine.Category
S = ReconciliationLine.State


def _tax_row(payment, amount=None, receipt=None, day=None):
    person = payment.enrollment.person
    return [receipt or payment.receipt_no, person.document_number, person.name, "500231", "城乡居民基本医疗保险",
            2024, str(amount if amount is not None else payment.self_paid), (day or payment.paid_date).isoformat()]


def _basic_payment(person) -> Payment:
    return Payment.objects.get(enrollment__person=person, scheme__kind="resident_basic")


def _import(kind, path, user=None):
    result = run_import(get_kind(kind), path, user=user)
    assert result.ok, [str(e) for e in result.errors]
    return result


def _by_category(run):
    return {c: sorted(run.lines.filter(category=c).values_list("reference", flat=True)) for c in C.values}


@pytest.fixture(scope="module")
def tax_world(module_policies, django_db_blocker, tmp_path_factory):
    """The tax case, built once for the module; every test of the module runs on it (each
    test's own writes are rolled back to it)."""
    with django_db_blocker.unblock():
        return _tax_case(tmp_path_factory.mktemp("tax"))


@pytest.fixture
def tax_case(tax_world, db):
    return tax_world


@pytest.fixture
def hospital_case(tax_world, db, tmp_path):
    """Built per test, on the tax world (the hospital's claims are of other persons; the
    persons it registers pay in the same month, so the tax tests do not take it)."""
    return _hospital_case(tmp_path)


def _tax_case(tmp_path):
    """Three payments of 2023-11: one matched, one amount differs, one missing in the
    tax detail; one tax row without a payment here."""
    a, b, c = (_basic_payment(dianjiang_person()) for _ in range(3))
    d = new_person("500231")  # registered; the payment the tax bureau collected is not recorded
    path = write_csv(tmp_path / "税务征收明细.csv", TAX_HEADER, [
        _tax_row(a), _tax_row(b, amount=b.self_paid + Decimal("10.00")),
        ["SW-NEW-1", d.document_number, d.name, "垫江县", "resident_basic", 2024, str(a.self_paid), "2023-11-25"],
    ])
    return {"a": a, "b": b, "c": c, "d": d, "path": path}


def test_tax_detail_finds_each_category_and_moves_no_money(tax_case):
    a, b, c = tax_case["a"], tax_case["b"], tax_case["c"]
    result = _import("tax_collection", tax_case["path"])
    assert result.counts["created"] == 3
    run = ReconciliationRun.objects.get()
    assert (run.source, run.scheme, run.month, run.region.code) == (
        "tax", plan_year("500231", "resident_basic").scheme, date(2023, 11, 1), "500231")
    assert _by_category(run) == {
        C.MATCHED: [a.receipt_no], C.AMOUNT: [b.receipt_no], C.MISSING_HERE: ["SW-NEW-1"],
        C.MISSING_THERE: [c.receipt_no], C.INFO: []}
    differs = run.lines.get(category=C.AMOUNT)
    assert (differs.amount - differs.our_amount, differs.state) == (Decimal("10.00"), S.OPEN)
    assert "相差 10.00 元" in differs.detail
    assert run.lines.get(category=C.MISSING_THERE).payment_id == c.pk
    assert run.lines.get(category=C.MATCHED).state == S.NONE
    assert ledger_differences() == []


def test_the_tax_amount_is_the_self_paid_part_not_the_subsidy(tax_case):
    a = tax_case["a"]
    Payment.objects.filter(pk=a.pk).update(subsidy=Decimal("0"))  # whatever the subsidy, self-paid counts
    _import("tax_collection", tax_case["path"])
    assert ReconciliationLine.objects.get(reference=a.receipt_no).category == C.MATCHED


def test_resolution_accept_recheck_after_correction_and_monthly_status(tax_case):
    a, b, c = tax_case["a"], tax_case["b"], tax_case["c"]
    reviewer = role_staff("shenhe", REVIEWER, ("500231",))
    rows = monthly_status(reviewer, year=2023)
    assert [(r.month, r.source, r.status) for r in rows] == [(date(2023, 11, 1), "tax", Status.NOT_DONE)]
    _import("tax_collection", tax_case["path"], user=reviewer)
    run = ReconciliationRun.objects.get()
    assert run.imported_by == reviewer
    [row] = monthly_status(reviewer, year=2023)
    assert (row.status, row.open_differences) == (Status.DIFFERENT, 3)

    missing_here = run.lines.get(category=C.MISSING_HERE)
    assert services.difference_recheck(line=missing_here, acting_user=reviewer).startswith("复核仍不符")
    # corrected through the normal services: the payment the tax bureau collected is recorded
    enrollment = enrollment_services.enrollment_create(person=tax_case["d"], plan_year=plan_year("500231", "resident_basic"),
                                                       tier=1, acting_user=None)
    enrollment_services.payment_record(enrollment=enrollment, paid_date=date(2023, 11, 25), channel="tax_app",
                                       receipt_no="SW-NEW-1", acting_user=None)
    missing_here.refresh_from_db()
    text = services.difference_recheck(line=missing_here, acting_user=reviewer)
    missing_here.refresh_from_db()
    assert text.startswith("复核相符") and missing_here.state == S.CORRECTED
    assert missing_here.payment.receipt_no == "SW-NEW-1"

    amount = run.lines.get(category=C.AMOUNT)
    with pytest.raises(ValidationError, match="须填写说明"):
        services.difference_accept(line=amount, note=" ", acting_user=reviewer)
    services.difference_accept(line=amount, note="税务多征 10 元，已通知税务局退还", acting_user=reviewer)
    services.difference_note(line=amount, text="税务局已受理", acting_user=reviewer)
    amount.refresh_from_db()
    assert (amount.state, amount.resolved_by) == (S.ACCEPTED, reviewer)
    assert list(amount.notes.values_list("action", flat=True)) == ["accept", "note"]
    with pytest.raises(ValidationError, match="只有待处理"):
        services.difference_accept(line=amount, note="再次", acting_user=reviewer)

    [row] = monthly_status(reviewer, year=2023)
    assert (row.status, row.open_differences) == (Status.DIFFERENT, 1)  # 税务缺失 of c
    services.difference_accept(line=run.lines.get(category=C.MISSING_THERE), note="次月入库", acting_user=reviewer)
    [row] = monthly_status(reviewer, year=2023)
    assert row.status == Status.BALANCED
    assert monthly_status(role_staff("shenhe_cz", REVIEWER, ("140400",)), year=2023) == []  # another region
    assert ledger_differences() == []
    assert c.pk and a.pk and b.pk


def test_a_missing_payment_found_in_the_next_months_file_closes(tax_case):
    c = tax_case["c"]
    _import("tax_collection", tax_case["path"])
    november = ReconciliationRun.objects.get()
    missing = november.lines.get(category=C.MISSING_THERE)
    december = write_csv(tax_case["path"].parent / "12月.csv", TAX_HEADER, [_tax_row(c, day=date(2023, 12, 2))])
    _import("tax_collection", december)
    missing.refresh_from_db()
    assert missing.state == S.CORRECTED
    assert "2023年12月的对账文件中已有该笔记录" in missing.notes.get().text


def test_importing_the_same_month_again_replaces_the_run(tax_case):
    _import("tax_collection", tax_case["path"])
    _import("tax_collection", tax_case["path"])
    old, new = ReconciliationRun.objects.order_by("pk")
    assert (old.is_current, new.is_current) == (False, True)
    assert new.lines.count() == old.lines.count() == 4


def test_a_bad_tax_file_is_refused_whole_naming_row_and_column(tax_case, tmp_path):
    a, b = tax_case["a"], tax_case["b"]
    path = write_xlsx(tmp_path / "坏文件.xlsx", TAX_HEADER, [
        _tax_row(a),
        [*_tax_row(b)[:4], "不存在的险种", *_tax_row(b)[5:]],
        _tax_row(a),  # the same receipt again
        [*_tax_row(b)[:6], "12.345", _tax_row(b)[7]],
        [*_tax_row(b)[:3], "长治市", *_tax_row(b)[4:]],
    ])
    clerk = role_staff("shenhe", REVIEWER, ("500231",))
    result = run_import(get_kind("tax_collection"), path, user=clerk)
    assert not result.ok and not result.written
    errors = {(e.row, e.column) for e in result.errors}
    assert {(3, "险种"), (4, "票据号/流水号"), (5, "金额"), (6, "统筹区")} <= errors, [str(e) for e in result.errors]
    assert "不属于您负责的统筹区" in str(next(e for e in result.errors if e.row == 6))
    assert not ReconciliationRun.objects.exists() and not ReconciliationLine.objects.exists()


def test_the_import_needs_the_permission(tax_case):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_import(get_kind("tax_collection"), tax_case["path"], user=role_staff("jianguan", SUPERVISOR))


# --------------------------------------------------------------------------- hospital


def _hospital_case(tmp_path):
    """Three settled outpatient claims of 2024-03 at one hospital: one matched, one amount
    differs, one missing in the hospital's list; one listed claim not entered here."""
    settled = []
    for _ in range(3):
        claim = outpatient(dianjiang_person(), "1000.00", level=2, day=date(2024, 3, 5))
        settled.append(claims.claim_settle(claim=claim, acting_user=None))
    one, two, three = settled
    assert one.fund_total > 0
    hospital = one.hospital

    def row(claim, amount=None, number=None):
        return [hospital.code, number or claim.settlement_no, claim.person.document_number, claim.person.name,
                "2024-03-05", str(amount if amount is not None else claim.fund_total)]

    extra = dianjiang_person()  # settled at the hospital, not entered here
    path = write_csv(tmp_path / "医院结算清单.csv", HOSPITAL_HEADER, [
        row(one), row(two, amount=two.fund_total + Decimal("0.01")),
        [hospital.code, "MZ-NEW", extra.document_number, extra.name, "2024-03-05", str(one.fund_total)]])
    return {"claims": settled, "hospital": hospital, "path": path, "row": row, "extra": extra}


def test_hospital_list_finds_each_category(hospital_case):
    one, two, three = hospital_case["claims"]
    _import("hospital_settlement", hospital_case["path"])
    run = ReconciliationRun.objects.get()
    assert (run.source, run.hospital, run.month, run.scheme) == ("hospital", hospital_case["hospital"],
                                                                date(2024, 3, 1), None)
    assert _by_category(run) == {C.MATCHED: [one.settlement_no], C.AMOUNT: [two.settlement_no],
                                 C.MISSING_HERE: ["MZ-NEW"], C.MISSING_THERE: [three.settlement_no], C.INFO: []}
    assert run.lines.get(category=C.MISSING_THERE).our_amount == three.fund_total
    assert ledger_differences() == []


def test_hospital_difference_closes_when_the_claim_is_entered_and_settled(hospital_case):
    one = hospital_case["claims"][0]
    reviewer = role_staff("shenhe", REVIEWER, ("500231",))
    _import("hospital_settlement", hospital_case["path"], user=reviewer)
    line = ReconciliationLine.objects.get(reference="MZ-NEW")
    claim = outpatient(hospital_case["extra"], "1000.00", level=2, day=date(2024, 3, 5), no="MZ-NEW")
    assert services.difference_recheck(line=line, acting_user=reviewer).startswith("复核仍不符")  # 录入, not settled
    line.refresh_from_db()
    assert line.category == C.AMOUNT and "尚未结算" in line.detail
    claims.claim_settle(claim=claim, acting_user=None)
    assert claim.pk and services.difference_recheck(line=line, acting_user=reviewer).startswith("复核相符")
    line.refresh_from_db()
    assert (line.state, line.claim_id, line.our_amount) == (S.CORRECTED, claim.pk, one.fund_total)
    closed, still = services.reconciliation_run_recheck(run=line.run, acting_user=reviewer)
    assert (closed, still) == (0, 2)
    [row] = [r for r in monthly_status(reviewer, year=2024) if r.source == "hospital"]
    assert row.status == Status.DIFFERENT
    assert ledger_differences() == []


def test_a_bad_hospital_file_is_refused_whole(hospital_case, tmp_path):
    one = hospital_case["claims"][0]
    row = hospital_case["row"]
    path = write_csv(tmp_path / "坏清单.csv", HOSPITAL_HEADER, [
        row(one), ["NO-SUCH", *row(one)[1:]], row(one), [*row(one)[:4], "2024-13-01", "1.00"]])
    result = run_import(get_kind("hospital_settlement"), path, user=None)
    assert {(e.row, e.column) for e in result.errors} >= {(3, "医疗机构编码"), (4, "医院结算单号"), (5, "结算日期")}
    assert not ReconciliationRun.objects.exists()


# --------------------------------------------------------------------------- admin and command


def test_admin_import_differences_page_masks_and_exports(tax_case, client):
    reviewer = role_staff("shenhe", REVIEWER, ("500231",))
    client.force_login(reviewer)
    url = reverse("admin:finance_taxreconciliation_import_sheet")
    check = admin_upload(client, url, tax_case["path"]).context["job"]
    assert check.status == "succeeded", check.message
    admin_confirm(client, url, check)
    run = ReconciliationRun.objects.get()
    page = client.get(reverse("admin:finance_taxreconciliation_changelist"))
    assert "已匹配 1 条，差异 3 条" in page.content.decode()
    differences = reverse("admin:finance_reconciliationdifference_changelist")
    page = client.get(differences).content.decode()
    for text in ("金额不符", "本系统缺失", "税务缺失", "待处理", tax_case["c"].receipt_no):
        assert text in page
    assert tax_case["a"].receipt_no not in page  # matched: not a difference
    line = run.lines.get(category=C.AMOUNT)
    detail = client.get(reverse("admin:finance_reconciliationdifference_change", args=[line.pk])).content.decode()
    assert "处理差异" in detail and "认可" in detail
    resolve = reverse("admin:finance_reconciliationdifference_resolve", args=[line.pk])
    client.post(resolve, {"note": "", "_accept": "1"})
    line.refresh_from_db()
    assert line.state == S.OPEN  # a note is required
    client.post(resolve, {"note": "税务多征", "_accept": "1"})
    line.refresh_from_db()
    assert line.state == S.ACCEPTED and DifferenceNote.objects.filter(line=line).count() == 1
    exported = client.get(reverse("admin:finance_reconciliationdifference_export") + "?state=open")
    sheet = load_workbook(BytesIO(exported.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("对账来源", "统筹区", "基金（医疗机构）") and len(values) == 3
    status = client.get(reverse("admin:finance_reconciliationstatus_changelist") + "?year=2023").content.decode()
    assert "有差异" in status and "2023年11月" in status

    supervisor = role_staff("jianguan", SUPERVISOR, ("500231",))
    client.force_login(supervisor)
    page = client.get(differences).content.decode()
    number = tax_case["c"].enrollment.person.document_number
    assert number not in page and number[:6] in page
    assert "处理差异" not in client.get(
        reverse("admin:finance_reconciliationdifference_change", args=[line.pk])).content.decode()
    assert client.post(resolve, {"note": "x", "_note": "1"}).status_code == 403


def test_reconcile_command(hospital_case, tax_case):
    role_staff("shenhe", REVIEWER, ("500231",))
    out = StringIO()
    call_command("reconcile", kind="tax", file=str(tax_case["path"]), user="shenhe", stdout=out)
    assert "2023年11月 垫江县 城乡居民基本医疗保险：已匹配 1，本系统缺失 1，税务缺失" in out.getvalue()
    out = StringIO()
    call_command("reconcile", kind="hospital", file=str(hospital_case["path"]), stdout=out)
    assert "医院缺失 1" in out.getvalue() and "待处理差异 3 条" in out.getvalue()
    bad = write_csv(tax_case["path"].parent / "bad.csv", TAX_HEADER, [["", "", "", "", "", "", "", ""],
                                                                      ["X", "1", "", "垫江县", "无", 2024, "1", "2024-01-01"]])
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("reconcile", kind="tax", file=str(bad), stdout=StringIO(), stderr=StringIO())
    assert ledger_differences() == []
