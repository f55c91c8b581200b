"""Exports, templates and the import_sheet/export_sheet commands (issue 6): round trips,
scoping to the user's regions, masking of ID numbers, formula escaping, exit codes."""
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from enrollment.models import Payment, Person
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from sheets.exporting import export_rows
from sheets.readers import SheetFile
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")
NAME = '=HYPERLINK("http://x")'


def read(path):
    sheet = SheetFile(path)
    return sheet.headers, [values for _n, values in sheet.rows()]


@pytest.fixture
def data(tmp_path):
    rows = [person_row(1), person_row(3, name=NAME, phone="+8613800001234"),
            person_row(5, region="长治市")]
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows)))
    call_command("import_sheet", "payments",
                 str(write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1), payment_row(3, name=NAME)])))
    return tmp_path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_exports_reimport_unchanged(data, suffix, capsys):
    for kind in ("persons", "payments"):
        out = data / f"{kind}{suffix}"
        call_command("export_sheet", kind, str(out))
        capsys.readouterr()
        call_command("import_sheet", kind, str(out))
        summary = capsys.readouterr().out
        expected = 3 if kind == "persons" else 2
        assert f"新增 0，更新 0，无变化 {expected}" in summary, summary
    assert Person.objects.count() == 3 and Payment.objects.count() == 2


def test_export_is_scoped_masked_and_formula_escaped(data, dianjiang_clerk, dianjiang_viewer, changzhi_clerk):
    headers, rows = export_rows(get_kind("persons"), user=dianjiang_clerk)
    rows = list(rows)
    assert headers[:3] == ["证件类型", "证件号码", "姓名"]
    assert [r[1] for r in rows] == [id_number(1), id_number(3)]  # 长治's person not exported
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][6] == "'+8613800001234"
    assert rows[0][0] == "居民身份证" and rows[0][5] == "城乡居民" and rows[0][7] == "垫江县"
    _h, masked = export_rows(get_kind("persons"), user=dianjiang_viewer)
    masked = list(masked)
    assert masked[0][1] == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert "*" in masked[0][6]
    _h, none = export_rows(get_kind("payments"), user=changzhi_clerk)
    assert list(none) == []
    _h, pays = export_rows(get_kind("payments"), user=dianjiang_clerk)
    pays = list(pays)
    assert [p[15] for p in pays] == ["R000001", "R000003"]
    assert pays[0][4] == "城乡居民基本医疗保险" and pays[0][6] == "一档" and pays[0][11] == "微信"


def test_export_command_region_year_and_user(data, dianjiang_viewer):
    out = data / "e.csv"
    call_command("export_sheet", "persons", str(out), "--region", "140400")
    assert [r[2] for r in read(out)[1]] == ["测试5"]
    call_command("export_sheet", "payments", str(out), "--region", "500231", "--year", "2025")
    assert read(out)[1] == []
    call_command("export_sheet", "payments", str(out), "--year", "2024", "--user", "dj_viewer")
    rows = read(out)[1]
    assert len(rows) == 2 and "*" in rows[0][1]
    with pytest.raises(CommandError, match="未知的统筹区"):
        call_command("export_sheet", "persons", str(out), "--region", "999999")


def test_template_has_header_and_description_and_imports_when_filled(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    call_command("export_sheet", "persons", str(out), "--template")
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["证件类型", "证件号码*", "姓名*"]
    assert all(c.value.startswith("说明：") for c in sheet[2])
    assert "GB 11643" in sheet["B2"].value and sheet["B1"].comment is not None
    sheet.append([None, id_number(1), "甲", None, None, "城乡居民", None, "垫江县"])
    book = sheet.parent
    book.save(out)
    call_command("import_sheet", "persons", str(out))
    assert Person.objects.get().name == "甲"


def test_import_command_exit_codes_and_error_report(tmp_path, capsys):
    good = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])
    call_command("import_sheet", "persons", str(good), "--dry-run")
    assert "试导入" in capsys.readouterr().out and not Person.objects.exists()
    bad = write_csv(tmp_path / "bad.csv", PERSON_HEADER, [person_row(3), person_row(5, category="x")])
    report = tmp_path / "errors.xlsx"
    with pytest.raises(CommandError, match="1 行有错误"):
        call_command("import_sheet", "persons", str(bad), "--errors", str(report))
    assert "第 3 行“人员类别”列（x）：未知的人员类别“x”" in capsys.readouterr().err
    headers, rows = read(report)
    assert headers == ["行号", "列", "单元格内容", "错误说明"] and rows[0][:3] == [3, "人员类别", "x"]
    assert not Person.objects.exists()
    with pytest.raises(CommandError, match="未知的表格类型"):
        call_command("import_sheet", "pharmacies", str(good))
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_sheet", "persons", str(tmp_path / "missing.csv"))
    get_user_model().objects.create_user("nobody", is_staff=True)
    with pytest.raises(CommandError, match="没有导入参保人的权限"):
        call_command("import_sheet", "persons", str(good), "--user", "nobody")


def test_date_cells_export_as_dates(data):
    _h, rows = export_rows(get_kind("payments"), user=None)
    assert list(rows)[0][7] == date(2023, 12, 1)  # a date cell in xlsx, YYYY-MM-DD in csv
