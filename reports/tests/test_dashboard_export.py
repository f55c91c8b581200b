"""Dashboard on the admin index and the xlsx exports: permission, region scoping, content."""
import json
import re
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.exports import HEADER_ROW

from . import dataset
from .factories import user_with

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def data():
    return dataset.build()


def sheet_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    return rows[0][0], rows[1][0], rows[HEADER_ROW - 1], rows[HEADER_ROW:]


def num(value):
    return D(str(value)).quantize(D("0.01"))


def test_dashboard_only_for_report_viewers(client, data):
    plain = user_with("plain", regions=[data.sanming], perms=["policies.view_planyear"])
    client.force_login(plain)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="reports-dashboard"' not in page
    assert 'id="content-main"' in page  # the model list stays
    assert client.get(reverse("reports:export", args=["participation"])).status_code == 403

    viewer = user_with("viewer", regions=[data.sanming],
                       perms=["reports.view_report", "policies.view_planyear"])
    client.force_login(viewer)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="reports-dashboard"' in page and 'id="content-main"' in page
    assert "/static/reports/charts.js" in page
    assert "年度方案" in page  # the policies app of the model list


def test_dashboard_region_scoping_and_chart_data(client, data):
    lc = user_with("lc", regions=[data.liaocheng], perms=["reports.view_report"])
    client.force_login(lc)
    response = client.get(reverse("admin:index"))
    page = response.content.decode()
    assert "聊惠保" in page and "三明普惠医联保" not in page and "尤溪县" not in page
    match = re.search(r'<script id="reports-chart-participation" type="application/json">(.*?)</script>',
                      page)
    chart = json.loads(match.group(1))
    assert chart["labels"] == ["聊城市 聊惠保 2024"]
    assert chart["series"][0]["values"] == ["33.33"]
    assert chart["markers"][0]["values"] == ["30.00"] and chart["markers"][1]["values"] == [None]


def test_dashboard_filters(client, data):
    root = user_with("root", superuser=True)
    client.force_login(root)
    response = client.get(reverse("admin:index"), {"region": data.sanming.pk, "year": "2024"})
    figures = {f["figure"].key: f for f in response.context["figures"]}
    assert [r[0] for r in figures["participation"]["figure"].rows] == [
        "三明市 三明普惠医联保 2024"]
    assert figures["participation"]["export_url"].endswith(
        f"participation.xlsx?region={data.sanming.pk}&year=2024")
    # an invalid filter is reported and ignored
    labels = {row[0] for f in figures.values() for row in f["figure"].rows}
    assert labels == {"三明市 三明普惠医联保 2024"}
    # an invalid filter is reported and ignored
    response = client.get(reverse("admin:index"), {"year": "1999"})
    assert response.context["form"].errors["year"]
    labels = {row[0] for row in response.context["figures"][0]["figure"].rows}
    assert "聊城市 聊惠保 2024" in labels and "三明市 三明普惠医联保 2023" in labels


def test_export_participation_county_content(client, data):
    root = user_with("root", superuser=True)
    client.force_login(root)
    url = reverse("reports:export", args=["participation_county"])
    response = client.get(url, {"region": data.sanming.pk, "year": 2024})
    today = timezone.localdate().strftime("%Y%m%d")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(
        f"各县（市、区）参保率_三明市_2024年_{today}.xlsx")
    title, scope, header, rows = sheet_rows(response)
    assert title == "各县（市、区）参保率"
    ws = load_workbook(BytesIO(response.content)).active
    assert ws.title == "各县（市、区）参保率"
    assert ".md" not in str(ws.cell(row=3, column=1).value)  # no developer text
    assert scope.startswith("范围：三明市（350400）；全部险种；2024 年")
    assert header == ("年度方案", "县（市、区）", "参保人数", "基本医保参保人数", "参保率（%）",
                      "目标（%）", "底线（%）", "对照结果")
    got = [(r[1], r[2], r[3], r[4] if r[4] == "—" else num(r[4]), num(r[5]), num(r[6]), r[7])
           for r in rows]
    assert got == [
        ("明溪县", 2, 3, D("66.67"), D("30"), D("20"), "达到目标"),
        ("清流县", 0, 0, "—", D("30"), D("20"), "无法计算（基本医保参保人数为 0）"),
        ("尤溪县", 2, 7, D("28.57"), D("30"), D("20"), "达到底线、未达目标"),
        ("将乐县", 1, 10, D("10.00"), D("30"), D("20"), "低于底线"),
        ("未划分县区", 1, 1, D("100.00"), D("30"), D("20"), "达到目标"),
    ]


def test_export_contributions_and_subsidies(client, data):
    root = user_with("root", superuser=True)
    client.force_login(root)
    _, _, header, rows = sheet_rows(client.get(reverse("reports:export",
                                                       args=["contributions"])))
    assert header[3:] == ("个人缴费（元）", "资助（元）", "合计（元）")
    assert [(r[0], r[1], r[2], num(r[3]), num(r[4]), num(r[5])) for r in rows] == [
        ("三明市 三明普惠医联保 2024", 8, 7, D("459.25"), D("240.75"), D("700.00")),
        ("聊城市 聊惠保 2024", 1, 1, D("90.00"), D("0.00"), D("90.00")),
    ]
    _, _, _, rows = sheet_rows(client.get(reverse("reports:export",
                                                  args=["subsidy_department"])))
    assert [(r[1], r[2], num(r[3]), num(r[4])) for r in rows] == [
        ("民政", 1, D("100.00"), D("41.54")),
        ("乡村振兴", 2, D("90.25"), D("37.49")),
        ("退役军人事务", 1, D("50.50"), D("20.98")),
    ]
    ws = load_workbook(BytesIO(client.get(reverse("reports:export",
                                                  args=["subsidy_payer"])).content)).active
    assert ws.cell(row=HEADER_ROW + 1, column=4).number_format == "#,##0.00"


def test_export_is_scoped_to_user_regions(client, data):
    lc = user_with("lc", regions=[data.liaocheng], perms=["reports.view_report"])
    client.force_login(lc)
    for key in ("participation", "participation_county", "contributions"):
        _, _, _, rows = sheet_rows(client.get(reverse("reports:export", args=[key])))
        assert rows and all(r[0] == "聊城市 聊惠保 2024" for r in rows), key
    # asking for another region's rows gives nothing (the filter choice is not theirs)
    _, scope, _, rows = sheet_rows(client.get(reverse("reports:export", args=["participation"]),
                                              {"region": data.sanming.pk}))
    assert [r[0] for r in rows] == ["聊城市 聊惠保 2024"] and "全部统筹区" in scope
    assert client.get(reverse("reports:export", args=["nope"])).status_code == 404
    nobody = user_with("nobody", regions=[], perms=["reports.view_report"])
    client.force_login(nobody)
    _, _, _, rows = sheet_rows(client.get(reverse("reports:export", args=["participation"])))
    assert rows == []


def test_export_needs_login(client, data):
    response = client.get(reverse("reports:export", args=["participation"]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
