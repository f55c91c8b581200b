"""Browser: a policy officer opens the admin index, sees the 统计报表 dashboard with its SVG
charts drawn by static/reports/charts.js, downloads an export and freezes the computed
participation rate (docs/reports.md). Every request must stay on the live server."""
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from policies.models import PlanYear
from policies.roles import POLICY_OFFICER, roles_sync
from policies.staff import staff_user_ensure
from reports.tests import dataset

from .conftest import assert_only_local_requests, login

pytestmark = pytest.mark.browser

PASSWORD = "Yibao#2024demo"


@pytest.fixture
def data(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    data = dataset.build()
    roles_sync()
    staff_user_ensure(username="zhengce", password=PASSWORD, role=POLICY_OFFICER,
                      regions=[data.sanming])
    return data


def test_dashboard_charts_export_and_freeze(page, live_server, data):
    login(page, live_server, "zhengce", PASSWORD)
    dashboard = page.locator("#reports-dashboard")
    dashboard.wait_for()
    # the model list is still there
    assert page.locator("#content-main .app-policies").count() == 1

    chart = page.locator("#reports-figure-participation .reports-chart svg")
    chart.wait_for()
    bars = chart.locator("rect.reports-bar")
    assert bars.count() == 1  # 三明 2024 (2023 has no rate: drawn as “—”)
    assert float(bars.first.get_attribute("width")) > 0
    assert chart.locator("line.reports-marker").count() == 2  # 目标 30, 底线 20
    assert "28.57" in chart.text_content()
    county_bars = page.locator("#reports-figure-participation_county svg rect.reports-bar")
    assert county_bars.count() == 4  # 明溪, 尤溪, 将乐, 未划分 (清流 has no rate)
    stacked = page.locator("#reports-figure-contributions svg rect.reports-bar")
    assert stacked.count() == 2  # 个人缴费 + 资助 of 三明 2024
    table = page.locator("#reports-figure-participation table").inner_text()
    assert "28.57" in table and "未冻结" in table
    assert "聊惠保" not in dashboard.inner_text()  # another region

    with page.expect_download() as download_info:
        page.locator("#reports-figure-contributions a.reports-export").click()
    workbook = load_workbook(BytesIO(open(download_info.value.path(), "rb").read()))
    values = [row for row in workbook.active.iter_rows(min_row=5, values_only=True)]
    assert [(r[0], Decimal(str(r[5])).quantize(Decimal("0.01"))) for r in values] == [
        ("三明市 三明普惠医联保 2024", Decimal("700.00"))]

    page.get_by_role("button", name=re.compile("冻结为官方参保率")).click()
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "官方参保率冻结为 28.57%" in page.locator(".messagelist").inner_text()
    assert PlanYear.objects.get(pk=data.sm_commercial.pk).official_participation_rate == Decimal(
        "28.57")

    assert_only_local_requests(page, live_server)


def test_chart_values_are_grouped_and_stay_inside_the_chart(page):
    """charts.js shows amounts as every page does (175,062.00) and leaves room on the
    right for the longest value text: the stacked “a + b” label is not clipped."""
    import json
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "static" / "reports"
    data = {"unit": "元", "stacked": True, "labels": ["垫江县 城乡居民基本医疗保险 2026", "乐山市 2024"],
            "series": [{"name": "个人缴费", "values": ["175062.00", "265.00"]},
                       {"name": "资助", "values": ["11058.00", None]}]}
    page.set_content('<div class="reports-chart" data-chart-source="d" style="width:700px"></div>'
                     f'<script id="d" type="application/json">{json.dumps(data)}</script>')
    page.add_style_tag(path=str(static / "reports.css"))
    page.add_script_tag(path=str(static / "charts.js"))
    svg = page.locator(".reports-chart svg")
    svg.wait_for()
    values = svg.locator("text.reports-value").all_text_contents()
    assert "175,062.00 + 11,058.00" in values and "265.00" in values
    assert "175,062.00" in svg.locator("rect.reports-bar title").first.text_content()
    outside = page.evaluate("""() => {
      const svg = document.querySelector('.reports-chart svg');
      const width = svg.width.baseVal.value;
      return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()])
        .filter(([, b]) => b.x < 0 || b.x + b.width > width).map(([text]) => text);
    }""")
    assert outside == []
