"""Timing of the pages: one untimed request (must answer 200), then ``runs`` requests each
under ``CaptureQueriesContext``: the median wall time, the queries and the median SQL
time; the slow pages' slowest queries explained."""
from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .pages import LABELS, day, filter_links


@dataclass
class Timing:
    ms: float
    queries: int
    sql_ms: float
    slowest: list = field(default_factory=list)  # [(ms, sql)] of the slowest run's queries


class PageFailed(SystemExit):
    pass


def _get(client: Client, url: str):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise PageFailed(f"{url} answered {response.status_code}"
                         + (f" → {response['Location']}" if response.has_header("Location") else ""))
    return response


def measure(client: Client, url: str, runs: int) -> tuple[Timing, str]:
    html = _get(client, url).content.decode()  # warm-up, untimed
    if runs == 0:  # only the status (the tiny-scale test)
        return Timing(0.0, 0, 0.0), html
    walls, sqls, last = [], [], None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            _get(client, url)
            walls.append((time.perf_counter() - started) * 1000)
        timings = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        sqls.append(sum(ms for ms, _ in timings))
        last = timings
    slowest = sorted(last or [], key=lambda t: -t[0])
    return Timing(statistics.median(walls), len(last or []), statistics.median(sqls), slowest), html


def _line(label: str, role: str, t: Timing) -> str:
    return f"{label:<28} {LABELS[role]:<10} {t.ms:>9.0f} ms {t.queries:>4} queries {t.sql_ms:>9.0f} ms SQL"


DEEP = re.compile(r"[?&]p=(\d+)")


def time_pages(users: dict, *, roles, runs: int, deep_page: int, out=print, only=()) -> dict:
    """{page label: {role: Timing}} in the order of the day; the list filters' pages
    (found on each list page, per role) and the deep page (``deep_page``, or the last
    page when the role's list is shorter) follow their list. ``only``: the labels (their
    beginnings) of the pages to time."""
    clients = {}
    for role in roles:
        clients[role] = Client()
        clients[role].force_login(users[role])
    results: dict[str, dict] = {}
    urls: dict[str, dict] = {}
    def wanted(label):
        return not only or any(label.startswith(prefix) for prefix in only)

    def one(label, role, url):
        timing, html = measure(clients[role], url, runs)
        results.setdefault(label, {})[role] = timing
        urls.setdefault(label, {})[role] = url
        out(_line(label, role, timing))
        return html

    for page in day():
        for role in roles:
            if role not in page.roles:
                continue
            if wanted(page.label):
                html = one(page.label, role, page.url)
            elif page.filters_of:  # only to find its filters and last page
                html = measure(clients[role], page.url, 0)[1]
            if page.filters_of:
                for title, query in filter_links(html):
                    label = f"{page.filters_of} 筛选：{title}"
                    if wanted(label):
                        one(label, role, page.url.split("?")[0] + query)
                last = max((int(n) for n in DEEP.findall(html)), default=1)
                label = f"{page.filters_of} 第 {deep_page} 页（或末页）"
                if last > 1 and wanted(label):
                    one(label, role, f"{page.url}?p={min(deep_page, last)}")
    results["__urls__"] = urls
    return results


def report(results: dict, roles, threshold_ms: float = 300.0) -> str:
    """The markdown table: page | one column per role (ms / queries), ≥ threshold in bold with ⚠."""
    lines = ["| page | " + " | ".join(f"{LABELS[r]} ms / queries" for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for label, per_role in results.items():
        if label.startswith("__"):
            continue
        cells = []
        for role in roles:
            t = per_role.get(role)
            if t is None:
                cells.append("—")
            elif t.ms >= threshold_ms:
                cells.append(f"**{t.ms:,.0f}** ⚠ / {t.queries}")
            else:
                cells.append(f"{t.ms:,.0f} / {t.queries}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def explain_slow(results: dict, *, threshold_ms: float, top: int, out=print) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the ``top`` slowest queries of each slow (page, role)."""
    seen = set()
    for label, per_role in results.items():
        if label.startswith("__"):
            continue
        for role, t in per_role.items():
            if t.ms < threshold_ms:
                continue
            for ms, sql in t.slowest[:top]:
                if sql in seen or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                seen.add(sql)
                out(f"\n### {label} — {LABELS[role]}: {ms:,.0f} ms\n```sql\n{sql}\n```")
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                    out("```\n" + "\n".join(row[0] for row in cursor.fetchall()) + "\n```")

