"""Browser: the pages a role reads all day are readable on a 1 366 × 768 screen
(docs/admin-layout.md): the clerk's person list (names on one line, 联系电话 fully
visible), the result-line table of a settled claim (险种 on one line) and the policy
officer's plan-year page (one tab per rule table, no horizontal scrolling, 报销比例
visible, an error shown on its tab).

Set ``SCREENSHOT_DIR`` to keep a screenshot of each page (not committed)."""
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from claims import services as claim_services
from claims.tests.factories import dianjiang_person, hospital, new_person
from enrollment import services as enrollment_services
from enrollment.models import Person
from policies.models import BenefitRule, Identity, PlanFigure, PlanYear
from policies.roles import CLERK, POLICY_OFFICER
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, recorded_page

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
NAMES = ["欧阳明华", "司马相如", "陈静", "王小二", "诸葛孔明", "上官婉儿", "李华", "张三丰"]


@pytest.fixture
def small_page(browser):
    """A page the size of a county office's screen."""
    with recorded_page(browser, WIDTH, HEIGHT) as page:
        yield page


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def screenshot(page, name, *, full_page=False):
    """What the screen shows (or the whole page) into ``$SCREENSHOT_DIR/<name>.png``."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# The computed line height of the element, in px (``normal`` ≈ 1.2 × font size).
LINE_HEIGHT = ("e => { const s = getComputedStyle(e); const lh = parseFloat(s.lineHeight);"
               " return isNaN(lh) ? 1.2 * parseFloat(s.fontSize) : lh; }")
# Height of the element's text (not of its cell): one line or several.
TEXT_HEIGHT = ("e => { const r = document.createRange(); r.selectNodeContents(e);"
               " return r.getBoundingClientRect().height; }")
# The class (or tag) of the first scrolling box around the element that cuts it off, or ''.
CLIPPED_BY = ("e => { const r = e.getBoundingClientRect();"
              " for (let a = e.parentElement; a; a = a.parentElement) {"
              "   if (getComputedStyle(a).overflowX === 'visible') continue;"
              "   const c = a.getBoundingClientRect();"
              "   if (r.left < c.left - 0.5 || r.right > c.right + 0.5) return a.className || a.tagName; }"
              " return ''; }")
# What ``assert_one_line`` and ``assert_in_viewport`` read of an element (null when there is
# none), in one call to the browser: its text, text and line heights, its box as Playwright's
# ``bounding_box`` (null without a layout box) and ``CLIPPED_BY``. For the tables whose every
# cell is checked (≈ 6 calls to the browser per cell before).
CELL = f"""e => {{
  if (!e) return null;
  const r = e.getBoundingClientRect();
  return {{text: e.innerText, height: ({TEXT_HEIGHT})(e), line: ({LINE_HEIGHT})(e),
           box: e.getClientRects().length ? {{x: r.x, y: r.y, width: r.width, height: r.height}} : null,
           clipped: ({CLIPPED_BY})(e)}}; }}"""


def line_height(locator) -> float:
    """The computed line height of the element, in px (``normal`` ≈ 1.2 × font size)."""
    return locator.evaluate(LINE_HEIGHT)


def text_height(locator) -> float:
    """Height of the element's text (not of its cell): one line or several."""
    return locator.evaluate(TEXT_HEIGHT)


def assert_one_line(locator, what, cell=None):
    """``cell``: ``CELL`` of the element, when already read."""
    height, line = (text_height(locator), line_height(locator)) if cell is None else (cell["height"], cell["line"])
    assert height < 2 * line, f"{what}：文字高 {height}px，行高 {line}px（折成多行）"


def assert_in_viewport(page, locator, what, cell=None):
    """Wholly on screen: inside the viewport and not cut off by a scrolling box around it.
    ``cell``: ``CELL`` of the element, when already read."""
    box = locator.bounding_box() if cell is None else cell["box"]
    assert box is not None, f"{what} 不可见"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{what} 超出屏幕：{box}"
    clipped = locator.evaluate(CLIPPED_BY) if cell is None else cell["clipped"]
    assert not clipped, f"{what} 被“{clipped}”遮住一部分（须横向滚动）"


# the checks of ``assert_in_viewport`` for every visible header cell of a table at once
# (one call to the browser per tab instead of four per header: ≈ 200 headers on the
# plan-year page); visible as Playwright's ``:visible`` (a non-empty box, not hidden)
HEADERS_ON_SCREEN = """group => Array.from(group.querySelectorAll('thead th')).filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })
  .map(e => {
    const r = e.getBoundingClientRect();
    let clipped = '';
    for (let a = e.parentElement; a && !clipped; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const c = a.getBoundingClientRect();
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5) clipped = a.className || a.tagName; }
    return {text: e.innerText, x: r.x, width: r.width, clipped}; })"""


def assert_headers_in_viewport(group, what, boxes=None):
    """Every visible header cell of ``group`` wholly on screen (``assert_in_viewport``);
    ``boxes``: ``HEADERS_ON_SCREEN`` of the group, when already read."""
    for box in group.evaluate(HEADERS_ON_SCREEN) if boxes is None else boxes:
        name = f"{what}的表头“{box['text']}”"
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{name} 超出屏幕：{box}"
        assert not box["clipped"], f"{name} 被“{box['clipped']}”遮住一部分（须横向滚动）"


# Visible as Playwright's ``is_visible`` (a non-empty box, not ``visibility: hidden``).
IS_VISIBLE = """e => { const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; }"""

# What the tab loop checks after clicking a tab, read in one call to the browser instead
# of six (≈ 25 tabs): the tab's target, class and text, whether its group is visible, the
# page's width and the group's header boxes (``HEADERS_ON_SCREEN``).
TAB_STATE = f"""tab => {{
  const group = document.getElementById(tab.getAttribute('href').replace(/^#/, ''));
  return {{groupId: group ? group.id : null, className: tab.getAttribute('class') || '',
           text: tab.innerText, visible: !!group && ({IS_VISIBLE})(group),
           pageWidth: document.documentElement.scrollWidth,
           headers: group ? ({HEADERS_ON_SCREEN})(group) : []}}; }}"""


# --------------------------------------------------------------------------- 参保人列表


def test_clerk_reads_the_person_list_on_a_small_screen(small_page, live_server, loaded_policies):
    role_staff("jingban_dj", CLERK)
    for i, name in enumerate(NAMES):
        new_person("500231", name=name, phone=f"1380000{i:04d}", birth=date(1950 + i, 3, 9))

    login(small_page, live_server, "jingban_dj", PASSWORD, to="/admin/enrollment/person/")
    screenshot(small_page, "person-list")

    assert page_width(small_page) <= WIDTH
    headers = small_page.locator("#result_list thead th")
    phone_header = headers.filter(has_text="联系电话")
    assert_in_viewport(small_page, phone_header, "联系电话表头")
    # every row's cells read in one call to the browser (``CELL``); the same checks as
    # ``assert_one_line`` / ``assert_in_viewport`` on each
    cells = ("field-phone", "field-document_number", "field-birth_date", "field-sex")
    rows = small_page.locator("#result_list tbody").evaluate(f"""(body, cells) =>
      Array.from(body.querySelectorAll(':scope > tr')).map(row => ({{
        name: ({CELL})(row.querySelector('th')),
        cells: Object.fromEntries(cells.map(c => [c, row.querySelectorAll('td.' + c).length === 1
                                                     ? ({CELL})(row.querySelector('td.' + c)) : null]))}}))""",
                                                           cells)
    assert len(rows) == len(NAMES)
    for row in rows:
        name_cell = row["name"]
        assert name_cell is not None and name_cell["text"].strip() in NAMES
        assert_one_line(None, f"姓名“{name_cell['text']}”", cell=name_cell)
        phone = row["cells"]["field-phone"]
        assert phone is not None, "联系电话：没有这一格"
        assert re.search(r"\d{3}", phone["text"])
        assert_in_viewport(small_page, None, "联系电话", cell=phone)
        assert_one_line(None, "联系电话", cell=phone)
        for cell in cells[1:]:
            assert row["cells"][cell] is not None, f"{cell}：没有这一格"
            assert_one_line(None, cell, cell=row["cells"][cell])

    # a person's page: the dates' shortcuts of the 特殊身份 rows on one line (今 / 天)
    person = Person.objects.get(name=NAMES[0])
    enrollment_services.identity_add(person=person, identity=Identity.objects.order_by("code").first(),
                                     valid_from=date(2024, 1, 15), acting_user=None)
    small_page.goto(f"{live_server.url}/admin/enrollment/person/{person.pk}/change/")
    shortcuts = small_page.locator(".inline-group .tabular td .datetimeshortcuts").evaluate_all(
        f"cells => cells.filter(c => c.getClientRects().length).map({CELL})")
    assert shortcuts, "特殊身份：没有日期快捷方式"
    for cell in shortcuts:
        assert_one_line(None, f"日期快捷方式“{cell['text']}”", cell=cell)
    assert_only_local_requests(small_page, live_server)


# --------------------------------------------------------------------------- 结算结果


def test_result_lines_of_a_settled_claim_are_readable(small_page, live_server, loaded_policies):
    clerk = role_staff("jingban_dj", CLERK)
    person = dianjiang_person(tier=1, name="陈静")
    claim = claim_services.claim_create(
        acting_user=clerk, person=person, claim_type="inpatient", service_date=date(2024, 5, 10),
        discharge_date=date(2024, 5, 20), settlement_no="YS2024-195203247553-1", total=Decimal("300000"),
        hospital=hospital("500231", level=3, grade="A", admin_level="city",
                          name="重庆市垫江县第一人民医院住院部", code="H500231001"))
    claim_services.claim_settle(claim=claim, acting_user=clerk)

    login(small_page, live_server, "jingban_dj", PASSWORD, to=f"/admin/claims/claim/{claim.pk}/change/")
    small_page.locator("table.claim-lines").scroll_into_view_if_needed()
    screenshot(small_page, "claim-result-lines")

    assert page_width(small_page) <= WIDTH
    # the headers and every line's cells read in one call to the browser (``CELL``); the
    # same checks as ``assert_one_line`` / ``assert_in_viewport`` on each
    table = small_page.locator("table.claim-lines").first.evaluate(f"""table => ({{
      headers: Array.from(table.querySelectorAll('thead th')).map({CELL}),
      lines: Array.from(table.querySelectorAll('tr.claim-line'))
        .map(line => Array.from(line.querySelectorAll('td')).map({CELL}))}})""")
    assert len(table["headers"]) == 8
    # Latin text keeps its case (innerText follows CSS): not Django's capitals, JINGBAN_DJ
    caption = small_page.locator("table.claim-lines caption").first.inner_text()
    assert "结算人 jingban_dj" in caption, caption
    for header in table["headers"]:
        assert_one_line(None, f"表头“{header['text']}”", cell=header)
        assert_in_viewport(small_page, None, f"表头“{header['text']}”", cell=header)
    assert len(table["lines"]) >= 2
    for i, cells in enumerate(table["lines"]):
        assert len(cells) >= 7, f"第 {i + 1} 行只有 {len(cells)} 列"
        scheme = cells[1]
        assert "医疗保险" in scheme["text"] or "大病" in scheme["text"]
        # the scheme's name, not the 医院结算系统带入 note under it
        assert_one_line(None, f"险种“{scheme['text']}”", cell=scheme)
        for j in (0, 2, 3, 4, 5, 6):
            assert_one_line(None, f"第 {i + 1} 行第 {j + 1} 列", cell=cells[j])

    # the claims list: short values on one line (已结算, 住院, 陈静 were one character per
    # line); the table scrolls sideways instead
    small_page.goto(f"{live_server.url}/admin/claims/claim/")
    screenshot(small_page, "claim-list")
    assert page_width(small_page) <= WIDTH
    short = ("field-settlement_no", "field-claim_type", "field-service_date", "field-total_money",
             "field-fund_total_money", "field-personal_money", "field-status")
    row = small_page.locator("#result_list tbody tr").first.evaluate(
        f"(row, cells) => cells.map(c => ({CELL})(row.querySelector('.' + c)))", short)
    for name, cell in zip(short, row, strict=True):
        assert cell is not None, f"{name}：没有这一格"
        assert_one_line(None, f"理赔列表 {name}“{cell['text']}”", cell=cell)
    assert_only_local_requests(small_page, live_server)


# --------------------------------------------------------------------------- 年度方案


@pytest.fixture
def officer(loaded_policies):
    return role_staff("zhengce", POLICY_OFFICER)


def dianjiang_plan_year():
    return PlanYear.objects.get(scheme__region__code="500231", year=2024,
                                scheme__kind="resident_basic")


def open_tab(page, group_id):
    page.locator(f'.rule-tabs a[href="#{group_id}"]').click()
    assert page.locator(f"#{group_id}").is_visible()


def test_plan_year_page_has_a_tab_per_rule_table(small_page, live_server, officer):
    plan_year = dianjiang_plan_year()
    login(small_page, live_server, "zhengce", PASSWORD, to=f"/admin/policies/planyear/{plan_year.pk}/change/")
    screenshot(small_page, "plan-year")
    screenshot(small_page, "plan-year-full", full_page=True)

    # a tab for the plan year's own fields, then one per rule table
    tabs = small_page.locator(".rule-tabs a")
    groups = small_page.locator("#planyear_form .inline-group")
    assert groups.count() >= 20 and tabs.count() == groups.count() + 1
    assert tabs.first.get_attribute("href") == "#plan-year-fields"
    assert small_page.locator("#plan-year-fields").is_visible()
    # one table at a time: the page fits the screen's width, and is not 10 000 px tall
    assert page_width(small_page) <= WIDTH
    assert not any(groups.evaluate_all(f"groups => groups.map({IS_VISIBLE})"))
    assert small_page.evaluate("document.documentElement.scrollHeight") < 3 * HEIGHT

    # every tab: its table fits the width, its headers are on screen
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        tab.click()
        state = tab.evaluate(TAB_STATE)
        assert state["groupId"], f"“{state['text']}”页签没有对应的表格"
        assert state["visible"] and "selected" in state["className"].split()
        assert state["pageWidth"] <= WIDTH, f"“{state['text']}”页签：页面出现横向滚动"
        assert_headers_in_viewport(None, f"“{state['text']}”", boxes=state["headers"])

    open_tab(small_page, "benefitrule_rows-group")
    screenshot(small_page, "plan-year-benefit-rules")
    ratio = small_page.locator("#benefitrule_rows-group thead th", has_text="报销比例")
    assert_in_viewport(small_page, ratio, "报销比例表头")
    first_ratio = small_page.locator("#benefitrule_rows-group tr.has_original input[name$='-ratio']").first
    assert_in_viewport(small_page, first_ratio, "报销比例输入框")
    # the tab opened is in the address (a reload or a link opens it again)
    assert small_page.url.endswith("#benefitrule_rows-group")
    small_page.reload()
    assert small_page.locator("#benefitrule_rows-group").is_visible()
    assert not small_page.locator("#planfigure_rows-group").is_visible()
    assert_only_local_requests(small_page, live_server)


def test_plan_year_save_keeps_every_tab_and_marks_the_tab_with_an_error(
        small_page, live_server, officer):
    plan_year = dianjiang_plan_year()
    figure = PlanFigure.objects.get(plan_year=plan_year, code=PlanFigure.Code.FISCAL_SUBSIDY)
    old = figure.value
    login(small_page, live_server, "zhengce", PASSWORD, to=f"/admin/policies/planyear/{plan_year.pk}/change/")

    # a change on one tab and an error (报销比例 150 %) on another: the page comes back
    # on the error's tab, that tab is marked, the other tab's typed value is kept
    open_tab(small_page, "planfigure_rows-group")
    value = small_page.locator("#planfigure_rows-group tr.has_original").filter(
        has=small_page.locator('select[name$="-code"] option[value="fiscal_subsidy"][selected]')
    ).locator('input[name$="-value"]')
    value.fill(str(old + 10))
    open_tab(small_page, "planfigure_rows-group")
    open_tab(small_page, "benefitrule_rows-group")
    row = small_page.locator("#benefitrule_rows-group tr.has_original").first
    rule = BenefitRule.objects.get(pk=row.locator('input[name$="-id"]').input_value())
    row.locator('input[name$="-ratio"]').fill("150")
    open_tab(small_page, "planfigure_rows-group")  # saved from another tab
    small_page.locator('#planyear_form input[name="_continue"]').first.click()
    small_page.wait_for_load_state()
    screenshot(small_page, "plan-year-error-tab")

    assert small_page.locator(".errornote").is_visible()
    error_tab = small_page.locator('.rule-tabs a[href="#benefitrule_rows-group"]')
    assert "has-error" in error_tab.get_attribute("class")
    assert small_page.locator("#benefitrule_rows-group").is_visible()
    assert small_page.locator("#benefitrule_rows-group .errorlist").first.is_visible()
    ok_tab = small_page.locator('.rule-tabs a[href="#planfigure_rows-group"]')
    assert "has-error" not in (ok_tab.get_attribute("class") or "")
    figure.refresh_from_db()
    assert figure.value == old  # nothing saved yet…
    open_tab(small_page, "planfigure_rows-group")
    assert Decimal(value.input_value()) == old + 10  # …but the typed value is kept

    # corrected and saved: both tabs' changes are written
    open_tab(small_page, "benefitrule_rows-group")
    small_page.locator(f'#benefitrule_rows-group input[name$="-id"][value="{rule.pk}"]').locator(
        "xpath=ancestor::tr").locator('input[name$="-ratio"]').fill("55")
    small_page.locator('#planyear_form input[name="_continue"]').first.click()
    small_page.wait_for_url(re.compile(rf"/admin/policies/planyear/{plan_year.pk}/change/"))
    assert "成功" in small_page.locator(".messagelist li.success").inner_text()
    figure.refresh_from_db()
    rule.refresh_from_db()
    assert figure.value == old + 10
    assert rule.ratio == Decimal("55")
    assert_only_local_requests(small_page, live_server)
