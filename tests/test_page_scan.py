"""Every page of each role's day, scanned for developer text (tests/page_scan.py).

For each demo account (one test per role; the demo is loaded once per worker process) the
scan starts at the admin index and follows the admin's own links (lists, change pages,
history, add pages, print views, reports, exports — an xlsx is opened with openpyxl and its
cells scanned), visiting at most ``PER_SHAPE`` pages of each URL shape (ids replaced by N)
and nothing that deletes or logs out. A page fails on any finding of ``page_scan.findings``,
on a link that answers with an error and on a query per row: one SQL statement (literals
replaced) run more than ``QUERY_REPEAT_LIMIT`` times for the page.
"""
from __future__ import annotations

import io
import re
import time
from collections import Counter, deque
from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .page_scan import findings, raw_codes, user_names, visible_text

PER_SHAPE = 1
# pages whose content depends on the record's state (drafts, settled claims with their
# result lines and year-to-date panel, decided registrations) are visited more often
RICH_SHAPES = re.compile(r"/(claim|registration|enrollment|person)/N/change/")
RICH_PER_SHAPE = 4
MAX_PAGES = 170
# query budget: a page fails when one SQL statement (literals replaced, ``sql_shape``) runs
# more than this often — a query per listed row or per option (N+1), whatever the data size
QUERY_REPEAT_LIMIT = 10
# the audit log's export: hashes and recorded query strings (its page is scanned); the login
# records of django-axes are scanned (accounts/admin_login_records.py)
SKIP = re.compile(r"/logout/|/delete/|/password/|/jsi18n/|/autocomplete/|/static/|/media/|"
                  r"/admin/audit/auditentry/export/|"
                  r"\?.*(?:_popup|_to_field|o=|p=|q=|all=|e=)|/r/\d+/\d+/")
ROLES = ["jingban_dj", "shenhe_dj", "caiwu_dj", "jingban_cz", "shenhe_cz", "zhengce", "jianguan", "shenji",
         "admin"]


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+/", "/N/", parts.path)
    query = "&".join(sorted(re.sub(r"=[^&]*", "", q) for q in parts.query.split("&") if q))
    return f"{path}?{query}"


def links(html: str, base: str) -> list[str]:
    out = []
    # an absolute path ("/admin/…") leads to the same address from any page of the site
    # (``urljoin`` reads only the base's scheme and host, which no scanned address has):
    # such links, most of a page's, are resolved once per process
    site = base.startswith("/") and not base.startswith("//")
    for href in re.findall(r'href="([^"#][^"]*)"', html):
        absolute = site and href.startswith("/") and not href.startswith("//")
        url = _followed(base if not absolute else "/", href)
        if url is not None:
            out.append(url)
    return out


@lru_cache(maxsize=1 << 15)
def _followed(base: str, href: str) -> str | None:
    """The address ``href`` on the page ``base`` leads to, or None when the scan does not
    follow it (outside the admin, or ``SKIP``)."""
    url = urldefrag(urljoin(base, href.replace("&amp;", "&")))[0]
    return url if url.startswith("/admin/") and not SKIP.search(url) else None


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    lines = [ws.title for ws in book.worksheets]
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            lines.extend(str(v) for v in row if isinstance(v, str))
            lines.extend(repr(v) for v in row if isinstance(v, bool))
    return "\n".join(lines)


@lru_cache(maxsize=1 << 14)  # a user's session, permission and region reads recur on every page
def sql_shape(sql: str) -> str:
    """A statement with its literals replaced: numbers and quoted strings by N, a list of
    them (``IN (…)``, a multi-row ``VALUES``) by one N, savepoint names by N."""
    sql = re.sub(r"'(?:[^']|'')*'", "N", sql)
    sql = re.sub(r'"s\d+_x\d+"', "N", sql)
    sql = re.sub(r"(?<![\w.])-?\d+(?:\.\d+)?\b", "N", sql)
    return re.sub(r"N(?:\s*,\s*N)+", "N", sql)


def repeated_sql(queries) -> tuple[str, int]:
    """The SQL shape that ``queries`` (``CaptureQueriesContext.captured_queries``) run most
    often, with its count (``("", 0)`` for none)."""
    counts = Counter(sql_shape(q["sql"]) for q in queries)
    return counts.most_common(1)[0] if counts else ("", 0)


def scan(client: Client, stats: dict | None = None, within: str = "/admin/") -> tuple[dict[str, list[str]], int]:
    """Pages from ``within`` on, following only links under it."""
    codes, names = frozenset(raw_codes()), frozenset(user_names())
    seen, per_shape, problems = set(), Counter(), {}
    queue = deque([within])
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        url_shape = shape(url)
        if per_shape[url_shape] >= (RICH_PER_SHAPE if RICH_SHAPES.search(url_shape) else PER_SHAPE):
            continue
        seen.add(url)
        per_shape[url_shape] += 1
        # the connection's log keeps the last 9 000 statements, and nothing empties it while
        # queries are captured: without this, the pages after a process's first 9 000
        # statements (from about the fourth role a worker scans) captured none at all
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        visited += 1
        repeated, times = repeated_sql(queries.captured_queries)
        if stats is not None:
            stats[url] = (elapsed, len(queries.captured_queries), repeated, times)
        if times > QUERY_REPEAT_LIMIT:
            problems[url] = [f"同一 SQL 执行 {times} 次（每行一次查询？）：{repeated[:300]}"]
            continue
        if response.status_code in (301, 302):
            continue
        if response.status_code != 200:
            problems[url] = [f"状态 {response.status_code}"]
            continue
        kind = response.get("Content-Type", "")
        if "spreadsheetml" in kind:
            text = xlsx_text(response.content)
        elif "text/html" in kind:
            html = response.content.decode()
            text = visible_text(html)
            queue.extend(link for link in links(html, url) if link.startswith(within))
        else:
            continue
        found = findings(text, codes=codes, allowed=names)
        if found:
            problems[url] = found
    return problems, visited


def login_records():
    """django-axes' records as a day leaves them (the superuser reads them): an account
    locked after five failures (axes keeps the posted form, csrf token included), a
    failure, a login and its logout."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.utils import timezone

    now = timezone.now()
    where = {"username": "jingban_dj", "ip_address": "10.0.0.1", "user_agent": "Mozilla/5.0",
             "http_accept": "text/html", "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**where, failures_since_start=5, get_data="next=/admin/",
                                 post_data="csrfmiddlewaretoken=abc123\nusername=jingban_dj")
    AccessAttempt.objects.filter(username="jingban_dj").update(attempt_time=now)
    AccessFailureLog.objects.create(**where, locked_out=True)
    AccessLog.objects.create(**{**where, "username": "shenhe_dj"}, logout_time=now)


@pytest.fixture(scope="module")
def demo_day(django_db_setup, django_db_blocker, policies_loader):
    """The demo (current year, a small county) loaded once per module and worker process,
    in a transaction rolled back after the module (each role's test runs inside it). The
    dashboard's summaries are refreshed as the load's commit would have them refreshed
    (policies.dashboard; this transaction never commits): the admin index reads them, as
    on a loaded database, instead of computing every plan year in each role's first page."""
    from reports.services import dashboard_refresh

    with django_db_blocker.unblock(), transaction.atomic():
        policies_loader()
        call_command("load_demo", "--persons", "60", stdout=io.StringIO())
        login_records()
        dashboard_refresh()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def plain_rendering(monkeypatch):
    """Templates rendered as outside the tests: the test runner's instrumentation
    (``setup_test_environment``) sends a signal on each template rendered, on which the
    test client keeps a copy of the context for ``response.context`` — ≈ 20 templates a
    page, ≈ 2 ms of the ≈ 35 ms a page costs. The scan reads only the responses' bytes."""
    from django.template.base import Template
    from django.test.utils import _TestState

    saved = getattr(_TestState, "saved_data", None)
    if saved is not None:
        monkeypatch.setattr(Template, "_render", saved.template_render)


@pytest.mark.parametrize("username", ROLES)
def test_no_developer_text_on_any_page_of_the_day(demo_day, db, plain_rendering, username):
    """Each role's day scanned (one test per role, so that they run in parallel)."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    problems, visited = scan(client)
    # the 审计员 has two screens (审计日志, 我的任务), no date drill-down on the log and no
    # 历史 page of an entry: 15 pages
    assert visited >= (15 if username == "shenji" else 21), (username, visited)
    reports = [f"{username} {url}\n    " + "\n    ".join(items[:12])
               for url, items in sorted(problems.items())]
    assert not reports, f"{len(reports)} 个页面有开发者文字或错误：\n" + "\n".join(reports)


def test_no_developer_text_on_the_login_records_of_the_admin(demo_day, db, plain_rendering):
    """django-axes' records (登录记录与锁定, accounts/admin_login_records.py), which the
    superuser's day above does not reach within ``MAX_PAGES``: lists, filters, records."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    stats = {}
    problems, visited = scan(client, stats, within="/admin/axes/")
    for record in ("accessattempt", "accesslog", "accessfailurelog"):
        assert any(re.match(rf"/admin/axes/{record}/\d+/change/$", url) for url in stats), record
    reports = [f"{url}\n    " + "\n    ".join(items[:12]) for url, items in sorted(problems.items())]
    assert not reports, f"{len(reports)} 个页面有开发者文字或错误：\n" + "\n".join(reports)


def test_links_resolved_as_each_page_resolves_them():
    """``links`` (absolute paths resolved once per process) gives what ``urljoin`` from the
    page itself gives, in the page's order."""
    def reference(html, base):
        out = []
        for href in re.findall(r'href="([^"#][^"]*)"', html):
            url = urldefrag(urljoin(base, href.replace("&amp;", "&")))[0]
            if url.startswith("/admin/") and not SKIP.search(url):
                out.append(url)
        return out

    hrefs = ["/admin/", "/admin/a/b/", "/admin/a/../c/", "/admin/./x/", "/admin/a/?q=1&amp;p=2", "/admin/x/#top",
             "?status__exact=1", "?q=", "../", "./3/change/", "history/", "//admin/evil/", "/admin/x;p=1/",
             "https://example.org/admin/", "/static/a.css", "/admin/a/delete/", "/admin/logout/", "#x", "/admin/a?o=1",
             "/admin/%E5%8F%82/", "/admin/a/..", "/admin/a/b/../../admin/c/"]
    bases = ["/admin/", "/admin/policies/region/", "/admin/policies/region/3/change/", "/admin/x/?a=1",
             "/admin/a/b", "http://testserver/admin/p/", "//host/admin/q/"]
    html = "".join(f'<a href="{h}">x</a>' for h in hrefs * 2)
    for base in bases:
        assert links(html, base) == reference(html, base), base
