"""Hospital ``cdrg`` (按C-DRG收付费) and the 乡镇级 administrative level: on the admin, the
hospitals sheet (import/export) and the settlement of stored claims — 三明 责任一 at a
non-C-DRG hospital, 三明 责任四 outside 三明, 聊惠保 责任三 at a township institution, and a
三明 新市民's claim (spec sanming.md, liaocheng.md, codes.md)."""
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from claims import services
from claims.models import Hospital
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

from .factories import enroll, hospital, new_person

pytestmark = pytest.mark.usefixtures("loaded_policies")

HEADER = ["机构编码", "机构名称", "所在统筹区/区县", "医院级别", "行政级别", "按C-DRG收付费"]


def test_hospitals_sheet_imports_and_exports_cdrg_and_township(tmp_path):
    rows = [["SM001", "三明市第一医院", "三明市", "三级", "市级", ""],
            ["SM002", "三明市某民营医院", "三明市", "二级", "县级", "否"],
            ["LC101", "道口铺街道社区卫生服务中心", "聊城市", "一级", "社区卫生服务中心", "否"]]
    result = run_import(get_kind("hospitals"), write_csv(tmp_path / "h.csv", HEADER, rows), user=None)
    assert result.ok and result.counts["created"] == 3, result.errors
    got = {h.code: (h.cdrg, h.admin_level) for h in Hospital.objects.all()}
    assert got == {"SM001": (True, "city"), "SM002": (False, "county"), "LC101": (False, "township")}
    exported = get_kind("hospitals").resource_class().export(Hospital.objects.filter(code="LC101"))
    row = dict(zip(exported.headers, exported[0], strict=True))
    assert (row["按C-DRG收付费"], row["行政级别"]) == ("否", "乡镇级")


def test_hospital_admin_edits_cdrg(client):
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "Root#12345x"))
    h = hospital("350400")
    url = reverse("admin:claims_hospital_change", args=[h.pk])
    page = client.get(url).content.decode()
    assert "按C-DRG收付费" in page and "乡镇级" in page
    data = {"code": h.code, "name": h.name, "region": h.region_id, "province": "", "level": 3,
            "grade": "A", "admin_level": "township", "public": "on", "designated": "on", "note": ""}
    response = client.post(url, data)  # cdrg unticked
    assert response.status_code == 302, response.content.decode()[:3000]
    h.refresh_from_db()
    assert (h.cdrg, h.admin_level) == (False, "township")


def settle(person, claim_type, hosp, given, **fields):
    claim = services.claim_create(
        acting_user=None, person=person, claim_type=claim_type, service_date=date(2024, 7, 1),
        settlement_no=f"S-{person.pk}-{hosp.code}-{claim_type}", hospital=hosp,
        given=[{"scheme_kind": k, "paid": Decimal(v)} for k, v in given.items()], **fields)
    claim = services.claim_settle(claim=claim, acting_user=None)
    layer = claim.current_layers().get(scheme_kind="inclusive_commercial")
    return layer, {i["code"]: i for i in layer.items}


def sanming_insured(**fields):
    person = new_person("350400", **fields)
    for kind in ("resident_basic", "critical_illness", "inclusive_commercial"):
        enroll(person, "350400", kind)
    return person


BASIC = {"resident_basic": "30000", "critical_illness": "5000"}


@pytest.mark.parametrize("cdrg, paid", [(True, "20000.00"), (False, "0.00")])
def test_sanming_r1_at_a_non_cdrg_hospital_pays_nothing(cdrg, paid):
    layer, items = settle(sanming_insured(), "inpatient", hospital("350400", cdrg=cdrg), BASIC,
                          total=Decimal("60000"), out_of_catalog=Decimal("10000"),
                          discharge_date=date(2024, 7, 10))
    assert Decimal(items["R1"]["paid"]) == Decimal(paid)
    if not cdrg:
        assert items["R1"]["reason"] == layer.reason == "hospital_not_designated"
