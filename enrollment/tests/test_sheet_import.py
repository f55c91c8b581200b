"""Spreadsheet imports of persons and payments (issue 6; spec README §2, §6: every bad row
reported with row and column, nothing written when any row is bad, re-import changes
nothing; codes.md: codes or Chinese names)."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from enrollment import services
from enrollment.models import Enrollment, Payment, Person
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from policies.models import Identity
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv, write_xlsx

pytestmark = pytest.mark.usefixtures("loaded_policies")


def persons(path, user=None, **kw):
    return run_import(get_kind("persons"), path, user=user, **kw)


def payments(path, user=None, **kw):
    return run_import(get_kind("payments"), path, user=user, **kw)


def errors_of(result):
    return {(e.row, e.column): e.message for e in result.errors}


def load_persons(tmp_path, seqs, **kw):
    result = persons(write_csv(tmp_path / "persons.csv", PERSON_HEADER, [person_row(s, **kw) for s in seqs]))
    assert result.ok, result.errors
    return result


# --------------------------------------------------------------------------- persons


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_persons_csv_import_creates_and_reimport_changes_nothing(tmp_path, encoding, dianjiang_clerk):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(s) for s in (1, 3, 5)],
                     encoding=encoding)
    result = persons(path, dianjiang_clerk)
    assert result.ok and result.written and result.counts["created"] == 3
    person = Person.objects.get(document_number=id_number(1))
    assert (person.name, person.category, person.birth_date, person.sex) == (
        "测试1", "resident", date(1980, 6, 15), "male")
    assert person.hukou_region.code == "500231" and person.history.get().history_user == dianjiang_clerk
    again = persons(path, dianjiang_clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 3}
    assert Person.objects.count() == 3 and Person.history.count() == 3


def test_persons_xlsx_with_codes_numbers_and_excel_dates(tmp_path):
    header = ["证件类型", "身份证号", "姓名", "性别", "出生日期", "人员类别", "户籍所在地", "异地安置"]
    number = id_number(8, birth=date(2024, 3, 1))  # even = female
    rows = [["id_card", number, "新生甲", "female", 45352, "newborn", 500231, "否"],
            ["出生医学证明", "P440012345", "新生乙", "男", "2024年3月1日", "新生儿", "垫江县", "是"]]
    result = persons(write_xlsx(tmp_path / "p.xlsx", header, rows))
    assert result.ok, result.errors
    a = Person.objects.get(document_number=number)
    b = Person.objects.get(document_number="P440012345")
    assert (a.birth_date, a.sex, a.category) == (date(2024, 3, 1), "female", "newborn")
    assert (b.document_type, b.birth_date, b.sex, b.resettled) == ("birth_certificate", date(2024, 3, 1), "male", True)


def test_persons_update_changed_cells_only(tmp_path):
    load_persons(tmp_path, [1, 3])
    path = write_csv(tmp_path / "u.csv", ["证件号码", "姓名", "人员类别", "联系电话"],
                     [[id_number(1), "测试1", "城乡居民", "13900002222"], [id_number(3), "测试3", "城乡居民", ""]])
    result = persons(path)
    assert result.ok and result.counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert Person.objects.get(document_number=id_number(1)).phone == "13900002222"
    assert Person.objects.get(document_number=id_number(3)).phone == "13800001234"  # empty cell keeps


def test_persons_every_bad_row_reported_and_nothing_written(tmp_path):
    good = person_row(1)
    bad_checksum = person_row(3)
    bad_checksum[0] = bad_checksum[0][:-1] + ("0" if bad_checksum[0][-1] != "0" else "1")
    unknown_code = person_row(5, category="贵宾")
    duplicate = person_row(1, name="重复")
    bad_region = person_row(9, region="火星")
    missing_name = person_row(11, name=" ")
    missing_name[1] = ""
    rows = [good, bad_checksum, unknown_code, duplicate, bad_region, missing_name]
    result = persons(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows))
    errors = errors_of(result)
    assert not result.ok and not result.written
    assert "校验位错误" in errors[(3, "证件号码")]
    assert "未知的人员类别“贵宾”" in errors[(4, "人员类别")]
    assert errors[(5, "证件号码")] == "证件号码与第 2 行重复"
    assert "未知的统筹区“火星”" in errors[(6, "户籍所在地")]
    assert errors[(7, "姓名")] == "请填写“姓名”"
    assert result.bad_rows == 5
    assert not Person.objects.exists() and not Person.history.exists()


def test_persons_birth_date_disagreeing_with_the_id_number(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["证件号码", "姓名", "人员类别", "出生日期", "性别"],
                     [[id_number(1), "甲", "城乡居民", "1990-01-01", "女"]])
    errors = errors_of(persons(path))
    assert "不一致" in errors[(2, "出生日期")] and "不一致" in errors[(2, "性别")]


def test_persons_header_errors(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["证件号码", "名字", "姓名", "姓名"], [[id_number(1), "x", "y", "z"]])
    result = persons(path)
    messages = [str(e) for e in result.errors]
    assert any("无法识别的列名“名字”" in m for m in messages)
    assert any("重复出现" in m for m in messages)
    assert any("缺少必填列“人员类别”" in m for m in messages)
    assert result.rows == 0 and not Person.objects.exists()


def test_persons_scope_of_the_importing_user(tmp_path, dianjiang_clerk, changzhi_clerk):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1), person_row(3, region="长治市")])
    result = persons(path, dianjiang_clerk)
    assert list(errors_of(result)) == [(3, "户籍所在地")]
    assert "必须属于您负责的统筹区" in result.errors[0].message
    assert not Person.objects.exists()
    load_persons(tmp_path, [1])
    result = persons(write_csv(tmp_path / "q.csv", PERSON_HEADER, [person_row(1, region="长治市")]),
                     changzhi_clerk)
    assert "不属于您负责的统筹区" in errors_of(result)[(2, "证件号码")]


def test_import_permission_is_required(tmp_path, dianjiang_viewer):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])
    with pytest.raises(PermissionDenied, match="导入参保人"):
        persons(path, dianjiang_viewer)


def test_small_chunks_keep_duplicate_checks_across_chunks(tmp_path, monkeypatch):
    from enrollment.sheet_kinds.persons import PersonSheet

    monkeypatch.setattr(PersonSheet, "chunk_size", 2)
    rows = [person_row(s) for s in (1, 3, 5, 7, 9)]
    result = persons(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows + [person_row(1)]))
    assert errors_of(result) == {(7, "证件号码"): "证件号码与第 2 行重复"}
    assert not Person.objects.exists()
    result = persons(write_csv(tmp_path / "q.csv", PERSON_HEADER, rows))
    assert result.ok and Person.objects.count() == 5


def test_dry_run_writes_nothing(tmp_path):
    result = persons(write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)]), dry_run=True)
    assert result.ok and not result.written and result.counts["created"] == 1
    assert not Person.objects.exists()


def test_unreadable_file_is_a_file_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("证件号码,姓名\n".encode() + bytes([0xFF, 0xFE, 0x00, 0x81]) * 3)
    result = persons(path)
    assert not result.ok and result.errors[0].row is None


# --------------------------------------------------------------------------- payments


def test_payments_create_enrollments_and_reimport_changes_nothing(tmp_path, dianjiang_clerk):
    load_persons(tmp_path, [1, 3])
    rows = [payment_row(1), payment_row(3, tier="2", due="755", self_paid="755.00", channel="tax_app",
                                        paid="2024/3/10")]
    path = write_xlsx(tmp_path / "pay.xlsx", PAYMENT_HEADER, rows)
    result = payments(path, dianjiang_clerk)
    assert result.ok, result.errors
    assert result.counts["created"] == 2
    first = Enrollment.objects.get(person__document_number=id_number(1))
    assert (first.tier, first.coverage_start, first.coverage_end, first.paid_off_date, first.window_code) == (
        1, date(2024, 1, 1), date(2024, 12, 31), date(2023, 12, 1), "central")
    second = Enrollment.objects.get(person__document_number=id_number(3))
    assert (second.tier, second.coverage_start, second.window_code) == (2, date(2024, 6, 8), "mar_jun")
    payment = Payment.objects.get(receipt_no="R000003")
    assert (payment.amount_due, payment.self_paid, payment.channel, payment.completes) == (
        Decimal("755.00"), Decimal("755.00"), "tax_app", True)
    assert payment.history.get().history_user == dianjiang_clerk
    again = payments(path, dianjiang_clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert Payment.objects.count() == 2 and Enrollment.objects.count() == 2


def test_payments_subsidy_follows_the_rules(tmp_path):
    load_persons(tmp_path, [1, 3])
    person = Person.objects.get(document_number=id_number(1))
    services.identity_add(person=person, identity=Identity.objects.get(code="dibao"),
                          valid_from=date(2023, 1, 1), acting_user=None)
    good = payment_row(1, subsidy="342", self_paid="38", channel="财政资助")
    wrong = payment_row(3, subsidy="342", self_paid="38")
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [good, wrong]))
    errors = errors_of(result)
    assert list(errors) == [(3, "资助金额")]
    assert "没有可获资助的特殊身份" in errors[(3, "资助金额")] and "应为 0.00" in errors[(3, "资助金额")]
    result = payments(write_csv(tmp_path / "pay2.csv", PAYMENT_HEADER, [good]))
    assert result.ok
    payment = Payment.objects.get()
    assert (payment.subsidy, payment.subsidy_identity.code, payment.subsidy_payer) == (
        Decimal("342.00"), "dibao", "government")


def test_payments_every_error_class_reported_with_row_and_column(tmp_path, dianjiang_clerk):
    load_persons(tmp_path, [1, 3, 5, 7, 9, 11, 13])
    services.payment_record(
        enrollment=services.enrollment_create(
            person=Person.objects.get(document_number=id_number(13)),
            plan_year=Enrollment._meta.get_field("plan_year").related_model.objects.get(
                scheme__region__code="500231", scheme__kind="resident_basic", year=2024),
            tier=1, acting_user=None),
        paid_date=date(2023, 12, 1), channel="wechat", receipt_no="DB-1", acting_user=None)
    rows = [
        payment_row(1),                                            # 2 good
        payment_row(3, self_paid="300"),                           # 3 does not add up
        payment_row(5, due="400", self_paid="400"),                # 4 due against the standard
        payment_row(7, paid="2024-10-15"),                         # 5 outside every window
        payment_row(9, receipt="R000001"),                         # 6 duplicate in file
        payment_row(11, receipt="DB-1"),                           # 7 duplicate in DB
        payment_row(15),                                           # 8 unknown person
        payment_row(1, region="140400", scheme="resident_basic", receipt="CZ-1"),  # 9 out of scope
        payment_row(3, channel="信用卡", receipt="X-1"),            # 10 unknown code
        payment_row(3, tier="", receipt="X-2"),                    # 11 tier missing
    ]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows), dianjiang_clerk)
    errors = errors_of(result)
    assert "金额不平：应缴金额 380.00 ≠ 资助金额 0.00 + 个人缴费 300.00" in errors[(3, "个人缴费")]
    assert "应缴 380.00" in errors[(4, "应缴金额")]
    assert errors[(5, "缴费日期")] == "2024 年度缴费已截止"
    assert errors[(6, "票据/流水号")].startswith("票据/流水号与第 2 行重复")
    assert "已在垫江县城乡居民基本医疗保险登记" in errors[(7, "票据/流水号")]
    assert "未登记的参保人" in errors[(8, "证件号码")]
    assert "不属于您负责的统筹区" in errors[(9, "统筹区")]
    assert "未知的缴费渠道“信用卡”" in errors[(10, "缴费渠道")]
    assert "分档缴费，请填写档次" in errors[(11, "档次")]
    assert result.bad_rows == 10 - 1
    assert Payment.objects.count() == 1 and Enrollment.objects.count() == 1  # only the DB-1 setup


def test_payments_eligibility_and_payer_rules(tmp_path):
    load_persons(tmp_path, [1], category="在职职工")
    load_persons(tmp_path, [3])
    rows = [payment_row(1),
            payment_row(3, region="350400", scheme="三明普惠医联保", tier="", due="150", self_paid="150",
                        paid="2023-12-01", channel="个人账户代扣", receipt="SM-1")]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    errors = errors_of(result)
    assert errors[(2, "证件号码")] == "已参加职工基本医疗保险，不能参加城乡居民医保"
    assert "非三明市参保且非在三明市长期居住的新市民" in errors[(3, "证件号码")]  # 三明's own words


def test_payments_of_a_sanming_new_citizen_are_admitted(tmp_path):
    load_persons(tmp_path, [5, 7], region="尤溪县")
    Person.objects.filter(document_number=id_number(5)).update(long_term_resident=True)  # 新市民
    rows = [payment_row(s, region="350400", scheme="三明普惠医联保", tier="", due="150", self_paid="150",
                        paid="2023-12-01", receipt=f"SM-{s}") for s in (5, 7)]
    errors = errors_of(payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows)))
    assert list(errors) == [(3, "证件号码")]  # the second person is neither insured here nor a 新市民
    assert "非三明市参保且非在三明市长期居住的新市民" in errors[(3, "证件号码")]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows[:1]))
    assert result.ok and result.written, result.errors
    assert Payment.objects.get(receipt_no="SM-5").amount_due == Decimal("150.00")


def test_payments_need_basic_insurance_recorded_or_confirmed(tmp_path):
    load_persons(tmp_path, [1], region="371500")
    rows = [payment_row(1, region="聊城市", scheme="resident_basic", due="400", self_paid="400",
                        tier="", receipt="LC-B"),
            payment_row(1, region="聊城市", scheme="聊惠保", due="89", self_paid="89", tier="",
                        receipt="LC-1")]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    # 聊城's basic scheme is not administered here (no window): the basic row fails, the
    # 聊惠保 row then has no basic insurance either (both reported).
    errors = errors_of(result)
    assert errors == {(2, "险种"): "聊城市城乡居民基本医疗保险 2024 年度没有参保缴费期（参保缴费期表无数据行）",
                      (3, "证件号码"): "非聊城市基本医疗保险参保人员不得购买"}
    confirmed = [*PAYMENT_HEADER, "已核实参加本统筹区基本医保"]
    result = payments(write_csv(tmp_path / "pay2.csv", confirmed, [rows[1] + ["是"]]))
    assert result.ok, result.errors
    assert Enrollment.objects.get().basic_confirmed is True


def test_payments_all_or_nothing_across_chunks(tmp_path, monkeypatch):
    from enrollment.sheet_kinds.payments import PaymentSheet

    monkeypatch.setattr(PaymentSheet, "chunk_size", 2)
    load_persons(tmp_path, [1, 3, 5, 7, 9])
    rows = [payment_row(s) for s in (1, 3, 5, 7)] + [payment_row(9, receipt="R000003")]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    assert list(errors_of(result)) == [(6, "票据/流水号")]
    assert not Payment.objects.exists() and not Enrollment.objects.exists()
    rows[-1] = payment_row(9)
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    assert result.ok and Payment.objects.count() == 5 and Enrollment.objects.count() == 5
    assert Payment.history.count() == 5


def test_second_payment_for_a_paid_enrollment_is_refused(tmp_path):
    load_persons(tmp_path, [1])
    rows = [payment_row(1), payment_row(1, receipt="R-2")]
    result = payments(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    assert "已在第 2 行缴清" in errors_of(result)[(3, "票据/流水号")]
