"""Spreadsheet kinds registrations, identities and relations (issue 6 part 2; spec README
§2, §6: every bad row reported with row and column, all-or-nothing, re-import changes
nothing; codes.md: codes or Chinese names; docs/spreadsheets.md)."""
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from enrollment import services
from enrollment.documents import make_id_number
from enrollment.models import FamilyRelation, PersonIdentity, Registration
from policies.models import Identity, Region
from policies.tests.factories import staff_user
from sheets.engine import run_import
from sheets.exporting import export_rows
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv, write_xlsx

pytestmark = pytest.mark.usefixtures("loaded_policies")

PERMS = ["enrollment.add_registration", "enrollment.add_personidentity", "enrollment.add_familyrelation",
         "enrollment.view_person", "policies.view_full_identity"]
REG_HEADER = ["证件号码", "姓名", "统筹区", "险种", "病种", "申请日期", "受理机构", "糖化血红蛋白（%）"]
ID_HEADER = ["证件号码", "姓名", "特殊身份", "认定起始日", "认定终止日", "认定部门"]
REL_HEADER = ["参保人证件号码", "参保人姓名", "亲属是参保人的", "亲属证件号码", "亲属姓名"]


def imp(kind, path, user=None, **kw):
    return run_import(get_kind(kind), path, user=user, **kw)


def errors_of(result):
    return {(e.row, e.column): e.message for e in result.errors}


def make(seq, area="140402", birth=date(1960, 5, 1), name=None):
    region = Region.objects.get(code=area[:4] + "00" if area.startswith("14") else area)
    return services.person_create(acting_user=None, document_number=make_id_number(area, birth, seq),
                                  name=name or f"导入{seq}", category="resident", hukou_region=region,
                                  residence_region=region)


@pytest.fixture
def people():
    return {"a": make(1), "b": make(3), "c": make(5, birth=date(1990, 1, 2)), "dj": make(7, area="500231")}


@pytest.fixture
def cz_clerk(loaded_policies):
    return staff_user("cz_more", regions=[Region.objects.get(code="140400")], perms=PERMS)


# --------------------------------------------------------------------------- registrations


def test_registrations_import_submitted_and_reimport_unchanged(tmp_path, people, cz_clerk):
    a, b = people["a"], people["b"]
    rows = [[a.document_number, a.name, "长治市", "城乡居民基本医疗保险", "CZ18", "2024-03-01", "某卫生院", ""],
            [b.document_number, b.name, "140400", "resident_basic", "其他类型糖尿病", "2024/3/2", "", "7.5"]]
    path = write_csv(tmp_path / "r.csv", REG_HEADER, rows, encoding="gb18030")
    result = imp("registrations", path, cz_clerk)
    assert result.ok and result.counts["created"] == 2, result.errors
    reg = Registration.objects.get(person=b)
    assert (reg.status, reg.disease.code, str(reg.hba1c), reg.created_by) == ("submitted", "DM2", "7.50", cz_clerk)
    assert reg.transitions.count() == 1
    again = imp("registrations", path, cz_clerk)
    assert again.ok and again.counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert Registration.objects.count() == 2


def test_registrations_errors_reported_and_nothing_written(tmp_path, people, cz_clerk):
    a, b, dj = people["a"], people["b"], people["dj"]
    services_row = [a.document_number, a.name, "长治市", "城乡居民基本医疗保险", "CZ18", "2024-03-01", "", ""]
    rows = [services_row,
            [a.document_number, a.name, "长治市", "城乡居民基本医疗保险", "CZ18", "2024-04-01", "", ""],  # dup
            [b.document_number, b.name, "长治市", "城乡居民基本医疗保险", "不存在", "2024-03-01", "", ""],
            ["140402196005019999", "某", "长治市", "城乡居民基本医疗保险", "CZ18", "2024-03-01", "", ""],
            [b.document_number, b.name, "长治市", "普惠", "CZ18", "2024-03-01", "", ""],
            [dj.document_number, dj.name, "垫江县", "城乡居民基本医疗保险", "CZ18", "2024-03-01", "", ""],
            [b.document_number, b.name, "长治市", "城乡居民基本医疗保险", "DM2", "2024-03-01", "", "120"]]
    result = imp("registrations", write_xlsx(tmp_path / "r.xlsx", REG_HEADER, rows), cz_clerk)
    errors = errors_of(result)
    assert set(errors) == {(3, "病种"), (4, "病种"), (5, "证件号码"), (6, "险种"), (7, "证件号码"),
                           (8, "糖化血红蛋白（%）")}
    assert "与第 2 行重复" in errors[(3, "病种")]
    assert "病种目录中没有“不存在”" in errors[(4, "病种")]
    assert "不属于您负责的统筹区" in errors[(7, "证件号码")]
    assert not Registration.objects.exists()


# --------------------------------------------------------------------------- identities


def test_identities_import_overlaps_and_reimport(tmp_path, people, cz_clerk):
    identity = Identity.objects.order_by("id").first()
    a, b = people["a"], people["b"]
    rows = [[a.document_number, a.name, identity.name, "2024-01-01", "2024-06-30", ""],
            [b.document_number, b.name, identity.code, "2024-01-01", "", "民政"]]
    path = write_csv(tmp_path / "i.csv", ID_HEADER, rows)
    result = imp("identities", path, cz_clerk)
    assert result.ok and result.counts["created"] == 2, result.errors
    held = PersonIdentity.objects.get(person=a)
    assert (held.valid_to, held.department) == (date(2024, 6, 30), identity.department)
    assert imp("identities", path, cz_clerk).counts == {"created": 0, "updated": 0, "unchanged": 2}
    bad = [[a.document_number, a.name, identity.name, "2024-01-01", "2024-12-31", ""],  # same key, other end
           [a.document_number, a.name, identity.name, "2024-06-01", "", ""],  # overlaps the recorded one
           [b.document_number, b.name, "外星人", "2024-01-01", "", ""],
           [a.document_number, a.name, identity.name, "2024-08-01", "2024-07-01", ""],
           [a.document_number, a.name, identity.name, "2024-09-01", "", ""],
           [a.document_number, a.name, identity.name, "2024-10-01", "", ""]]  # overlaps row 6
    result = imp("identities", write_csv(tmp_path / "b.csv", ID_HEADER, bad), cz_clerk)
    errors = errors_of(result)
    assert set(errors) == {(2, "认定起始日"), (3, "认定起始日"), (4, "特殊身份"), (5, "认定终止日"), (7, "认定起始日")}
    assert "重叠" in errors[(3, "认定起始日")] and errors[(7, "认定起始日")].endswith("与第 6 行重叠")
    assert PersonIdentity.objects.count() == 2


# --------------------------------------------------------------------------- relations


def test_relations_import_contradictions_and_reimport(tmp_path, people, cz_clerk):
    a, b, c = people["a"], people["b"], people["c"]
    rows = [[a.document_number, a.name, "配偶", b.document_number, b.name],
            [a.document_number, a.name, "子女", c.document_number, c.name]]
    path = write_csv(tmp_path / "f.csv", REL_HEADER, rows)
    result = imp("relations", path, cz_clerk)
    assert result.ok and result.counts["created"] == 2, result.errors
    assert FamilyRelation.objects.get(person=a, relative=c).relation == "child"
    assert imp("relations", path, cz_clerk).counts["unchanged"] == 2
    bad = [[a.document_number, a.name, "父母", b.document_number, b.name],  # recorded as spouse
           [c.document_number, c.name, "配偶", a.document_number, a.name],  # contradicts a → c child
           [b.document_number, b.name, "兄弟姐妹", b.document_number, b.name],  # self
           [b.document_number, b.name, "子女", c.document_number, c.name],
           [c.document_number, c.name, "子女", b.document_number, b.name],  # contradicts row 5
           [b.document_number, b.name, "同事", c.document_number, c.name],
           [people["dj"].document_number, "", "配偶", c.document_number, c.name]]
    result = imp("relations", write_csv(tmp_path / "b.csv", REL_HEADER, bad), cz_clerk)
    errors = errors_of(result)
    assert set(errors) == {(2, "亲属是参保人的"), (3, "亲属是参保人的"), (4, "亲属证件号码"),
                           (6, "亲属是参保人的"), (7, "亲属是参保人的"), (8, "参保人证件号码")}
    assert errors[(6, "亲属是参保人的")] == "与第 5 行登记的关系矛盾"
    assert FamilyRelation.objects.count() == 2


# --------------------------------------------------------------------------- exports, command


@pytest.mark.parametrize("kind", ["registrations", "identities", "relations"])
def test_exports_round_trip_scoped_and_masked(tmp_path, people, cz_clerk, kind, capsys):
    a, b = people["a"], people["b"]
    identity = Identity.objects.order_by("id").first()
    files = {
        "registrations": (REG_HEADER, [[a.document_number, "", "长治市", "城乡居民基本医疗保险", "CZ18",
                                         "2024-03-01", "=cmd", ""]]),
        "identities": (ID_HEADER, [[a.document_number, "", identity.name, "2024-01-01", "", ""]]),
        "relations": (REL_HEADER, [[a.document_number, "", "配偶", b.document_number, ""]]),
    }
    header, rows = files[kind]
    call_command("import_sheet", kind, str(write_csv(tmp_path / "in.csv", header, rows)), "--user", "cz_more")
    out = tmp_path / "out.xlsx"
    call_command("export_sheet", kind, str(out), "--user", "cz_more")
    capsys.readouterr()
    call_command("import_sheet", kind, str(out), "--user", "cz_more")
    assert "新增 0，更新 0，无变化 1" in capsys.readouterr().out
    headers, exported = export_rows(get_kind(kind), user=cz_clerk)
    exported = list(exported)
    assert len(exported) == 1
    if kind == "registrations":
        assert exported[0][headers.index("受理机构")] == "'=cmd"
    viewer = staff_user("cz_viewer", regions=[Region.objects.get(code="140400")], perms=["enrollment.view_person"])
    _h, masked = export_rows(get_kind(kind), user=viewer)
    assert "*" in str(list(masked)[0][1 if kind == "registrations" else 0])
    outsider = staff_user("dj_more", regions=[Region.objects.get(code="500231")], perms=PERMS)
    assert list(export_rows(get_kind(kind), user=outsider)[1]) == []


def test_import_command_exit_codes(tmp_path, people):
    a = people["a"]
    bad = write_csv(tmp_path / "r.csv", REG_HEADER,
                    [[a.document_number, a.name, "长治市", "城乡居民基本医疗保险", "XX", "2024-03-01", "", ""]])
    with pytest.raises(CommandError, match="1 行有错误"):
        call_command("import_sheet", "registrations", str(bad))
    good = write_csv(tmp_path / "f.csv", REL_HEADER, [[a.document_number, "", "配偶", people["b"].document_number, ""]])
    call_command("import_sheet", "relations", str(good))
    assert FamilyRelation.objects.count() == 1
    staff_user("nobody_more", regions=[Region.objects.get(code="140400")], perms=["enrollment.view_person"])
    with pytest.raises(CommandError, match="没有导入家庭关系的权限"):
        call_command("import_sheet", "relations", str(good), "--user", "nobody_more")
