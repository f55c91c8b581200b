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
