"""Claims figures (赔付金额, 赔付率, 健康管理基金, 线下审核超期) against hand-computed values
(docs/reports.md “理赔与赔付率”). The 2024 claims are entered and settled through the
claims services with the spec's worked examples (claims/tests/factories.py); earlier plan
years of 聊惠保 and 三明 are stored rows (test data), as the fixtures load only 2024."""
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from claims import services
from claims.models import Claim, ClaimLayer
from claims.tests.factories import (
    CASES,
    claim_for_case,
    dianjiang_person,
    person_for_case,
    plan_year,
)
from claims.tests.factories import outpatient as outpatient_claim
from enrollment.models import Enrollment, Payment
from policies.models import PlanFigure, PlanYear, Region
from policies.roles import REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff
from reports import claims_figures as cf
from reports.exports import HEADER_ROW
from reports.figures import BUILDERS

pytestmark = pytest.mark.django_db

D = Decimal
DJ, LC, SM = "500231", "371500", "350400"
_receipt = [0]


def past_plan_year(region, year):
    """An earlier (closed) plan year of the region's 普惠 scheme."""
    scheme = plan_year(region, "inclusive_commercial").scheme
    return PlanYear.objects.create(scheme=scheme, year=year, status=PlanYear.Status.CLOSED)


def past_premium(person, py, amount):
    """An enrollment of ``py`` paid with one payment of ``amount`` (self-paid)."""
    enrollment = Enrollment.objects.create(
        person=person, plan_year=py, status=Enrollment.Status.ACTIVE,
        coverage_start=date(py.year, 1, 1), coverage_end=date(py.year, 12, 31),
        paid_off_date=date(py.year - 1, 12, 1))
    _receipt[0] += 1
    Payment.objects.create(enrollment=enrollment, amount_due=D(amount), self_paid=D(amount),
                           paid_date=date(py.year - 1, 12, 1), channel="wechat",
                           receipt_no=f"PAST{_receipt[0]}")


def past_claim(person, region, year, paid, *, status=Claim.Status.PAID, old_version_paid=None):
    """A settled claim of an earlier year with its current 普惠 line paying ``paid``
    (and, optionally, a superseded version 1 line that must not count)."""
    _receipt[0] += 1
    claim = Claim.objects.create(
        person=person, region=Region.objects.get(code=region), year=year,
        claim_type="inpatient", service_date=date(year, 6, 1), settlement_no=f"P{_receipt[0]}",
        total=D(paid), compliant=D(paid), accepted_on=date(year, 6, 10), status=status,
        settlement_version=2 if old_version_paid else 1)
    versions = [(1, False, old_version_paid), (2, True, paid)] if old_version_paid else [
        (1, True, paid)]
    for version, current, amount in versions:
        ClaimLayer.objects.create(claim=claim, version=version, is_current=current, seq=5,
                                  scheme_kind="inclusive_commercial", scheme_name="普惠",
                                  paid=D(amount), explanation="测试", settled_at=timezone.now())
    return claim


class Data:
    pass


@pytest.fixture(scope="module")
def data(module_policies, django_db_blocker):
    """The claims and earlier plan years below, built once for the module (each test's own
    writes are rolled back to them)."""
    with django_db_blocker.unblock():
        return _data()


def _data():
    d = Data()
    reviewer = role_staff("shenhe", REVIEWER, (DJ,))
    # 垫江: ex-1 (一档 380) resident_basic 14 600.00, critical illness 0.00; ex-2 (二档 755)
    # resident_basic 27 060.00, critical illness 3 064.20; an outpatient (一档 380) 400 ×
    # 60 % = 240.00, settled twice (the first version is history).
    d.ex1 = services.claim_settle(claim=claim_for_case(CASES["ex-1"]), acting_user=None)
    d.ex2 = services.claim_settle(claim=claim_for_case(CASES["ex-2"]), acting_user=None)
    d.dj_person = dianjiang_person(tier=1)
    d.outpatient = services.claim_settle(claim=outpatient_claim(d.dj_person, "400"),
                                         acting_user=None)
    services.claim_resettle(claim=d.outpatient, acting_user=None, reason="核对")
    # not counted: a draft, a voided and a returned claim
    outpatient_claim(d.dj_person, "100", day=date(2024, 3, 20))
    voided = services.claim_settle(claim=outpatient_claim(dianjiang_person(tier=1), "200"),
                                   acting_user=None)
    services.claim_void(claim=voided, acting_user=reviewer, reason="重复")
    returned = services.claim_settle(claim=outpatient_claim(dianjiang_person(tier=1), "300"),
                                     acting_user=None)
    services.claim_return(claim=returned, acting_user=reviewer, reason="金额不符")
    # → 垫江 resident_basic premiums 380 + 755 + 380 + 380 + 380 = 2 275.00

    # 聊惠保 2024: ex-7 pays 7 200.00 (given: basic 50 000, critical illness 10 000); two
    # enrollees × 89 = 178.00. Overdue offline review (deadline 2024-08-12).
    d.ex7 = services.claim_settle(claim=claim_for_case(CASES["ex-7"]), acting_user=None)
    person_for_case(CASES["ex-7"])
    Claim.objects.filter(pk=d.ex7.pk).update(offline_review=True,
                                             review_due_date=date(2024, 8, 12))
    # 聊惠保 2021 (outside the 2024 window): premium 100.00, nothing paid; 2022: no
    # premium (not in the average); 2023: premium 20 000.00, paid 1 000.00 (version 1 of
    # 9 999.00 superseded) and a returned claim of 500.00 (not counted).
    lc_person = d.ex7.person
    d.lc_2021 = past_plan_year(LC, 2021)
    past_premium(lc_person, d.lc_2021, "100.00")
    d.lc_2022 = past_plan_year(LC, 2022)
    d.lc_2023 = past_plan_year(LC, 2023)
    past_premium(lc_person, d.lc_2023, "20000.00")
    past_claim(lc_person, LC, 2023, "1000.00", old_version_paid="9999.00")
    past_claim(lc_person, LC, 2023, "500.00", status=Claim.Status.RETURNED)

    # 三明 2024: ex-6 pays 20 000.00; two enrollees × 150 = 300.00; no expenses stated.
    d.ex6 = services.claim_settle(claim=claim_for_case(CASES["ex-6"]), acting_user=None)
    person_for_case(CASES["ex-6"])
    # 三明 2023: premium 100 000.00, paid 60 000.00, expenses 10 000.00, rate 3 %.
    d.sm_2023 = past_plan_year(SM, 2023)
    past_premium(d.ex6.person, d.sm_2023, "100000.00")
    past_claim(d.ex6.person, SM, 2023, "60000.00")
    PlanFigure.objects.create(plan_year=d.sm_2023, code="profit_transfer_rate", value=D("3"))
    PlanFigure.objects.create(plan_year=d.sm_2023, code="stated_expenses", value=D("10000"))
    return d


def py(region, kind="inclusive_commercial"):
    return plan_year(region, kind)


def test_claims_paid_counts_current_lines_of_counted_claims(data):
    assert cf.claims_paid(py(DJ, "resident_basic")) == cf.ClaimsPaid(
        claims=3, paid=D("41900.00"))  # 14 600 + 27 060 + 240
    # critical illness: ex-1's line pays 0.00 (not a paying line), ex-2's 3 064.20
    assert cf.claims_paid(py(DJ, "critical_illness")) == cf.ClaimsPaid(claims=1, paid=D("3064.20"))
    assert cf.claims_paid(py(LC)) == cf.ClaimsPaid(claims=1, paid=D("7200.00"))
    assert cf.claims_paid(py(LC, "resident_basic")) == cf.ClaimsPaid(claims=1, paid=D("50000.00"))
    assert cf.claims_paid(data.lc_2023) == cf.ClaimsPaid(claims=1, paid=D("1000.00"))
    assert cf.claims_paid(data.lc_2022) == cf.ClaimsPaid(claims=0, paid=D("0.00"))
    assert cf.claims_paid(py(SM)) == cf.ClaimsPaid(claims=1, paid=D("20000.00"))
    # the outpatient claim has two versions; only the current one counts
    assert ClaimLayer.objects.filter(claim=data.outpatient, scheme_kind="resident_basic").count() == 2


def test_claims_paid_by_layer_and_claim_type(data):
    rows = cf.claims_paid_by_type([py(DJ, "resident_basic"), py(DJ, "critical_illness"),
                                   py(LC), data.lc_2023])
    assert [(r.plan_year.scheme.kind, r.plan_year.year, r.label, r.claims, r.paid)
            for r in rows] == [
        ("resident_basic", 2024, "住院", 2, D("41660.00")),  # 14 600 + 27 060
        ("resident_basic", 2024, "普通门诊（门诊统筹）", 1, D("240.00")),
        ("critical_illness", 2024, "住院", 1, D("3064.20")),
        ("inclusive_commercial", 2024, "住院", 1, D("7200.00")),
        ("inclusive_commercial", 2023, "住院", 1, D("1000.00")),
    ]


def test_loss_ratio_yearly_and_three_year_average(data):
    rows = {(r.plan_year.scheme.kind, r.plan_year.year): r
            for r in cf.loss_ratios([py(DJ, "resident_basic"), py(DJ, "critical_illness"),
                                     data.lc_2021, data.lc_2022, data.lc_2023, py(LC)])}
    assert ("inclusive_commercial", 2022) not in rows  # no premium, no claims
    basic = rows[("resident_basic", 2024)]
    # 41 900 ÷ 2 275 = 18.417582… → 1 841.76 %
    assert (basic.premium, basic.paid, basic.rate) == (D("2275.00"), D("41900.00"), D("1841.76"))
    assert basic.target is None and basic.status == "未设置"
    ci = rows[("critical_illness", 2024)]
    assert ci.premium == D("0.00") and ci.rate is None and ci.average_years == ()
    lc = rows[("inclusive_commercial", 2024)]
    # 7 200 ÷ 178 = 40.449438… → 4 044.94 %; average over 2023–2024 (2022 has no
    # premium, 2021 is outside): 8 200 ÷ 20 178 = 0.406383… → 40.64 %
    assert (lc.premium, lc.paid, lc.rate) == (D("178.00"), D("7200.00"), D("4044.94"))
    assert (lc.average_rate, lc.average_years) == (D("40.64"), (2023, 2024))
    assert lc.average_label == "2023、2024（仅 2 个年度）"
    assert lc.target == D("80") and lc.status == "低于底线（2 年平均）"
    lc23 = rows[("inclusive_commercial", 2023)]
    # 1 000 ÷ 20 000 = 5.00 %; 2021–2023: 1 000 ÷ 20 100 = 4.975… → 4.98 %
    assert (lc23.rate, lc23.average_rate, lc23.average_years) == (D("5.00"), D("4.98"),
                                                                  (2021, 2023))
    assert lc23.status == "未设置"  # the 2023 plan year has no loss_ratio_target row
    lc21 = rows[("inclusive_commercial", 2021)]
    assert (lc21.rate, lc21.average_rate, lc21.claims) == (D("0.00"), D("0.00"), 0)
    # a 2023 target below the yearly rate: both rates compared
    PlanFigure.objects.create(plan_year=data.lc_2023, code="loss_ratio_target", value=D("5"))
    assert cf.loss_ratio(data.lc_2023).status == "低于底线（2 年平均）"
    PlanFigure.objects.filter(plan_year=data.lc_2023).update(value=D("6"))
    assert cf.loss_ratio(data.lc_2023).status == "低于底线（年度、2 年平均）"
    PlanFigure.objects.filter(plan_year=data.lc_2023).update(value=D("4.98"))
    assert cf.loss_ratio(data.lc_2023).status == "达到底线"


def test_loss_ratio_three_full_years(data):
    past_premium(data.ex7.person, data.lc_2022, "1822.00")
    row = cf.loss_ratio(py(LC))
    # 2022–2024: 8 200 ÷ (1 822 + 20 000 + 178) = 8 200 ÷ 22 000 = 37.2727… → 37.27 %
    assert (row.average_rate, row.average_years) == (D("37.27"), (2022, 2023, 2024))
    assert row.average_label == "2022、2023、2024"
    assert row.status == "低于底线（三年平均）"


def test_health_fund(data):
    rows = {r.plan_year.year: r for r in cf.health_fund([py(SM, "resident_basic"), data.sm_2023,
                                                          py(SM)])}
    assert set(rows) == {2023, 2024}  # the basic scheme has no profit_transfer_rate row
    assert cf.health_fund([data.lc_2023, py(LC)]) == []  # nor has 聊惠保
    r23 = rows[2023]
    # 100 000 − 60 000 − 10 000 = 30 000; 3 % of 100 000 = 3 000 → 27 000 to the fund
    assert (r23.premium, r23.paid, r23.expenses, r23.profit) == (
        D("100000.00"), D("60000.00"), D("10000.00"), D("30000.00"))
    assert (r23.threshold, r23.transfer, r23.status) == (D("3000.00"), D("27000.00"),
                                                         "转入健康管理基金")
    r24 = rows[2024]
    assert (r24.premium, r24.paid, r24.transfer_rate) == (D("300.00"), D("20000.00"), D("3"))
    assert (r24.expenses, r24.profit, r24.transfer) == (None, None, None)
    assert r24.status == "经营费用未录入，不计算净利润"
    PlanFigure.objects.create(plan_year=py(SM), code="stated_expenses", value=D("0"))
    r24 = cf.health_fund([py(SM)])[0]
    assert (r24.profit, r24.threshold, r24.transfer, r24.status) == (
        D("-19700.00"), D("9.00"), D("0.00"), "亏损，无转入")
    # profit above zero but not above the threshold: 100 000 − 60 000 − 38 000 = 2 000
    PlanFigure.objects.filter(plan_year=data.sm_2023, code="stated_expenses").update(
        value=D("38000"))
    r23 = cf.health_fund([data.sm_2023])[0]
    assert (r23.profit, r23.transfer, r23.status) == (D("2000.00"), D("0.00"),
                                                      "净利润未超过起点，无转入")
    # no transfer rate row → 未设置, nothing computed
    PlanFigure.objects.filter(plan_year=data.sm_2023, code="profit_transfer_rate").delete()
    r23 = cf.health_fund([data.sm_2023])[0]
    assert (r23.profit, r23.threshold, r23.transfer) == (D("2000.00"), None, None)
    assert r23.status == "转入起点未设置"


def test_health_fund_counts_the_expenses_as_the_year_end_statement(data):
    """The dashboard's 经营费用 is the statement's: the 年度清算经营费用 rows (保费收入 × ratio
    rounded per row, or an amount) before the 参考指标 申报经营费用 (10 000 here), on both the
    direct figures and the summary tables."""
    from finance.models import YearEndExpense
    from finance.selectors.year_end import expenses_totals
    from reports import services as report_services
    from reports import summary_selectors

    YearEndExpense.objects.create(plan_year=data.sm_2023, seq=1, name="运营服务费", method="ratio",
                                  ratio=D("6.55"))
    YearEndExpense.objects.create(plan_year=data.sm_2023, seq=2, name="系统建设费", method="amount",
                                  amount=D("1000.00"))
    # 100 000 × 6.55 % = 6 550.00; + 1 000 = 7 550.00; 100 000 − 60 000 − 7 550 = 32 450.00
    assert expenses_totals({data.sm_2023.pk: D("100000.00")}, {data.sm_2023.pk: D("10000.00")}) == {
        data.sm_2023.pk: D("7550.00")}
    report_services.dashboard_refresh()
    for source in (cf, summary_selectors):
        row = source.health_fund([data.sm_2023])[0]
        assert (row.expenses, row.profit) == (D("7550.00"), D("32450.00")), source.__name__


def sheet(client, key, **params):
    response = client.get(reverse("reports:export", args=[key]), params)
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    return rows[0][0], rows[HEADER_ROW - 1], rows[HEADER_ROW:]


def test_exports_content(client, data):
    client.force_login(role_staff("root", None, superuser=True))
    title, header, rows = sheet(client, "loss_ratio", region=Region.objects.get(code=LC).pk)
    assert title == "赔付率（年度与三年平均）"
    assert header == ("年度方案", "赔付件数", "赔付金额（元）", "保费收入（元）", "赔付率（%）",
                      "三年平均赔付率（%）", "平均所含年度", "赔付率底线（%）", "对照结果")
    assert [tuple(num(v) for v in r) for r in rows] == [
        ("聊城市 城乡居民基本医疗保险 2024", 1, D("50000.00"), D("0.00"), "—", "—", "—",
         "未设置", "未设置"),
        ("聊城市 城乡居民大病保险 2024", 1, D("10000.00"), D("0.00"), "—", "—", "—",
         "未设置", "未设置"),
        ("聊城市 聊惠保 2021", 0, D("0.00"), D("100.00"), D("0.00"), D("0.00"),
         "2021（仅 1 个年度）", "未设置", "未设置"),
        ("聊城市 聊惠保 2023", 1, D("1000.00"), D("20000.00"), D("5.00"), D("4.98"),
         "2021、2023（仅 2 个年度）", "未设置", "未设置"),
        ("聊城市 聊惠保 2024", 1, D("7200.00"), D("178.00"), D("4044.94"), D("40.64"),
         "2023、2024（仅 2 个年度）", D("80.00"), "低于底线（2 年平均）"),
    ]
    _, header, rows = sheet(client, "claims_by_type", region=Region.objects.get(code=DJ).pk)
    assert [tuple(num(v) for v in r) for r in rows] == [
        ("垫江县 城乡居民基本医疗保险 2024", "住院", 2, D("41660.00")),
        ("垫江县 城乡居民基本医疗保险 2024", "普通门诊（门诊统筹）", 1, D("240.00")),
        ("垫江县 城乡居民大病保险 2024", "住院", 1, D("3064.20")),
    ]
    _, header, rows = sheet(client, "health_fund")
    assert header == ("年度方案", "保费收入（元）", "赔付金额（元）", "经营费用（元）",
                      "净利润（元）", "转入起点（%）", "起点金额（元）", "转入健康管理基金（元）", "说明")
    assert [tuple(num(v) for v in r) for r in rows] == [
        ("三明市 三明普惠医联保 2023", D("100000.00"), D("60000.00"), D("10000.00"),
         D("30000.00"), D("3.00"), D("3000.00"), D("27000.00"), "转入健康管理基金"),
        ("三明市 三明普惠医联保 2024", D("300.00"), D("20000.00"), "未设置", "—", D("3.00"),
         D("9.00"), "—", "经营费用未录入，不计算净利润"),
    ]
    wb = load_workbook(BytesIO(client.get(reverse("reports:export",
                                                  args=["health_fund"])).content)).active
    assert wb.cell(row=HEADER_ROW + 1, column=2).number_format == "#,##0.00"


def test_overdue_claims_per_region_with_changelist_link(client, data):
    # 垫江 ex-1 overdue too; ex-2 past its deadline but approved (decided); 三明 ex-6's
    # deadline is in the future
    Claim.objects.filter(pk=data.ex1.pk).update(offline_review=True,
                                                review_due_date=date(2024, 6, 3))
    Claim.objects.filter(pk=data.ex2.pk).update(offline_review=True, status="approved",
                                                review_due_date=date(2024, 6, 1))
    Claim.objects.filter(pk=data.ex6.pk).update(offline_review=True,
                                                review_due_date=date(9999, 1, 1))
    figure = BUILDERS["claims_overdue"](list(PlanYear.objects.select_related("scheme__region")))
    assert figure.rows == [["聊城市", 2024, 1, "2024-08-12"], ["垫江县", 2024, 1, "2024-06-03"]]
    lc_user = role_staff("jianguan_lc", SUPERVISOR, (LC,))
    client.force_login(lc_user)
    page = client.get(reverse("admin:index"))
    figures = {f["figure"].key: f for f in page.context["figures"]}
    item = figures["claims_overdue"]
    assert [r["cells"][0][0] for r in item["rows"]] == ["聊城市"]
    url = item["rows"][0]["link"][0]
    assert url.startswith(reverse("admin:claims_claim_changelist") + "?deadline=overdue")
    assert f'href="{url.replace("&", "&amp;")}"' in page.content.decode()
    listing = client.get(url)
    assert [c.pk for c in listing.context["cl"].result_list] == [data.ex7.pk]
    # the overdue rows follow the year filter
    page = client.get(reverse("admin:index"), {"year": 2023})
    figures = {f["figure"].key: f for f in page.context["figures"]}
    assert figures["claims_overdue"]["figure"].empty


def test_claims_figures_are_scoped_to_user_regions(client, data):
    keys = ("claims_by_type", "loss_ratio", "health_fund", "claims_overdue")
    client.force_login(role_staff("jianguan_lc", SUPERVISOR, (LC,)))
    for key in keys:
        _, _, rows = sheet(client, key)
        assert all(r[0].startswith("聊城市") for r in rows), key
    _, _, rows = sheet(client, "loss_ratio", region=Region.objects.get(code=SM).pk)
    assert {r[0] for r in rows} == {"聊城市 城乡居民基本医疗保险 2024", "聊城市 城乡居民大病保险 2024",
                                    "聊城市 聊惠保 2021", "聊城市 聊惠保 2023", "聊城市 聊惠保 2024"}
    client.force_login(role_staff("jianguan_cz", SUPERVISOR, ("140400",)))
    for key in keys:
        assert sheet(client, key)[2] == [], key
    page = client.get(reverse("admin:index"))
    figures = {f["figure"].key: f["figure"] for f in page.context["figures"]}
    assert all(figures[key].empty for key in keys)
    assert "聊惠保" not in page.content.decode()


def test_dashboard_shows_claims_figures(client, data):
    client.force_login(role_staff("jianguan_lc", SUPERVISOR, (LC,)))
    page = client.get(reverse("admin:index")).content.decode()
    for key in ("claims_by_type", "loss_ratio", "claims_overdue"):
        assert f'id="reports-figure-{key}"' in page
        assert f'<script id="reports-chart-{key}" type="application/json">' in page
    assert "低于底线（2 年平均）" in page and "4044.94" in page and "7,200.00" in page


def num(value):
    """An exported cell: a number as Decimal (equal to the hand-computed amount whatever
    its exponent), text unchanged."""
    return D(str(value)) if isinstance(value, int | float) else value
