"""Sheet kind ``refunds`` (退费申请; docs/money.md §退费, docs/spreadsheets.md): every bad
row reported by row and column, nothing written unless the whole file is good, the rows
of one payment together never exceed what it can refund, a re-import changes nothing;
the export scoped and masked."""
from datetime import date
from decimal import Decimal

import pytest

from enrollment import services
from enrollment.models import Refund
from policies.roles import CLERK, SUPERVISOR
from policies.tests.factories import role_staff
from sheets.engine import run_import
from sheets.exporting import export_rows
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv, write_xlsx

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")
HEADER = ["证件号码", "姓名", "票据/流水号", "退费金额", "退费原因", "原因说明", "终止参保日期",
          "收款户名", "收款银行账号", "开户银行"]
ACCOUNT = "6228480012345678901"


def paid(receipt, *, dibao=False):
    person = new_person(bank_name="农业银行垫江支行", bank_account_name="孙七", bank_account_number=ACCOUNT)
    if dibao:
        services.identity_add(person=person, identity="dibao", valid_from=date(2023, 1, 1), acting_user=None)
    enrollment = services.enrollment_create(person=person, plan_year=plan_year("500231", "resident_basic"),
                                            tier=1, acting_user=None)
    return services.payment_record(enrollment=enrollment, paid_date=date(2023, 11, 20), channel="wechat",
                                   receipt_no=receipt, acting_user=None)


def errors_of(result):
    return {(e.row, e.column): e.message for e in result.errors}


def test_a_good_file_records_every_request_once(tmp_path):
    clerk = role_staff("rs_jingban", CLERK, ("500231",))
    a, b = paid("RS-1"), paid("RS-2")
    person_a, person_b = a.enrollment.person, b.enrollment.person
    rows = [[person_a.document_number, person_a.name, "RS-1", "100", "多缴", "", "", "", "", ""],
            [person_a.document_number, "", "RS-1", "50.5", "其他", "录入有误", "", "", "", ""],
            [person_b.document_number, person_b.name, "RS-2", "380", "死亡", "", "2024-05-01", "孙八",
             "6228480099999999999", "建设银行"]]
    path = write_xlsx(tmp_path / "r.xlsx", HEADER, rows)
    result = run_import(get_kind("refunds"), path, user=clerk)
    assert result.ok and result.counts["created"] == 3, result.errors
    death = Refund.objects.get(payment=b)
    assert (death.reason, death.terminate_on, death.payee_name, death.recorded_by, death.status) == (
        "death", date(2024, 5, 1), "孙八", clerk, Refund.Status.PENDING)
    assert Refund.objects.get(payment=a, amount=Decimal("100")).payee_account == ACCOUNT
    again = run_import(get_kind("refunds"), path, user=clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 3}
    assert Refund.objects.count() == 3


def test_bad_rows_are_named_and_nothing_is_written(tmp_path):
    clerk = role_staff("rs_jingban2", CLERK, ("500231",))
    a, sub = paid("RB-1"), paid("RB-2", dibao=True)
    other = role_staff("rs_cz", CLERK, ("140400",))
    pa, ps = a.enrollment.person, sub.enrollment.person
    rows = [[pa.document_number, pa.name, "RB-1", "300", "多缴", "", "", "", "", ""],  # good alone
            [pa.document_number, pa.name, "RB-1", "100", "多缴", "", "", "", "", ""],  # with row 2: > 380
            [ps.document_number, ps.name, "RB-2", "40", "重复缴费", "", "", "", "", ""],  # subsidy not refunded
            [pa.document_number, pa.name, "NOPE", "1", "多缴", "", "", "", "", ""],
            [pa.document_number, pa.name, "RB-1", "1", "其他", "", "", "", "", ""],
            [pa.document_number, pa.name, "RB-1", "1", "参军", "", "", "", "", ""],
            [pa.document_number, "别人", "RB-1", "1", "多缴", "", "", "", "", ""],
            [pa.document_number, pa.name, "RB-1", "1", "不知道", "", "", "", "", ""]]
    result = run_import(get_kind("refunds"), write_csv(tmp_path / "b.csv", HEADER, rows), user=clerk)
    errors = errors_of(result)
    assert set(errors) == {(3, "退费金额"), (4, "退费金额"), (5, "票据/流水号"), (6, "原因说明"),
                           (7, "终止参保日期"), (8, "姓名"), (9, "退费原因")}, errors
    assert "本文件中缴费记录“RB-1”的退费合计400.00元超过可退金额380.00元" in errors[(3, "退费金额")]
    assert "超过可退金额38.00元" in errors[(4, "退费金额")] and "资助金额不退" in errors[(4, "退费金额")]
    assert not Refund.objects.exists()
    outside = run_import(get_kind("refunds"), write_csv(tmp_path / "o.csv", HEADER, rows[:1]), user=other)
    assert "不属于您负责的统筹区" in errors_of(outside)[(2, "证件号码")]
    assert not Refund.objects.exists()


def test_the_export_is_scoped_and_masks_the_account():
    a = paid("RE-1")
    services.refund_request(payment=a, amount=Decimal("10"), reason="overpaid", acting_user=None)
    headers, rows = export_rows(get_kind("refunds"), user=role_staff("rs_jg", SUPERVISOR, ("500231",)))
    [row] = list(rows)
    assert row[headers.index("收款银行账号")] != ACCOUNT and "*" in row[headers.index("收款银行账号")]
    assert row[headers.index("退费状态")] == "待复核"
    headers, rows = export_rows(get_kind("refunds"), user=role_staff("rs_jb", CLERK, ("500231",)))
    assert list(rows)[0][headers.index("收款银行账号")] == ACCOUNT
    assert list(export_rows(get_kind("refunds"), user=role_staff("rs_cz2", CLERK, ("140400",)))[1]) == []
