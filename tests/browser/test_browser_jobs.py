"""A clerk's import as jobs in chromium (sheets/job_kinds.py, jobs/admin.py): upload →
the 校验 job's page with the preview → 确认导入 → the 导入 job's page; and a running job's
progress bar moving by itself (jobs/progress.js polling the JSON view) until the page
shows the outcome."""
from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment.models import Person
from enrollment.tests.sheet_rows import PERSON_HEADER, person_row
from jobs import live
from jobs.models import Job
from policies.roles import CLERK, SUPERVISOR
from policies.tests.factories import PASSWORD, role_staff
from sheets.tests.helpers import write_csv

from .conftest import assert_only_local_requests, logged_in_context, login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loaded_policies")]


def test_clerk_uploads_checks_and_confirms_an_import(page, live_server, tmp_path):
    role_staff("jingban", CLERK, regions=("500231",))
    login(page, live_server, "jingban", PASSWORD, to="/admin/enrollment/person/import-sheet/")
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "参保人.csv", PERSON_HEADER,
                                                           [person_row(1), person_row(2)])))
    page.click("text=上传并校验")
    page.wait_for_selector("#sheet-preview")
    assert page.locator("#job-status").inner_text() == "成功"
    assert "将新增 2" in page.locator("#job-message").inner_text()
    save_screenshot(page, "job-sheet-check")
    assert not Person.objects.exists()
    check_url = page.url
    page.click("input[name=_confirm]")
    page.wait_for_url(lambda url: url != check_url and url.endswith("/change/"))
    page.wait_for_selector("#job-status.job-status-succeeded")
    assert "已导入共 2 行数据" in page.locator("#job-message").inner_text()
    assert Person.objects.count() == 2
    save_screenshot(page, "job-sheet-import")
    page.goto(f"{live_server.url}/admin/jobs/myjob/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2 and "导入参保人表格" in rows.first.inner_text()
    assert "成功" in rows.first.inner_text()
    assert_only_local_requests(page, live_server)


def test_progress_bar_follows_a_running_job_and_shows_its_end(page, live_server):
    clerk = role_staff("jingban", CLERK, regions=("500231",))
    job = Job.objects.create(kind="sheet_import", title="导入参保人表格：大文件.xlsx", created_by=clerk,
                             status=Job.Status.RUNNING, started_at=timezone.now() - timedelta(seconds=30),
                             total=100_000)
    live.set_progress(job, 30_000, 100_000, "写入")
    login(page, live_server, "jingban", PASSWORD, to=f"/admin/jobs/myjob/{job.pk}/change/")
    assert page.locator("#job-status").inner_text() == "运行中"
    assert "30%" in page.locator("#job-progress-text").inner_text()
    live.set_progress(job, 60_000, 100_000, "写入")  # the worker moves on
    page.wait_for_function("document.getElementById('job-progress-text').textContent.includes('60,000')")
    assert page.locator("#job-bar-fill").get_attribute("style").replace(" ", "") == "width:60%;"
    assert "预计还需" in page.locator("#job-eta").inner_text()
    assert page.locator("#job-rate").inner_text().startswith("每秒 ")  # set by progress.js, with its unit
    assert page.locator("#job-rate").inner_text().endswith(" 行")
    save_screenshot(page, "job-progress-running")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, done=100_000, finished_at=timezone.now(),
                                         message="已导入共 100000 行数据")
    page.wait_for_selector("#job-status.job-status-succeeded")  # the page reloaded itself
    assert "已导入共 100000 行数据" in page.locator("#job-message").inner_text()
    assert page.locator("#job-cancel").count() == 0
    assert "100,000 / 100,000（100%）" in page.locator("#job-progress-text").inner_text()
    assert page.locator("#job-rate").inner_text() == ""  # a rate only while it runs
    assert_only_local_requests(page, live_server)


def test_clerk_settles_many_claims_as_a_job_and_opens_its_page(page, live_server, settings):
    """结算所选理赔 above CLAIMS_SETTLE_INLINE_MAX: the job settle_claims, followed on its
    page (the job runs at once in the tests; a real worker in tests of claims)."""
    from claims.models import Claim
    from claims.tests.factories import dianjiang_person, outpatient

    settings.CLAIMS_SETTLE_INLINE_MAX = 1
    role_staff("jingban", CLERK, regions=("500231",))
    claims = [outpatient(dianjiang_person(tier=1), "400") for _ in range(3)]
    login(page, live_server, "jingban", PASSWORD, to="/admin/claims/claim/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "settle_action")
    page.click("button[name=index]")
    page.click("text=查看进度")
    page.wait_for_selector("#job-status.job-status-succeeded")
    assert "已结算 3 件" in page.locator("#job-message").inner_text()
    assert "批量结算理赔" in page.locator(".job-facts").inner_text()
    save_screenshot(page, "job-settle-claims")
    assert Claim.objects.filter(pk__in=[c.pk for c in claims], status="settled").count() == 3
    assert_only_local_requests(page, live_server)


def test_supervisor_reads_a_clerks_import_masked_without_its_files(browser, live_server, tmp_path):
    """只读/监管 opens a clerk's 参保人 import on 全部任务 (docs/jobs.md §个人信息): the
    preview's ID, phone and bank account masked, the files replaced by the reason."""
    from django.test import Client

    from enrollment.tests.sheet_rows import id_number
    from sheets.tests.helpers import admin_upload

    clerk = role_staff("jingban", CLERK, regions=("500231",))
    supervisor = role_staff("jianguan", SUPERVISOR, regions=("500231",))
    client = Client()
    client.force_login(clerk)
    path = write_csv(tmp_path / "参保人.csv", [*PERSON_HEADER, "银行账号"],
                     [[*person_row(1, phone="13800001111"), "6228480402561234567"]])
    check = admin_upload(client, "/admin/enrollment/person/import-sheet/", path).context["job"]
    context = logged_in_context(browser, live_server, supervisor, viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/jobs/job/{check.pk}/change/")
        row = page.locator("#sheet-preview tbody tr").first.inner_text()
        number = id_number(1)
        assert f"{number[:6]}********{number[-4:]}" in row and "138****1111" in row and "622848*********4567" in row
        assert number not in page.content() and page.locator("#job-files").count() == 0
        assert "只有任务发起人和可查看完整个人信息的人员可以下载" in page.locator("#job-files-refused").inner_text()
        save_screenshot(page, "job-sheet-check-masked")
    finally:
        context.close()
