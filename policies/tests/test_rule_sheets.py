"""Plan-year workbooks (docs/policy-sheets.md; spec README §5, §6): export of every rule
table as one .xlsx, all-or-nothing import into a draft plan year, admin object tools
and the ``export_plan_year`` / ``import_plan_year`` commands."""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import load_workbook

from policies import models as pm
from policies.loading import data_fields
from policies.resources import PLAN_YEAR_HEADER, RULE_RESOURCES, sheet_title, write_plan_year_workbook
from policies.roles import POLICY_OFFICER, SUPERVISOR, roles_sync
from policies.rollover import TEXTS_WITH_DATES, shift_text
from policies.rule_sheets import integrity_message
from policies.services import plan_year_import_sheets, plan_year_rollover

from . import factories as f
from .test_rollover import PLAN_YEARS

pytestmark = pytest.mark.django_db


def draft_of(region, kind):
    return plan_year_rollover(region_code=region, kind=kind, from_year=2024, to_year=2025)


def export(plan_year, path, user=None):
    write_plan_year_workbook(plan_year, path, user=user)
    return path


def _rows_as_dicts(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def sheet_rows(path, model) -> list[dict]:
    """One sheet's rows as header → value (read-only: only that sheet is parsed)."""
    book = load_workbook(path, read_only=True)
    try:
        return _rows_as_dicts(book[sheet_title(model)])
    finally:
        book.close()


def book_rows(path) -> dict[str, list[dict]]:
    """Every sheet's rows as header → value, by sheet title in workbook order, read once."""
    book = load_workbook(path, read_only=True)
    try:
        return {sheet.title: _rows_as_dicts(sheet) for sheet in book.worksheets}
    finally:
        book.close()


def edit(path, model, changes):
    """Set cells: ``changes`` = [(row number, header, value)]; returns the path."""
    book = load_workbook(path)
    sheet = book[sheet_title(model)]
    headers = [c.value for c in sheet[1]]
    for number, header, value in changes:
        sheet.cell(row=number, column=headers.index(header) + 1, value=value)
    book.save(path)
    return path


def append(path, model, values: dict):
    book = load_workbook(path)
    sheet = book[sheet_title(model)]
    headers = [c.value for c in sheet[1]]
    sheet.append([values.get(h) for h in headers])
    book.save(path)
    return sheet.max_row


def row_number(path, model, **match) -> int:
    for number, row in enumerate(sheet_rows(path, model), start=2):
        if all(row[k] == v for k, v in match.items()):
            return number
    raise AssertionError(f"no row {match}")


def snapshot(plan_year):
    """Every value of every row of the plan year, and the number of history entries of
    those rows (counted in one query per table)."""
    values, history = {}, 0
    for model in pm.RULE_MODELS:
        rows = model.objects.filter(plan_year=plan_year)
        for row in rows:
            values[(model.__name__, row.pk)] = tuple(getattr(row, f.attname) for f in data_fields(model))
        history += model.history.filter(id__in=rows.values("pk")).count()
    return values, history


def import_(plan_year, path, user=None, dry_run=False):
    return plan_year_import_sheets(plan_year=plan_year, path=path, acting_user=user, dry_run=dry_run)


# --------------------------------------------------------------------------- round trip


@pytest.mark.usefixtures("loaded_policies")
@pytest.mark.parametrize("region, kind", PLAN_YEARS)
def test_export_reimported_into_the_rollover_draft_changes_nothing(tmp_path, region, kind):
    source = pm.PlanYear.objects.get(scheme__region__code=region, scheme__kind=kind, year=2024)
    draft = draft_of(region, kind)
    seed_book = export(source, tmp_path / "2024.xlsx")
    draft_book = export(draft, tmp_path / "2025.xlsx")

    # every table is a sheet; the draft's workbook is the seed's with the plan-year column
    # and the dates one year later (rollover: the dates written in a dated row's name and
    # note too), every other cell equal
    seed_sheets, draft_sheets = book_rows(seed_book), book_rows(draft_book)
    assert list(draft_sheets) == [sheet_title(m) for m in pm.RULE_MODELS]
    total = 0
    for model in pm.RULE_MODELS:
        old, new = seed_sheets[sheet_title(model)], draft_sheets[sheet_title(model)]
        assert len(new) == model.objects.filter(plan_year=source).count()
        total += len(new)
        dates = {str(f.verbose_name) for f in data_fields(model) if type(f).__name__ == "DateField"}
        texts = {str(f.verbose_name) for f in data_fields(model) if dates and f.name in TEXTS_WITH_DATES}
        for a, b in zip(old, new, strict=True):
            assert b[PLAN_YEAR_HEADER] == f"{region}/{kind}/2025"
            for header in a:
                if header == PLAN_YEAR_HEADER or (header in dates and a[header]):
                    continue
                if header in texts and a[header]:
                    assert b[header] == shift_text(a[header], 1), (model.__name__, header)
                    continue
                assert a[header] == b[header], (model.__name__, header)
    assert total > 0

    before = snapshot(draft)
    result = import_(draft, draft_book)
    assert result.ok, [str(e) for e in result.errors]
    assert result.written
    section = result.section
    assert (section.created, section.updated, section.not_in_file) == (0, 0, 0)
    assert section.unchanged == total
    assert snapshot(draft) == before


@pytest.mark.usefixtures("loaded_policies")
def test_changed_ratio_updates_exactly_that_row_with_history(tmp_path):
    draft = draft_of("500231", "resident_basic")
    officer = f.staff_user("officer", regions=[draft.scheme.region],
                           perms=["policies.change_planyear", "policies.view_planyear"])
    book = export(draft, tmp_path / "p.xlsx")
    target = draft.benefitrule_rows.get(claim_type="inpatient", level=1, tier=2, delivery_mode="")
    number = row_number(book, pm.BenefitRule, 就医类型="住院", 医院级别=target.get_level_display(),
                        档次="二档", 分娩方式=None)
    edit(book, pm.BenefitRule, [(number, "报销比例（%）", 91.5)])
    before_values, before_history = snapshot(draft)

    result = import_(draft, book, user=officer)

    assert result.ok, [str(e) for e in result.errors]
    assert (result.section.created, result.section.updated) == (0, 1)
    counts = result.section.tables["BenefitRule"]
    assert counts.updated == 1 and counts.unchanged == draft.benefitrule_rows.count() - 1
    after_values, after_history = snapshot(draft)
    changed = {k for k in after_values if after_values[k] != before_values[k]}
    assert changed == {("BenefitRule", target.pk)}
    assert after_history == before_history + 1
    target.refresh_from_db()
    assert target.ratio == Decimal("91.50")
    latest = target.history.first()
    assert latest.history_user == officer and latest.history_type == "~"
    assert latest.prev_record.ratio != Decimal("91.50")


@pytest.mark.usefixtures("loaded_policies")
def test_new_rows_codes_or_names_and_children_in_one_file(tmp_path):
    draft = draft_of("350400", "inclusive_commercial")
    book = export(draft, tmp_path / "p.xlsx")
    plan = "350400/inclusive_commercial/2025"
    append(book, pm.Responsibility, {PLAN_YEAR_HEADER: plan, "责任代码": "R9", "责任名称": "测试责任",
                                     "就医类型": "inpatient", "计算基数": "总费用 − 前序各层已付",
                                     "赔付比例·健康人群（%）": 50})
    identity = pm.Identity.objects.get(code="tekun")
    append(book, pm.ResponsibilityIdentityRatio, {PLAN_YEAR_HEADER: plan, "责任": "R9",
                                                  "身份": identity.name, "既往症人群赔付比例（%）": 60})
    result = import_(draft, book)
    assert result.ok, [str(e) for e in result.errors]
    assert (result.section.created, result.section.updated) == (2, 0)
    r9 = draft.responsibility_rows.get(code="R9")
    assert (r9.claim_type, r9.basis, r9.ratio_healthy, r9.deductible) == (
        "inpatient", "total_after_upstream", Decimal("50.00"), Decimal("0.00"))
    assert r9.identity_ratios.get().identity == identity


# --------------------------------------------------------------------------- bad rows


@pytest.mark.usefixtures("loaded_policies")
def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path):
    draft = draft_of("500231", "critical_illness")
    book = export(draft, tmp_path / "p.xlsx")
    # ratio 120 on a changed row that would otherwise be written
    benefit_sheet = sheet_rows(book, pm.CumulativeSegment)
    ordinary = row_number(book, pm.CumulativeSegment, **{"身份（空 = 普通人员）": None, "段序号": 1})
    edit(book, pm.CumulativeSegment, [(ordinary, "报销比例（%）", 120)])
    # overlapping segments: a 2nd ordinary segment starting below the 1st one
    plan = "500231/critical_illness/2025"
    first_threshold = next(r for r in benefit_sheet if r["段序号"] == 1 and not r["身份（空 = 普通人员）"])
    overlap = append(book, pm.CumulativeSegment, {PLAN_YEAR_HEADER: plan, "段序号": 2,
                                                  "起付标准（元）": float(first_threshold["起付标准（元）"]) - 1,
                                                  "报销比例（%）": 70, "计算基数": "年度累计自付 S"})
    # unknown identity code
    unknown = append(book, pm.CumulativeSegment, {PLAN_YEAR_HEADER: plan, "身份（空 = 普通人员）": "nobody",
                                                  "段序号": 1, "起付标准（元）": 1000, "报销比例（%）": 50})
    # duplicate key: the same (pool, tier, identity) twice
    limit = sheet_rows(book, pm.AnnualLimit)[0]
    duplicate = append(book, pm.AnnualLimit, {**limit, "年度限额（元）": 1})
    # a good new row elsewhere: must not be written either
    append(book, pm.PlanFigure, {PLAN_YEAR_HEADER: plan, "指标": "minor_age", "数值": 18})
    before = snapshot(draft)

    result = import_(draft, book)

    assert not result.ok and not result.written
    found = {(e.sheet, e.row, e.column) for e in result.errors}
    segments = sheet_title(pm.CumulativeSegment)
    assert (segments, ordinary, "报销比例（%）") in found
    assert (segments, overlap, "起付标准（元）") in found
    assert (segments, unknown, "身份（空 = 普通人员）") in found
    first_limit = row_number(book, pm.AnnualLimit, **{"限额类别": limit["限额类别"],
                                                     "档次": limit["档次"], "年度限额（元）": limit["年度限额（元）"]})
    assert (sheet_title(pm.AnnualLimit), duplicate, "限额类别") in found
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "100" in messages[(ordinary, "报销比例（%）")]
    assert "分段重叠" in messages[(overlap, "起付标准（元）")]
    assert "找不到特殊身份“nobody”" in messages[(unknown, "身份（空 = 普通人员）")]
    assert f"与第 {first_limit} 行的键" in messages[(duplicate, "限额类别")]
    assert all(e.sheet for e in result.errors)
    assert "未写入任何数据" in result.summary()
    assert snapshot(draft) == before
    assert not draft.planfigure_rows.filter(code="minor_age").exists()


@pytest.mark.usefixtures("loaded_policies")
def test_header_sheet_and_plan_year_column_errors(tmp_path):
    draft = draft_of("500231", "resident_basic")
    book = export(draft, tmp_path / "p.xlsx")
    wb = load_workbook(book)
    wb[sheet_title(pm.PlanFigure)]["B1"] = "不存在的列"
    wb.create_sheet("随便写写")
    wb.save(book)
    result = import_(draft, book)
    assert [(e.sheet, e.row) for e in result.errors] == [("随便写写", None)]

    del wb["随便写写"]
    wb.save(book)
    result = import_(draft, book)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [
        (sheet_title(pm.PlanFigure), 1, "不存在的列"), (sheet_title(pm.PlanFigure), 1, "指标")]

    book2 = export(draft, tmp_path / "q.xlsx")
    edit(book2, pm.EnrollmentWindow, [(2, PLAN_YEAR_HEADER, "500231/resident_basic/2024"),
                                      (3, "缴费截止日", "2025-02-30")])
    result = import_(draft, book2)
    cells = {(e.row, e.column): e.message for e in result.errors}
    assert "本行属于另一年度方案" in cells[(2, PLAN_YEAR_HEADER)]
    assert "不存在的日期" in cells[(3, "缴费截止日")]


def test_integrity_error_becomes_the_constraint_message():
    systems = f.two_systems()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        pm.BenefitRule.objects.filter(pk=systems["ben_a"].pk).update(ratio=Decimal("120"))
    assert integrity_message(pm.BenefitRule, exc.value) == ("报销比例（%）", "比例字段“ratio”必须在 0%–100% 之间")
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        pm.PlanFigure.objects.create(plan_year=systems["py_a"], code="fiscal_subsidy", value=1)
    assert integrity_message(pm.PlanFigure, exc.value) == ("指标", "该年度方案已有此指标")


# --------------------------------------------------------------------------- status, scope


@pytest.mark.usefixtures("loaded_policies")
def test_active_and_closed_plan_years_are_refused(tmp_path):
    active = pm.PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic",
                                     year=2024)
    book = export(active, tmp_path / "p.xlsx")
    result = import_(active, book)
    assert not result.ok
    assert "只能导入到草稿年度方案" in result.errors[0].message and "生效" in result.errors[0].message
    active.status = pm.PlanYear.Status.CLOSED
    active.save()
    result = import_(active, book)
    assert "已关闭" in result.errors[0].message


@pytest.mark.usefixtures("loaded_policies")
def test_users_of_another_region_cannot_export_or_import(tmp_path):
    roles_sync()
    draft = draft_of("500231", "resident_basic")
    changzhi = pm.Region.objects.get(code="140400")
    dianjiang = draft.scheme.region
    outsider = f.staff_user("outsider", regions=[changzhi], groups=[Group.objects.get(name=POLICY_OFFICER)])
    officer = f.staff_user("officer", regions=[dianjiang], groups=[Group.objects.get(name=POLICY_OFFICER)])
    viewer = f.staff_user("viewer", regions=[dianjiang], groups=[Group.objects.get(name=SUPERVISOR)])
    book = export(draft, tmp_path / "p.xlsx", user=officer)
    with pytest.raises(PermissionDenied):
        export(draft, tmp_path / "x.xlsx", user=outsider)
    with pytest.raises(PermissionDenied):
        import_(draft, book, user=outsider)
    export(draft, tmp_path / "v.xlsx", user=viewer)  # 只读/监管 may export
    with pytest.raises(PermissionDenied):
        import_(draft, book, user=viewer)  # … but not import
    assert import_(draft, book, user=officer).ok


# --------------------------------------------------------------------------- admin


@pytest.mark.usefixtures("loaded_policies")
def test_admin_object_tools_export_and_import_with_preview(client, tmp_path):
    roles_sync()
    draft = draft_of("500231", "resident_basic")
    officer = f.staff_user("officer", regions=[draft.scheme.region],
                           groups=[Group.objects.get(name=POLICY_OFFICER)])
    client.force_login(officer)
    change = reverse("admin:policies_planyear_change", args=[draft.pk])
    export_url = reverse("admin:policies_planyear_export_sheets", args=[draft.pk])
    import_url = reverse("admin:policies_planyear_import_sheets", args=[draft.pk])
    page = client.get(change).content.decode()
    assert export_url in page and "导出参数表" in page
    assert import_url in page and "导入参数表" in page

    response = client.get(export_url)
    assert response.status_code == 200
    book = tmp_path / "p.xlsx"
    book.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    number = row_number(book, pm.PlanFigure, 指标="年度财政补助标准 F（元）")
    edit(book, pm.PlanFigure, [(number, "数值", 700)])

    with open(book, "rb") as handle:
        preview = client.post(import_url, {"file": handle})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "确认导入" in text and "<td>参考指标</td>" in text
    assert "PlanFigure" not in text  # tables named in Chinese only
    token = preview.context["token"]
    assert draft.planfigure_rows.get(code="fiscal_subsidy").value == Decimal("670.00")  # preview only

    done = client.post(import_url, {"token": token})
    assert done.status_code == 302 and done.url == change
    assert draft.planfigure_rows.get(code="fiscal_subsidy").value == Decimal("700.00")

    # errors are listed with sheet, row and column; nothing written
    edit(book, pm.PlanFigure, [(number, "数值", "abc")])
    with open(book, "rb") as handle:
        bad = client.post(import_url, {"file": handle})
    assert "确认导入" not in bad.content.decode()
    assert [(e.sheet, e.row, e.column) for e in bad.context["errors"]] == [("参考指标", number, "数值")]


@pytest.mark.usefixtures("loaded_policies")
def test_admin_tools_follow_status_and_scope(client, tmp_path):
    roles_sync()
    active = pm.PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic",
                                     year=2024)
    officer = f.staff_user("officer", regions=[active.scheme.region],
                           groups=[Group.objects.get(name=POLICY_OFFICER)])
    outsider = f.staff_user("outsider", regions=[pm.Region.objects.get(code="140400")],
                            groups=[Group.objects.get(name=POLICY_OFFICER)])
    export_url = reverse("admin:policies_planyear_export_sheets", args=[active.pk])
    import_url = reverse("admin:policies_planyear_import_sheets", args=[active.pk])
    client.force_login(officer)
    page = client.get(reverse("admin:policies_planyear_change", args=[active.pk])).content.decode()
    assert export_url in page and import_url not in page  # active: export only
    assert client.get(import_url).status_code == 403
    client.force_login(outsider)
    assert client.get(export_url).status_code in (302, 404)
    assert client.get(import_url).status_code in (302, 403, 404)


@pytest.mark.usefixtures("loaded_policies")
def test_rule_table_changelist_exports_through_its_resource(client):
    roles_sync()
    officer = f.staff_user("officer", regions=[pm.Region.objects.get(code="500231")],
                           groups=[Group.objects.get(name=POLICY_OFFICER)])
    client.force_login(officer)
    url = reverse("admin:policies_planfigure_export")
    response = client.post(url, {"format": "0", "resource": "0", **{
        f"{RULE_RESOURCES[pm.PlanFigure].__name__.lower()}_{name}": "on" for name in ("plan_year", "code", "value", "note")}})
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == (PLAN_YEAR_HEADER, "指标", "数值", "备注/依据")
    assert {r[0].split("/")[0] for r in rows[1:]} == {"500231"}  # scoped to the user's region


# --------------------------------------------------------------------------- commands


@pytest.mark.usefixtures("loaded_policies")
def test_commands_and_exit_codes(tmp_path):
    draft = draft_of("140400", "resident_basic")
    book = str(tmp_path / "cz.xlsx")
    out = StringIO()
    call_command("export_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                 "--year", "2025", stdout=out)
    assert "已导出" in out.getvalue()

    out = StringIO()
    call_command("import_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                 "--year", "2025", stdout=out)
    assert "新增 0 行，更新 0 行" in out.getvalue()

    number = row_number(book, pm.ChronicBenefit, 病种="CZ01")
    edit(book, pm.ChronicBenefit, [(number, "支付比例（%）", 101)])
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                     "--year", "2025", stderr=err)
    assert exc.value.returncode == 1
    assert f"表“门诊慢特病待遇”第 {number} 行“支付比例（%）”列" in err.getvalue()

    edit(book, pm.ChronicBenefit, [(number, "支付比例（%）", 77)])
    out = StringIO()
    call_command("import_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                 "--year", "2025", "--dry-run", stdout=out)
    assert "试导入（未写入）" in out.getvalue() and "更新 1 行" in out.getvalue()
    assert draft.chronicbenefit_rows.get(disease__code="CZ01").ratio != Decimal("77")

    with pytest.raises(CommandError) as exc:  # active plan year
        call_command("import_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                     "--year", "2024", stderr=StringIO())
    assert exc.value.returncode == 1
    with pytest.raises(CommandError, match="找不到年度方案"):
        call_command("export_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                     "--year", "2030")
    f.staff_user("outsider", regions=[pm.Region.objects.get(code="500231")],
                 perms=["policies.view_planyear", "policies.change_planyear"])
    with pytest.raises(CommandError, match="无权"):
        call_command("export_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                     "--year", "2025", "--user", "outsider")
    with pytest.raises(CommandError, match="无权"):
        call_command("import_plan_year", book, "--region", "140400", "--kind", "resident_basic",
                     "--year", "2025", "--user", "outsider")


@pytest.mark.usefixtures("loaded_policies")
def test_segments_are_checked_against_the_sheets_final_rows(tmp_path):
    draft = draft_of("500231", "critical_illness")
    book = export(draft, tmp_path / "p.xlsx")
    plan = "500231/critical_illness/2025"
    second = append(book, pm.CumulativeSegment, {PLAN_YEAR_HEADER: plan, "段序号": 2, "起付标准（元）": 20000,
                                                 "报销比例（%）": 70, "计算基数": "年度累计自付 S"})
    third = append(book, pm.CumulativeSegment, {PLAN_YEAR_HEADER: plan, "段序号": 3, "起付标准（元）": 30000,
                                                "报销比例（%）": 80, "计算基数": "年度累计自付 S"})
    assert import_(draft, book).section.created == 2
    # both move up: row by row, segment 2 at 35 000 would pass segment 3's stored 30 000
    edit(book, pm.CumulativeSegment, [(second, "起付标准（元）", 35000), (third, "起付标准（元）", 40000)])
    result = import_(draft, book)
    assert result.ok, [str(e) for e in result.errors]
    assert result.section.updated == 2
    edit(book, pm.CumulativeSegment, [(third, "起付标准（元）", 36000), (second, "起付标准（元）", 37000)])
    result = import_(draft, book)
    assert {(e.row, e.column) for e in result.errors} == {(second, "起付标准（元）"), (third, "起付标准（元）")}
    assert sorted(draft.cumulativesegment_rows.filter(identity=None).values_list("threshold", flat=True)) == [
        Decimal("17833.00"), Decimal("35000.00"), Decimal("40000.00")]
