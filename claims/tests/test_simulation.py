"""Policy simulation (claims.simulation, command simulate_policy): a draft plan year's
changed ratio re-settles the base year's claims without writing anything; figures
checked by hand."""
import io
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from claims import services
from claims.models import ClaimLayer
from claims.simulation import simulate_plan_year
from policies.models import BenefitRule
from policies.services import plan_year_rollover

from .factories import dianjiang_person, hospital, outpatient

pytestmark = pytest.mark.django_db
D = Decimal


def inpatient(person, total, *, level=1, day=date(2024, 4, 2), no):
    return services.claim_create(
        acting_user=None, person=person, claim_type="inpatient", service_date=day,
        settlement_no=no, total=D(total),
        hospital=hospital("500231", level=level, grade="A", admin_level="county"))


@pytest.fixture
def draft_2025(loaded_policies):
    """垫江 resident_basic 2025 draft, level-1 inpatient ratio of tier 1 raised 80 % → 85 %."""
    draft = plan_year_rollover(region_code="500231", kind="resident_basic", from_year=2024, to_year=2025)
    row = BenefitRule.objects.get(plan_year=draft, claim_type="inpatient", level=1, tier=1)
    assert row.ratio == D("80")
    row.ratio = D("85")
    row.save()
    return draft


@pytest.fixture
def settled(draft_2025):
    anna = dianjiang_person(tier=1, name="安娜")
    bo = dianjiang_person(tier=1, name="薄波")
    claims = [inpatient(anna, "10000", no="ZY-1"),                        # level 1: changes
              inpatient(bo, "20000", level=3, no="ZY-2"),                 # level 3: unchanged
              outpatient(anna, "100", no="MZ-1")]                         # outpatient: unchanged
    for claim in claims:
        services.claim_settle(claim=claim, acting_user=None)
    return claims


def test_changed_ratio_moves_the_basic_layer_only_where_it_applies(draft_2025, settled):
    before = list(ClaimLayer.objects.values_list("pk", "paid", "is_current").order_by("pk"))
    result = simulate_plan_year(plan_year=draft_2025, base_year=2024)
    assert result.claims == 3 and not result.errors
    basic = result.by_layer["resident_basic"]
    # ZY-1: (10000 − 100) × 80 % = 7920 → × 85 % = 8415
    assert basic.change == D("495.00")
    assert result.by_claim_type["inpatient"].change == D("495.00")
    assert result.by_claim_type["outpatient"].change == D("0.00")
    assert result.total.change == D("495.00")
    [top] = result.top()
    assert (top.settlement_no, top.base, top.simulated) == ("ZY-1", D("7920.00"), D("8415.00"))
    assert result.by_identity["无特殊身份"].claims == 3
    # nothing written
    assert list(ClaimLayer.objects.values_list("pk", "paid", "is_current").order_by("pk")) == before


def test_only_the_claims_of_persons_the_scheme_covers_are_counted(draft_2025, settled):
    """A claim of a person without the simulated scheme (here: no 大病保险) has no layer of
    it, stored or simulated: it is not the scheme's claim and is not reported."""
    from .factories import enroll, new_person

    basic_only = new_person("500231", name="曹操")
    enroll(basic_only, "500231", "resident_basic", tier=1)
    services.claim_settle(claim=inpatient(basic_only, "5000", no="ZY-3"), acting_user=None)
    critical = plan_year_rollover(region_code="500231", kind="critical_illness", from_year=2024, to_year=2025)
    assert simulate_plan_year(plan_year=critical, base_year=2024).claims == 3
    assert simulate_plan_year(plan_year=draft_2025, base_year=2024).claims == 4


def test_unchanged_draft_changes_nothing(loaded_policies, settled):
    same = plan_year_rollover(region_code="500231", kind="critical_illness", from_year=2024, to_year=2025)
    result = simulate_plan_year(plan_year=same, base_year=2024)
    assert result.claims == 3
    assert result.total.change == D("0.00") and result.top() == []
    assert result.total.base == sum(ClaimLayer.objects.filter(is_current=True).values_list("paid", flat=True))


def test_command_prints_and_writes_xlsx(draft_2025, settled, tmp_path):
    out = io.StringIO()
    target = tmp_path / "sim.xlsx"
    call_command("simulate_policy", region="500231", kind="resident_basic", year=2025,
                 base_year=2024, xlsx=str(target), stdout=out)
    text = out.getvalue()
    assert "已结算理赔 3 件" in text and "ZY-1" in text and "495.00" in text
    wb = load_workbook(target)
    rows = list(wb["按险种层"].values)
    assert rows[0][0] == "分组"
    assert any(r[0] == "合计" and D(str(r[4])) == D("495.00") for r in rows[1:])


def test_simulation_page_and_xlsx(client, draft_2025, settled, django_user_model):
    url = "/admin/reports/simulate/"
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403  # no reports permission
    admin = django_user_model.objects.create_superuser("boss", password="x")
    client.force_login(admin)
    params = {"plan_year": draft_2025.pk, "base_year": 2024}
    started = client.post(url, params)  # a job (run at once in the tests) and its page
    assert started.status_code == 302
    page = client.get(started["Location"])
    job = page.context["job"]
    assert (job.kind, job.status, job.counts) == ("policy_simulation", "succeeded", {"claims": 3, "errors": 0})
    text = page.content.decode()
    assert "已结算理赔 3 件" in text and "ZY-1" in text and "495.00" in text
    # amounts as every page shows them: the tables and the summary (现行支付 …元) grouped
    assert '<td class="num">7,920.00</td><td class="num">8,415.00</td>' in text
    assert "7920.00" not in text and "8415.00" not in text
    total = D(job.details["groups"][0][1][-1]["base"])  # the 合计 row of 按险种层
    assert total >= 1000 and f"现行支付 {total:,.2f} 元" in job.message
    xlsx = client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "result"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    today = timezone.localdate().strftime("%Y%m%d")
    assert xlsx["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(
        f"政策模拟_垫江县_{draft_2025.scheme.name}_2025年度方案_基准2024年_{today}.xlsx")
    ws = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))["按险种层"]
    money = [row[3] for row in ws.iter_rows(min_row=2)]
    assert money and all(c.data_type == "n" and c.number_format == "#,##0.00" for c in money)
    bad = client.post(url, {"plan_year": draft_2025.pk, "base_year": "x"})
    assert "基准年度" in bad.content.decode()


@pytest.mark.parametrize("name,shown", [("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("安\x01娜", "安\\x01娜")])
def test_simulation_workbook_writes_names_as_text(draft_2025, settled, name, shown):
    """issue 15 hole 9: a person named ``=1+1`` was a live formula in the workbook (and a
    control character made openpyxl raise): every cell goes through ``sheets.excel``."""
    from claims.simulation_export import simulation_workbook

    person = settled[0].person
    person.name = name
    person.save()
    book = simulation_workbook(simulate_plan_year(plan_year=draft_2025, base_year=2024))
    buffer = io.BytesIO()
    book.save(buffer)
    cells = [c for ws in load_workbook(buffer).worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert shown in [c.value for c in cells]
