"""Spreadsheet import/export of hospitals and claims (issue 6 part 2; spec README §3, §6:
every bad row reported with row and column, nothing written when any row is bad,
re-importing changes nothing; codes.md: codes or Chinese names; docs/spreadsheets.md)."""
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import batch
from claims.batch import claims_settle_batch
from claims.models import Claim, ClaimLayer, GivenLayer, Hospital
from jobs.models import Job
from policies.models import Region
from policies.tests.factories import role_staff, staff_user
from sheets.engine import run_import
from sheets.exporting import export_rows
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv, write_xlsx

from .factories import CASES, EXAMPLES, enroll, new_person, person_for_case

pytestmark = pytest.mark.usefixtures("loaded_policies")

HOSPITAL_HEADER = ["机构编码", "机构名称", "所在统筹区/区县", "所在省份", "医院级别", "等次", "行政级别",
                   "中医医疗机构", "公立"]
CLAIM_HEADER = ["证件号码", "姓名", "就医类型", "就诊/入院日期", "出院日期", "医疗机构编码",
                "医院结算单号", "医疗总费用", "全自费（目录外）费用", "政策范围内（合规）费用", "备注"]
CLERK_PERMS = ["claims.import_claim", "claims.import_hospital", "claims.view_claim", "claims.view_hospital",
               "claims.settle_claim", "enrollment.view_person", "policies.view_full_identity"]


def kind_import(kind, path, user=None, **kw):
    return run_import(get_kind(kind), path, user=user, **kw)


def errors_of(result):
    return {(e.row, e.column): e.message for e in result.errors}


def hospital_rows():
    return [["DJ001", "垫江县人民医院", "垫江县", "", "三级", "甲等", "市级", "否", "是"],
            ["LS001", "乐山市人民医院", "511100", "", 3, "A", "city", "否", "是"],
            ["CZ001", "长治市第二人民医院", "长治市", "", "二级", "甲等", "县级", "否", "是"],
            ["BJ001", "北京协和医院", "", "北京市", "3", "甲等", "省级", "否", "是"]]


@pytest.fixture
def dj_clerk(loaded_policies):
    return staff_user("dj_claims", regions=[Region.objects.get(code="500231")], perms=CLERK_PERMS)


@pytest.fixture
def cz_clerk(loaded_policies):
    return staff_user("cz_claims", regions=[Region.objects.get(code="140400")], perms=CLERK_PERMS)


@pytest.fixture
def hospitals(tmp_path):
    result = kind_import("hospitals", write_csv(tmp_path / "h.csv", HOSPITAL_HEADER, hospital_rows()))
    assert result.ok and result.counts["created"] == 4, result.errors
    return {h.code: h for h in Hospital.objects.all()}


@pytest.fixture
def ex2_person(hospitals):
    return person_for_case(CASES["ex-2"])  # 垫江 resident, tier 2 + 大病保险, covered 2024


def claim_row(person, no, *, total="56000", out="6000", compliant="", day="2024-05-10", hospital="DJ001",
              claim_type="住院", name=None, note=""):
    discharge = "2024-05-20" if day == "2024-05-10" else ""
    return [person.document_number, name or person.name, claim_type, day, discharge, hospital, no, total,
            out, compliant, note]


# --------------------------------------------------------------------------- hospitals


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_hospitals_import_codes_or_names_and_reimport_changes_nothing(tmp_path, encoding, dj_clerk):
    path = write_csv(tmp_path / "h.csv", HOSPITAL_HEADER, hospital_rows()[:1] + hospital_rows()[3:],
                     encoding=encoding)
    result = kind_import("hospitals", path, dj_clerk)
    assert result.ok and result.written and result.counts["created"] == 2, result.errors
    dj = Hospital.objects.get(code="DJ001")
    assert (dj.name, dj.region.code, dj.level, dj.grade, dj.admin_level, dj.public) == (
        "垫江县人民医院", "500231", 3, "A", "city", True)
    bj = Hospital.objects.get(code="BJ001")
    assert (bj.region, bj.province, bj.admin_level) == (None, "北京市", "province")
    assert dj.history.get().history_user == dj_clerk
    assert kind_import("hospitals", path, dj_clerk, dry_run=True).counts["unchanged"] == 2
    again = kind_import("hospitals", path, dj_clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert Hospital.history.count() == 2
    other = write_csv(tmp_path / "o.csv", HOSPITAL_HEADER, hospital_rows()[1:2])  # 乐山: not 垫江's
    assert "不属于您负责的统筹区" in errors_of(kind_import("hospitals", other, dj_clerk))[(2, "所在统筹区/区县")]
    assert kind_import("hospitals", other).ok  # a system job: no region check
    changed = write_csv(tmp_path / "u.csv", ["机构编码", "机构名称", "医院级别", "等次"],
                        [["DJ001", "垫江县人民医院", "二级", "乙等"]])
    result = kind_import("hospitals", changed, dj_clerk)
    assert result.counts == {"created": 0, "updated": 1, "unchanged": 0}
    dj.refresh_from_db()
    assert (dj.level, dj.grade, dj.region.code, dj.admin_level) == (2, "B", "500231", "city")


def test_hospitals_every_bad_row_reported_and_nothing_written(tmp_path, dj_clerk):
    rows = [["DJ001", "垫江县人民医院", "垫江县", "", "三级", "甲等", "市级", "否", "是"],
            ["DJ002", "某医院", "垫江县", "", "四级", "甲等", "市级", "否", "是"],
            ["DJ003", "无地址医院", "", "", "一级", "", "", "", ""],
            ["CZ001", "长治市第二人民医院", "长治市", "", "二级", "甲等", "县级", "否", "是"],
            ["DJ001", "重复", "垫江县", "", "三级", "甲等", "市级", "否", "是"],
            ["DJ004", "某医院", "火星", "", "一级", "丙等", "县级", "也许", "是"]]
    result = kind_import("hospitals", write_csv(tmp_path / "h.csv", HOSPITAL_HEADER, rows), dj_clerk)
    assert not result.written
    errors = errors_of(result)
    assert set(errors) == {(3, "医院级别"), (4, "所在统筹区/区县"), (5, "所在统筹区/区县"), (6, "机构编码"),
                           (7, "所在统筹区/区县"), (7, "等次"), (7, "中医医疗机构")}
    assert "未知的医院级别“四级”" in errors[(3, "医院级别")]
    assert "所在省份" in errors[(4, "所在统筹区/区县")]
    assert "不属于您负责的统筹区" in errors[(5, "所在统筹区/区县")]
    assert errors[(6, "机构编码")] == "机构编码与第 2 行重复"
    assert not Hospital.objects.exists()


def test_hospital_of_another_region_cannot_be_changed(tmp_path, hospitals, dj_clerk, cz_clerk):
    row = [["CZ001", "长治市第二人民医院（新）", "长治市", "", "二级", "甲等", "县级", "否", "是"]]
    path = write_csv(tmp_path / "h.csv", HOSPITAL_HEADER, row)
    result = kind_import("hospitals", path, dj_clerk)
    assert errors_of(result)[(2, "机构编码")].endswith("不在您负责的统筹区，不能修改")
    assert kind_import("hospitals", path, cz_clerk).counts["updated"] == 1
    assert Hospital.objects.get(code="CZ001").name == "长治市第二人民医院（新）"


# --------------------------------------------------------------------------- claims


def test_claims_xlsx_import_derives_and_reimport_changes_nothing(tmp_path, ex2_person, dj_clerk):
    path = write_xlsx(tmp_path / "c.xlsx", CLAIM_HEADER, [claim_row(ex2_person, "ZY-001")])
    result = kind_import("claims", path, dj_clerk)
    assert result.ok and result.written and result.counts["created"] == 1, result.errors
    claim = Claim.objects.get()
    assert (claim.status, claim.year, claim.region.code, claim.location, claim.hospital.code) == (
        "draft", 2024, "500231", "in_region", "DJ001")
    assert (claim.total, claim.out_of_catalog, claim.class_b_copay, claim.compliant) == (
        Decimal("56000.00"), Decimal("6000.00"), Decimal("0.00"), Decimal("50000.00"))
    assert claim.created_by == dj_clerk and claim.history.get().history_change_reason == "表格导入"
    assert claim.accepted_on is not None
    again = kind_import("claims", path, dj_clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 1}
    assert Claim.objects.count() == 1 and Claim.history.count() == 1
    # a different row with the same (hospital, settlement number) is an error
    other = write_xlsx(tmp_path / "d.xlsx", CLAIM_HEADER, [claim_row(ex2_person, "ZY-001", total="57000")])
    result = kind_import("claims", other, dj_clerk)
    message = errors_of(result)[(2, "医院结算单号")]
    assert "已登记结算单号“ZY-001”" in message and "医疗总费用" in message and "不能重复登记" in message
    assert Claim.objects.get().total == Decimal("56000.00")


def test_claims_every_error_class_reported_with_row_and_column(tmp_path, ex2_person, dj_clerk):
    stranger = new_person("140400")
    enroll(stranger, "140400", "resident_basic")
    kind_import("claims", write_csv(tmp_path / "first.csv", CLAIM_HEADER, [claim_row(ex2_person, "OLD-1")]))
    p = ex2_person
    rows = [
        claim_row(p, "A-1"),  # 2 good
        ["110101199003070000", "某人", "住院", "2024-05-10", "", "DJ001", "A-2", "100", "0", "", ""],  # 3
        claim_row(p, "A-3", hospital="XX999"),  # 4 unknown hospital
        claim_row(p, "A-4", claim_type="住院手术"),  # 5 unknown claim type
        claim_row(p, "A-5", out="-10"),  # 6 negative amount
        claim_row(p, "A-6", compliant="49000"),  # 7 compliant does not add up
        claim_row(p, "A-7", out="60000"),  # 8 out of catalogue above the total
        claim_row(p, "A-8", day="2025-02-01"),  # 9 no coverage in 2025
        claim_row(p, "A-1"),  # 10 duplicate in the file
        claim_row(p, "OLD-1", total="1000", out="0"),  # 11 recorded with other amounts
        claim_row(stranger, "A-9", hospital="CZ001", day="2024-06-01", out="0", total="500"),  # 12 scope
        claim_row(p, "A-10", name="张三"),  # 13 name
        claim_row(p, "A-11", day="2024-13-01"),  # 14 bad date
    ]
    result = kind_import("claims", write_csv(tmp_path / "c.csv", CLAIM_HEADER, rows, encoding="gb18030"),
                         dj_clerk)
    assert not result.written
    errors = errors_of(result)
    assert set(errors) == {(3, "证件号码"), (4, "医疗机构编码"), (5, "就医类型"), (6, "全自费（目录外）费用"),
                           (7, "政策范围内（合规）费用"), (8, "全自费（目录外）费用"), (9, "证件号码"),
                           (10, "医院结算单号"), (11, "医院结算单号"), (12, "证件号码"), (13, "姓名"),
                           (14, "就诊/入院日期")}
    assert "证件号码" in errors[(3, "证件号码")] or "参保人" in errors[(3, "证件号码")]
    assert "未登记的医疗机构编码" in errors[(4, "医疗机构编码")]
    assert "未知的就医类型“住院手术”" in errors[(5, "就医类型")]
    assert "不能为负数" in errors[(6, "全自费（目录外）费用")]
    assert "不等于 医疗总费用 − 全自费 − 乙类先行自付 = 50000.00" in errors[(7, "政策范围内（合规）费用")]
    assert "超过医疗总费用" in errors[(8, "全自费（目录外）费用")]
    assert "没有 2025 年度的参保登记" in errors[(9, "证件号码")]
    assert errors[(10, "医院结算单号")] == "医院结算单号与第 2 行重复（同一医疗机构内不能重复）"
    assert "已登记结算单号“OLD-1”" in errors[(11, "医院结算单号")]
    assert "不属于您负责的统筹区" in errors[(12, "证件号码")]
    assert Claim.objects.count() == 1  # only OLD-1 from the first file


def test_claim_dated_outside_coverage_is_reported_on_the_date(tmp_path, hospitals):
    person = new_person("511100", birth=date(1975, 2, 10), category="employee_active")
    enroll(person, "511100", "employee_basic", start=date(2024, 3, 1))  # core system: from March
    header = [*CLAIM_HEADER, "带入·职工基本医保支付"]
    rows = [claim_row(person, "LS-1", day="2024-02-10", hospital="LS001", total="5000", out="0") + ["3000"]]
    result = kind_import("claims", write_csv(tmp_path / "c.csv", header, rows))
    message = errors_of(result)[(2, "就诊/入院日期")]
    assert "不在参保人任何险种的待遇享受期内" in message and not Claim.objects.exists()


def test_given_layers_parts_and_disease_codes(tmp_path, hospitals):
    person = new_person("511100", birth=date(1975, 2, 10), category="employee_active")
    enroll(person, "511100", "employee_basic")
    header = [*CLAIM_HEADER, "病种", "带入·职工基本医保支付", "带入·职工基本医保起付线", "带入·居民基本医保超封顶线"]
    rows = [claim_row(person, "LS-1", hospital="LS001", total="50000", out="0") + ["", "38000", "1000", ""],
            claim_row(person, "LS-2", hospital="LS001", total="500", out="0") + ["", "", "", "20"],
            claim_row(person, "LS-3", hospital="LS001", total="500", out="0", claim_type="门诊慢特病")
            + ["不存在的病", "", "", ""],
            claim_row(person, "LS-4", hospital="LS001", total="500", out="0", claim_type="门诊慢特病")
            + ["", "", "", ""]]
    result = kind_import("claims", write_csv(tmp_path / "c.csv", header, rows))
    errors = errors_of(result)
    assert set(errors) == {(3, "带入·居民基本医保超封顶线"), (4, "病种"), (5, "病种")}
    assert "请同时填写带入·居民基本医保支付" in errors[(3, "带入·居民基本医保超封顶线")]
    assert "病种目录中没有“不存在的病”" in errors[(4, "病种")]
    assert "须选择病种" in errors[(5, "病种")]
    ok = kind_import("claims", write_csv(tmp_path / "ok.csv", header, rows[:1]))
    assert ok.ok, ok.errors
    layer = GivenLayer.objects.get()
    assert (layer.scheme_kind, layer.paid, layer.deductible, layer.over_cap) == (
        "employee_basic", Decimal("38000.00"), Decimal("1000.00"), Decimal("0.00"))


def test_all_or_nothing_across_chunks(tmp_path, ex2_person, monkeypatch):
    from claims.sheet_kinds.claims import ClaimSheet

    monkeypatch.setattr(ClaimSheet, "chunk_size", 2)
    rows = [claim_row(ex2_person, f"B-{i}") for i in range(5)] + [claim_row(ex2_person, "B-0")]
    result = kind_import("claims", write_csv(tmp_path / "c.csv", CLAIM_HEADER, rows))
    assert errors_of(result) == {(7, "医院结算单号"): "医院结算单号与第 2 行重复（同一医疗机构内不能重复）"}
    assert not Claim.objects.exists() and not Claim.history.exists()
    result = kind_import("claims", write_csv(tmp_path / "c.csv", CLAIM_HEADER, rows[:5]))
    assert result.ok and Claim.objects.count() == 5


@pytest.mark.parametrize("case_id", ["ex-2", "ex-5"])
def test_import_then_settle_gives_the_worked_example(tmp_path, hospitals, case_id):
    """The spec's worked examples entered through the sheet, then batch-settled: the stored
    lines equal the examples' expected amounts (ex-5 carries 乐山 职工基本医保 as given)."""
    case = CASES[case_id]
    person = person_for_case(case)
    data = case["claim"]
    header = ["证件号码", "就医类型", "就诊/入院日期", "医疗机构编码", "医院结算单号", "医疗总费用",
              "全自费（目录外）费用"]
    row = [person.document_number, data["type"], data["date"], "DJ001" if case["region"] == "500231" else "LS001",
           "EX-1", data["total"], data.get("out_of_catalog", "")]
    for kind, given in data.get("given", {}).items():
        from claims.sheet_kinds.columns import given_header

        for part in ("paid", "deductible", "over_cap"):
            header.append(given_header(kind, part))
            row.append(given[part])
    result = kind_import("claims", write_xlsx(tmp_path / "c.xlsx", header, [row]))
    assert result.ok, result.errors
    report = claims_settle_batch(claims=Claim.objects.all(), acting_user=None)
    assert report.settled == 1 and not report.failed
    claim = Claim.objects.get()
    lines = dict(ClaimLayer.objects.filter(claim=claim, is_current=True).values_list("scheme_kind", "paid"))
    expect = EXAMPLES["expect"][case_id]
    for scheme, paid in expect["layers"].items():
        assert lines[scheme] == Decimal(paid), (scheme, lines)
    if "personal" in expect:
        assert claim.personal == Decimal(expect["personal"])


def test_import_sheet_command_exit_codes_and_settle(tmp_path, ex2_person, capsys):
    good = write_csv(tmp_path / "c.csv", CLAIM_HEADER, [claim_row(ex2_person, "C-1")])
    call_command("import_sheet", "claims", str(good), "--dry-run")
    assert not Claim.objects.exists()
    call_command("import_sheet", "claims", str(good), "--settle")
    out = capsys.readouterr().out
    assert "新增 1" in out and "结算 1 条" in out
    claim = Claim.objects.get()
    assert claim.status == "settled" and claim.fund_total == Decimal("27060.00") + Decimal("3064.20")
    call_command("import_sheet", "claims", str(good))  # re-import: unchanged, exit 0
    assert "无变化 1" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", CLAIM_HEADER, [claim_row(ex2_person, "C-2", hospital="NOPE")])
    with pytest.raises(CommandError, match="1 行有错误"):
        call_command("import_sheet", "claims", str(bad))
    assert "未登记的医疗机构编码" in capsys.readouterr().err
    with pytest.raises(CommandError, match="不支持 --settle"):
        call_command("import_sheet", "hospitals", str(good), "--settle")
    hospitals_bad = write_csv(tmp_path / "h.csv", HOSPITAL_HEADER, [["X1", "某", "", "", "一级", "", "", "", ""]])
    with pytest.raises(CommandError):
        call_command("import_sheet", "hospitals", str(hospitals_bad))
    staff_user("nobody", regions=[Region.objects.get(code="500231")], perms=["claims.view_claim"])
    with pytest.raises(CommandError, match="没有导入理赔结算单的权限"):
        call_command("import_sheet", "claims", str(good), "--user", "nobody")


# --------------------------------------------------------------------------- exports


@pytest.fixture
def exported(tmp_path, ex2_person, dj_clerk):
    cz = new_person("140400")
    enroll(cz, "140400", "resident_basic")
    rows = [claim_row(ex2_person, "E-1", note="=1+2"),
            claim_row(ex2_person, "E-2", total="1000", out="0", compliant="1000")]
    header = [*CLAIM_HEADER, "带入·大病保险支付"]
    rows = [rows[0] + [""], rows[1] + ["0"]]
    assert kind_import("claims", write_csv(tmp_path / "c.csv", header, rows)).ok
    cz_row = claim_row(cz, "E-3", hospital="CZ001", day="2024-06-01", total="500", out="0") + [""]
    result = kind_import("claims", write_csv(tmp_path / "cz.csv", header, [cz_row]))
    assert result.ok, result.errors
    return ex2_person


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_round_trips_as_unchanged(tmp_path, exported, suffix, capsys):
    for kind, count in (("hospitals", 4), ("claims", 3)):
        out = tmp_path / f"{kind}{suffix}"
        call_command("export_sheet", kind, str(out))
        capsys.readouterr()
        call_command("import_sheet", kind, str(out))
        assert f"新增 0，更新 0，无变化 {count}" in capsys.readouterr().out


def test_export_is_scoped_masked_and_formula_escaped(exported, dj_clerk, cz_clerk):
    headers, rows = export_rows(get_kind("claims"), user=dj_clerk)
    rows = [dict(zip(headers, r, strict=True)) for r in rows]
    assert [r["医院结算单号"] for r in rows] == ["E-1", "E-2"]  # 长治's claim not exported
    first = rows[0]
    assert first["证件号码"] == exported.document_number and first["备注"] == "'=1+2"
    assert (first["就医类型"], first["参保统筹区"], first["就医地"], first["状态"], first["医疗机构名称"]) == (
        "住院", "垫江县", "统筹区内", "录入", "垫江县人民医院")
    assert first["带入·大病保险支付"] == "" and rows[1]["带入·大病保险支付"] == Decimal("0.00")
    viewer = staff_user("dj_view", regions=[Region.objects.get(code="500231")], perms=["claims.view_claim"])
    _h, masked = export_rows(get_kind("claims"), user=viewer)
    number = list(masked)[0][1]
    assert "*" in number and number != exported.document_number
    _h, cz_rows = export_rows(get_kind("claims"), user=cz_clerk)
    assert [r[9] for r in cz_rows] == ["E-3"]
    headers, hospitals = export_rows(get_kind("hospitals"), user=dj_clerk)
    assert [r[0] for r in hospitals] == ["BJ001", "DJ001"]  # own region + outside every region


def test_clerk_role_may_import_hospitals_and_claims(loaded_policies):
    user = role_staff("clerk_sheets", "经办员")
    assert user.has_perm("claims.import_claim") and user.has_perm("claims.import_hospital")
    reviewer = role_staff("reviewer_sheets", "审核员")
    assert not reviewer.has_perm("claims.import_claim")


def test_admin_changelists_offer_import_and_template(client, loaded_policies):
    user = role_staff("clerk_admin", "经办员")
    client.force_login(user)
    for model in ("claim", "hospital"):
        page = client.get(f"/admin/claims/{model}/")
        assert page.status_code == 200 and "下载导入模板" in page.content.decode()
        template = client.get(f"/admin/claims/{model}/import-sheet/template.xlsx")
        assert template.status_code == 200


def test_import_sheet_settles_the_imported_claims_in_its_own_process(tmp_path, ex2_person, monkeypatch):
    """``--settle`` settles the imported claims (and only those) with the in-process
    batch — with or without ``--single-process`` — and starts no job (the job's chunks
    run the same ``settle_chunk``: tests/test_settle_workers.py)."""
    seen = []
    settle = batch.claims_settle_batch

    def spy(**kwargs):
        seen.append(sorted(kwargs["claims"].values_list("settlement_no", flat=True)))
        return settle(**kwargs)

    monkeypatch.setattr(batch, "claims_settle_batch", spy)
    rows = [claim_row(ex2_person, "W-1")]
    call_command("import_sheet", "claims", str(write_csv(tmp_path / "a.csv", CLAIM_HEADER, rows)), "--settle")
    rows = [claim_row(ex2_person, "W-2")]
    call_command("import_sheet", "claims", str(write_csv(tmp_path / "b.csv", CLAIM_HEADER, rows)), "--settle",
                 "--single-process")
    assert seen == [["W-1"], ["W-2"]]
    assert not Job.objects.exists()
    assert set(Claim.objects.values_list("status", flat=True)) == {"settled"}


def test_import_sheet_background_runs_the_import_as_a_job(tmp_path, ex2_person):
    """``--background``: the file is stored and imported by the job ``sheet_import`` (run at
    once by the test settings); the command prints the job's number. ``--settle`` and
    ``--errors`` need the import's result in the command, so they are refused with it."""
    path = write_csv(tmp_path / "五月.csv", CLAIM_HEADER, [claim_row(ex2_person, "BG-1")])
    out = io.StringIO()
    call_command("import_sheet", "claims", str(path), "--background", stdout=out)
    job = Job.objects.get(kind="sheet_import")
    assert f"后台任务 {job.pk}" in out.getvalue()
    assert (job.status, job.input_name, job.counts["created"]) == (Job.Status.SUCCEEDED, "五月.csv", 1)
    assert Claim.objects.get(settlement_no="BG-1").status == Claim.Status.DRAFT
    call_command("import_sheet", "claims", str(path), "--background", "--dry-run", stdout=io.StringIO())
    assert Job.objects.get(kind="sheet_check").status == Job.Status.SUCCEEDED
    for extra in (["--settle"], ["--errors", str(tmp_path / "e.csv")]):
        with pytest.raises(CommandError, match="--background"):
            call_command("import_sheet", "claims", str(path), "--background", *extra, stdout=io.StringIO())
    assert Job.objects.count() == 2


# --------------------------------------------------------------------------- hostile cells (issue 15)


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("total,out", [("1e30", "0"), ("1" * 29, "0"), ("56000", "-1e30"),
                                       ("999999999999.999", "0")])
def test_huge_amounts_in_the_claims_sheet(tmp_path, ex2_person, total, out, dry_run):
    path = write_csv(tmp_path / "c.csv", CLAIM_HEADER, [claim_row(ex2_person, "ZY-1", total=total, out=out)])
    errors = errors_of(kind_import("claims", path, dry_run=dry_run))
    column = "医疗总费用" if out == "0" else "全自费（目录外）费用"
    assert (2, column) in errors, errors
    assert "金额" in errors[(2, column)]
    assert not Claim.objects.exists()


def test_huge_amounts_in_xlsx_number_cells_of_the_claims_sheet(tmp_path, ex2_person):
    row = claim_row(ex2_person, "ZY-1", total=1e30, out=0)
    errors = errors_of(kind_import("claims", write_xlsx(tmp_path / "c.xlsx", CLAIM_HEADER, [row])))
    assert "超出金额上限" in errors[(2, "医疗总费用")]


def test_claims_import_reads_the_database_per_chunk_not_per_row(tmp_path, hospitals, dj_clerk):
    """issue 17: the enrollments behind each row's region and coverage checks are read for
    the whole chunk (``fetch.enrollments_of_years``), not per row — the sheet took
    ≈ 27 ms a row. The queries of 2 and of 6 rows are the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    persons = [person_for_case(CASES["ex-2"]) for _ in range(9)]
    counts = []
    for size, start in ((1, 0), (2, 1), (6, 3)):  # the first warms the per-user caches
        path = write_csv(tmp_path / f"c{size}.csv", CLAIM_HEADER,
                         [claim_row(p, f"Q-{start + i}") for i, p in enumerate(persons[start:start + size])])
        with CaptureQueriesContext(connection) as queries:
            result = kind_import("claims", path, dj_clerk)
        assert result.ok and result.counts["created"] == size, result.errors
        counts.append(len(queries))
    assert counts[1] == counts[2], counts
    assert Claim.objects.count() == 9 and Claim.history.count() == 9


def test_a_field_check_refusal_gives_the_message_of_full_clean(tmp_path, ex2_person, dj_clerk):
    """issue 17 §3: a row is checked as values (``ClaimDraft``); a value the fields' quick
    check cannot pass goes through the fields' own ``clean`` (``fieldcheck.field_errors``)
    and is reported with Django's message, as ``Claim.full_clean`` reported it."""
    from django.core.exceptions import ValidationError

    long_no = "Z" * 61
    rows = [claim_row(ex2_person, "OK-1"), claim_row(ex2_person, long_no)]
    result = kind_import("claims", write_csv(tmp_path / "c.csv", CLAIM_HEADER, rows), dj_clerk)
    with pytest.raises(ValidationError) as expected:
        Claim._meta.get_field("settlement_no").clean(long_no, None)
    assert errors_of(result) == {(3, "医院结算单号"): expected.value.messages[0]}
    assert not result.written and not Claim.objects.exists()


def test_new_claims_are_stored_as_draft_and_take_the_quick_field_checks(tmp_path, ex2_person, dj_clerk):
    from claims.sheet_kinds import claims as sheet

    assert sheet._CONSTANTS_PASS  # the columns a row does not set pass the fields' checks once
    result = kind_import("claims", write_csv(tmp_path / "c.csv", CLAIM_HEADER,
                                             [claim_row(ex2_person, "D-1")]), dj_clerk)
    assert result.ok, result.errors
    assert Claim.objects.values_list("status", flat=True).get() == "draft"
