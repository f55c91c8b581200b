"""The bureau-scale benchmark (bench/bureau_scale.py, issue 17) still runs: its builder
fills a tiny database by COPY (valid 身份证号, 垫江's share, balanced journals) and every
page of each role's day answers 200 — untimed (the figures are in docs/benchmarks.md).
PostgreSQL only: the builder writes with COPY."""
import sys
from pathlib import Path

import pytest
from django.db import connection

from enrollment.documents import check_document
from enrollment.models import Enrollment, Payment, Person
from ledger.models import Entry, Journal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from scale import build as scale_build  # noqa: E402
from scale import pages, timing  # noqa: E402

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="基准数据用 COPY 写入，需要 PostgreSQL"),
    pytest.mark.usefixtures("loaded_policies"),
]


def test_builder_and_every_page_of_the_day_at_tiny_scale(settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = False
    result = scale_build.build(persons=200, out=lambda line: None, vacuum=False)

    counts = result["counts"]
    assert counts["persons"] == Person.objects.count() == 200
    assert Enrollment.objects.count() == counts["enrollments"] > 300
    assert Payment.objects.count() == counts["payments"] == 200
    assert counts["claims"] == 40 and counts["claim layers"] >= 40
    assert all(check_document("id_card", n) for n in Person.objects.values_list("document_number", flat=True))
    assert Person.objects.filter(hukou_region__code="500231").count() == 60
    assert Journal.objects.count() == counts["payment journals"] + counts["claim journals"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT journal_id FROM ledger_entry GROUP BY journal_id "
                       "HAVING sum(amount) <> 0) AS unbalanced")
        assert cursor.fetchone()[0] == 0
    assert Entry.objects.count() == counts["payment entries"] + counts["claim entries"]
    assert scale_build.complete(200)

    lines = []
    results = timing.time_pages(pages.users(), roles=list(pages.ROLES), runs=0, deep_page=1, out=lines.append)
    assert "首页（统计看板）" in results and "参保人 按完整身份证号查找" in results
    assert any(label.startswith("参保人 筛选：") for label in results)  # the list filters were found
    assert set(results["参保人 第 1 页"]) == set(pages.ROLES)
    assert "| 理赔 修改页 |" in timing.report(results, list(pages.ROLES))


def test_a_page_that_does_not_answer_200_stops_the_benchmark(client, admin_user, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = False
    client.force_login(admin_user)
    with pytest.raises(timing.PageFailed):
        timing.measure(client, "/admin/no-such-page/", runs=0)
