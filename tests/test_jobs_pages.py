"""后台任务 pages as the roles use them (jobs/admin.py): 我的任务 for everyone, 全部任务
scoped by region, the progress JSON, cancel and downloads only for who may."""
import pytest
from django.urls import reverse

from jobs.models import Job
from policies.models import Region
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

pytestmark = pytest.mark.usefixtures("loaded_policies")


def _queued(user, region, title):
    job = Job.objects.create(kind="sheet_import", title=title, created_by=user)
    job.regions.create(region_id=region.pk)
    return job


def test_my_jobs_and_all_jobs_by_region(client):
    dj_clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    cz_clerk = role_staff("jingban_cz", CLERK, regions=("140400",))
    dj_reviewer = role_staff("shenhe_dj", REVIEWER, regions=("500231",))
    dj_job = _queued(dj_clerk, Region.objects.get(code="500231"), "导入参保人表格：垫江.xlsx")
    cz_job = _queued(cz_clerk, Region.objects.get(code="140400"), "导入参保人表格：长治.xlsx")

    client.force_login(dj_clerk)
    mine = client.get(reverse("admin:jobs_myjob_changelist")).content.decode()
    assert "垫江.xlsx" in mine and "长治.xlsx" not in mine and "排队" in mine
    assert client.get(reverse("admin:jobs_job_changelist")).status_code == 403
    assert client.get(reverse("admin:jobs_myjob_change", args=[cz_job.pk])).status_code == 404
    assert client.get(reverse("admin:jobs_myjob_progress", args=[cz_job.pk])).status_code == 404
    state = client.get(reverse("admin:jobs_myjob_progress", args=[dj_job.pk])).json()
    assert (state["status_label"], state["kind"], state["finished"]) == ("排队", "导入表格", False)

    client.force_login(dj_reviewer)
    everyone = client.get(reverse("admin:jobs_job_changelist")).content.decode()
    assert "垫江.xlsx" in everyone and "长治.xlsx" not in everyone
    page = client.get(reverse("admin:jobs_job_change", args=[dj_job.pk])).content.decode()
    assert "取消任务" not in page  # may see, may not manage
    assert client.post(reverse("admin:jobs_job_cancel", args=[dj_job.pk])).status_code == 403
    assert Job.objects.get(pk=dj_job.pk).status == Job.Status.QUEUED

    client.force_login(dj_clerk)
    response = client.post(reverse("admin:jobs_myjob_cancel", args=[dj_job.pk]))
    assert response.status_code == 302 and Job.objects.get(pk=dj_job.pk).status == Job.Status.CANCELLED
    page = client.get(response["Location"]).content.decode()
    assert "已取消" in page and "重新运行" in page


def test_files_download_only_for_who_sees_the_job(client, tmp_path):
    from django.core.files.base import ContentFile

    dj_clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    cz_clerk = role_staff("jingban_cz", CLERK, regions=("140400",))
    job = _queued(dj_clerk, Region.objects.get(code="500231"), "导入")
    job.input_file.save("in.csv", ContentFile("证件号码\n".encode()), save=False)
    job.input_name = "参保人.csv"
    job.save()
    client.force_login(dj_clerk)
    response = client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "input"]))
    assert response.status_code == 200 and "filename*=utf-8''%E5%8F%82" in response["Content-Disposition"]
    assert client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "result"])).status_code == 404
    client.force_login(cz_clerk)
    assert client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "input"])).status_code == 404


def test_another_users_import_is_masked_and_its_files_refused(client, tmp_path):
    """A clerk's 参保人 import as each role sees it on 全部任务 (docs/jobs.md §个人信息):
    the author and the roles reading full numbers see the preview as is and download the
    upload; 只读/监管 sees ID 6+4, phone 3+4, account 6+4, birth year and gets a 403 on
    every file; 基金财务 has no 全部任务."""
    from enrollment.tests.sheet_rows import PERSON_HEADER, id_number, person_row
    from policies.roles import FUND_FINANCE, SUPERVISOR
    from sheets.tests.helpers import admin_upload, write_csv

    clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    reviewer = role_staff("shenhe_dj", REVIEWER, regions=("500231",))
    supervisor = role_staff("jianguan", SUPERVISOR, regions=("500231",))
    finance = role_staff("caiwu_dj", FUND_FINANCE, regions=("500231",))
    number, account = id_number(1), "6228480402561234567"
    path = write_csv(tmp_path / "参保人.csv", [*PERSON_HEADER, "银行账号", "出生日期"],
                     [[*person_row(1, phone="13800001111"), account, "1980-06-15"]])
    client.force_login(clerk)
    check = admin_upload(client, reverse("admin:enrollment_person_import_sheet"), path).context["job"]
    assert check.status == Job.Status.SUCCEEDED
    page_url = reverse("admin:jobs_job_change", args=[check.pk])
    file_url = reverse("admin:jobs_job_file", args=[check.pk, "input"])

    mine = reverse("admin:jobs_myjob_change", args=[check.pk]), reverse("admin:jobs_myjob_file", args=[check.pk, "input"])
    for user, (page_at, file_at) in ((clerk, mine), (reviewer, (page_url, file_url))):
        client.force_login(user)
        page = client.get(page_at).content.decode()
        assert number in page and "13800001111" in page and account in page and "1980-06-15" in page, user
        assert "下载上传的文件" in page and client.get(file_at).status_code == 200

    client.force_login(supervisor)
    page = client.get(page_url).content.decode()
    assert 'id="sheet-preview"' in page
    assert number not in page and "13800001111" not in page and account not in page
    assert f"{number[:6]}********{number[-4:]}" in page and "138****1111" in page
    assert "622848*********4567" in page and "1980******" in page and "1980-06-15" not in page  # birth: the year
    assert "下载上传的文件" not in page and "只有任务发起人和可查看完整个人信息的人员可以下载" in page
    refused = client.get(file_url)
    assert refused.status_code == 403 and "含有参保人个人信息" in refused.content.decode()

    client.force_login(finance)
    assert client.get(page_url).status_code == 403  # 全部任务 is not 基金财务's
    assert client.get(reverse("admin:jobs_job_changelist")).status_code == 403


def test_import_errors_are_masked_for_another_viewer(client, tmp_path):
    """A failed check's error table: the cell contents through the columns' masks."""
    from enrollment.tests.sheet_rows import PERSON_HEADER, id_number, person_row
    from policies.roles import SUPERVISOR
    from sheets.tests.helpers import admin_upload, write_csv

    clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    supervisor = role_staff("jianguan", SUPERVISOR, regions=("500231",))
    good = id_number(1)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")  # a check digit that does not match
    row = person_row(1, phone="13800001111")
    row[0] = bad
    client.force_login(clerk)
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [row])
    check = admin_upload(client, reverse("admin:enrollment_person_import_sheet"), path).context["job"]
    assert check.status == Job.Status.FAILED and any(e["value"] == bad for e in check.details["errors"])
    client.force_login(supervisor)
    page = client.get(reverse("admin:jobs_job_change", args=[check.pk])).content.decode()
    assert 'id="sheet-errors"' in page and bad not in page and f"{bad[:6]}********{bad[-4:]}" in page
    assert client.get(reverse("admin:jobs_job_file", args=[check.pk, "errors"])).status_code == 403


def _failed_person_check(client, tmp_path):
    """The user review's sheet: sheet row 2 good, row 3 good, row 4 a bad ID check digit,
    row 5 an unknown 人员类别 (a check error and a parse error, found in that order)."""
    from enrollment.tests.sheet_rows import PERSON_HEADER, id_number, person_row
    from sheets.tests.helpers import admin_upload, write_csv

    good = id_number(3)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows = [person_row(1), person_row(2), person_row(3), person_row(4, category="外星人")]
    rows[2][0] = bad
    path = write_csv(tmp_path / "参保人.csv", PERSON_HEADER, rows)
    return admin_upload(client, reverse("admin:enrollment_person_import_sheet"), path)


@pytest.fixture
def failed_check(client, tmp_path):
    """The clerk's page of the user review's failed 校验 (response)."""
    clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    client.force_login(clerk)
    response = _failed_person_check(client, tmp_path)
    assert response.context["job"].status == Job.Status.FAILED
    assert "未写入任何数据" in response.context["job"].message
    return response


def test_a_failed_check_shows_its_rows_out_of_its_total_and_no_rate(client, failed_check):
    """4 / 4 and a full bar, not “4 每秒 95.6” with an empty bar: the check read every row."""
    state, page = failed_check.context["state"], failed_check.content.decode()
    assert (state["done"], state["total"], state["percent"], state["rate"]) == (4, 4, 100, None)
    assert "4 / 4（100%）" in page and 'style="width: 100%"' in page and "每秒" not in page
    listing = client.get(reverse("admin:jobs_myjob_changelist")).content.decode()
    assert "4 / 4（100%）" in listing


def test_a_failed_check_counts_what_it_found_not_rows_added(failed_check):
    counts = {c["label"]: c["value"] for c in failed_check.context["state"]["counts"]}
    assert "新增" not in counts and counts["可新增"] == 2 and counts["有错误的行"] == 2 and counts["错误数"] == 2
    assert list(counts) == ["数据行数", "可新增", "可更新", "无变化", "有错误的行", "错误数"]


def test_a_failed_check_lists_its_errors_by_row(failed_check):
    job, page = failed_check.context["job"], failed_check.content.decode()
    assert [(e["row"], e["column"]) for e in job.details["errors"]] == [(4, "证件号码"), (5, "人员类别")]
    assert page.index("外星人") > page.index(job.details["errors"][0]["message"])


def test_a_failed_check_is_not_offered_again(client, failed_check):
    """The same file can only fail the same way: no 重新运行, and a posted one is refused."""
    check, page = failed_check.context["job"], failed_check.content.decode()
    assert 'id="job-rerun"' not in page and "重新运行" not in page
    refused = client.post(reverse("admin:jobs_myjob_rerun", args=[check.pk]), follow=True)
    assert Job.objects.filter(kind="sheet_check").count() == 1
    assert "修改文件后重新上传" in refused.content.decode()


def test_a_successful_check_and_import_show_their_rows_without_a_rate(client, tmp_path):
    from enrollment.tests.sheet_rows import PERSON_HEADER, person_row
    from sheets.tests.helpers import admin_confirm, admin_upload, write_csv

    clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    client.force_login(clerk)
    path = write_csv(tmp_path / "参保人.csv", PERSON_HEADER, [person_row(1), person_row(2)])
    url = reverse("admin:enrollment_person_import_sheet")
    checked = admin_upload(client, url, path)
    counts = {c["label"]: c["value"] for c in checked.context["state"]["counts"]}
    assert counts["可新增"] == 2 and "新增" not in counts  # a check writes nothing
    imported = admin_confirm(client, url, checked.context["job"])
    state, page = imported.context["state"], imported.content.decode()
    assert imported.context["job"].status == Job.Status.SUCCEEDED
    assert (state["done"], state["total"], state["percent"], state["rate"]) == (2, 2, 100, None)
    assert {c["label"]: c["value"] for c in state["counts"]}["新增"] == 2
    assert "2 / 2（100%）" in page and "每秒" not in page and "重新运行" not in page


def test_a_job_lost_with_its_worker_is_offered_again(client):
    from jobs import runner

    clerk = role_staff("jingban_dj", CLERK, regions=("500231",))
    job = _queued(clerk, Region.objects.get(code="500231"), "导入参保人表格：垫江.xlsx")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    runner.execute(job.pk)  # delivered again: its worker died
    client.force_login(clerk)
    page = client.get(reverse("admin:jobs_myjob_change", args=[job.pk])).content.decode()
    assert "意外终止" in page and 'id="job-rerun"' in page
