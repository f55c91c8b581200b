"""Admin import/export of persons and payments (issue 6): upload → full error report or
preview → 确认导入 (all-or-nothing), the import permission, templates, masked and scoped
exports."""
import pytest
from django.urls import reverse

from enrollment.models import Payment, Person
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from sheets.tests.helpers import admin_confirm, admin_upload, write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")
PERSON_IMPORT = "admin:enrollment_person_import_sheet"


def test_person_import_preview_then_confirm(client, tmp_path, dianjiang_clerk):
    client.force_login(dianjiang_clerk)
    changelist = client.get(reverse("admin:enrollment_person_changelist"))
    assert reverse(PERSON_IMPORT).encode() in changelist.content
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1), person_row(3)])
    page = admin_upload(client, reverse(PERSON_IMPORT), path)
    text = page.content.decode()
    assert page.status_code == 200 and "校验通过" in text and "将新增 2" in text
    assert id_number(3) in text and not Person.objects.exists()
    check = page.context["job"]
    done = admin_confirm(client, reverse(PERSON_IMPORT), check)
    assert done.context["job"].status == "succeeded" and Person.objects.count() == 2
    assert "已导入共 2 行数据" in done.content.decode()
    again = admin_confirm(client, reverse(PERSON_IMPORT), check)  # the upload is imported once
    assert again.context["job"] == done.context["job"] and Person.objects.count() == 2


def test_payment_import_shows_every_error_and_writes_nothing(client, tmp_path, dianjiang_clerk):
    client.force_login(dianjiang_clerk)
    admin_upload(client, reverse(PERSON_IMPORT), write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)]))
    url = reverse("admin:enrollment_payment_import_sheet")
    rows = [payment_row(1, self_paid="300"), payment_row(3, receipt="R000001")]
    page = admin_upload(client, url, write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows))
    job = page.context["job"]
    errors = {(e["row"], e["column"]) for e in job.details["errors"]}
    assert errors == {(2, "证件号码"), (3, "票据/流水号")}  # person 1 only previewed, not confirmed: unknown
    assert job.status == "failed" and "未写入任何数据" in page.content.decode() and not Payment.objects.exists()
    assert client.post(url, {"job": job.pk}).status_code == 302 and not Payment.objects.exists()  # no 确认
    report = client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "errors"]))
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxml")


def test_import_pages_need_the_import_permission(client, dianjiang_viewer):
    client.force_login(dianjiang_viewer)
    changelist = client.get(reverse("admin:enrollment_person_changelist"))
    assert changelist.status_code == 200 and reverse(PERSON_IMPORT).encode() not in changelist.content
    assert client.get(reverse(PERSON_IMPORT)).status_code == 403
    assert client.get(reverse("admin:enrollment_person_import_template")).status_code == 403


def test_template_download(client, dianjiang_clerk):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(dianjiang_clerk)
    response = client.get(reverse("admin:enrollment_payment_import_template"))
    sheet = load_workbook(BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:4] == ["证件类型", "证件号码*", "姓名", "统筹区*"]
    assert sheet["A2"].value.startswith("说明：")


def test_admin_export_is_masked_and_scoped(client, tmp_path, dianjiang_viewer):
    from django.core.management import call_command

    rows = [person_row(1), person_row(3, region="长治市")]
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows)))
    call_command("import_sheet", "payments", str(write_csv(tmp_path / "q.csv", PAYMENT_HEADER, [payment_row(1)])))
    client.force_login(dianjiang_viewer)
    data = {"format": "1", "resource": "0", "personresource_document_number": "on",
            "personresource_name": "on", "personresource_category": "on"}
    response = client.post(reverse("admin:enrollment_person_export"), data)
    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200, text[:500]
    lines = text.strip().splitlines()
    assert lines[0] == "证件号码,姓名,人员类别"
    masked = id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert lines[1:] == [f"{masked},测试1,城乡居民"]
    data = {"format": "1", "resource": "0", "paymentresource_document_number": "on",
            "paymentresource_receipt_no": "on"}
    response = client.post(reverse("admin:enrollment_payment_export"), data)
    assert response.content.decode("utf-8-sig").strip().splitlines()[1:] == [f"{masked},R000001"]


def test_background_export_is_a_job_scoped_and_masked(client, tmp_path, dianjiang_viewer):
    from django.core.management import call_command

    rows = [person_row(1), person_row(3, region="长治市")]
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows)))
    client.force_login(dianjiang_viewer)
    url = reverse("admin:enrollment_person_export_job")
    assert url.encode() in client.get(reverse("admin:enrollment_person_changelist")).content
    refused = client.post(url, {"region": "140400", "fmt": "csv"})  # 长治: not the viewer's
    assert "不在您负责的范围内" in refused.content.decode()
    started = client.post(url, {"region": "", "year": "", "fmt": "csv"})
    page = client.get(started["Location"])
    job = page.context["job"]
    assert (job.kind, job.status, job.counts) == ("sheet_export", "succeeded", {"rows": 1})
    assert job.result_name.startswith("参保人_垫江县_") and job.result_name.endswith(".csv")
    text = b"".join(client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "result"])).streaming_content)
    lines = text.decode("utf-8-sig").strip().splitlines()
    masked = id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert len(lines) == 2 and masked in lines[1] and id_number(1) not in text.decode("utf-8-sig")


def test_an_upload_over_the_size_limit_is_refused_before_any_job(client, tmp_path, dianjiang_clerk, settings):
    from jobs.models import Job

    settings.SHEETS_MAX_UPLOAD_MB = 0
    client.force_login(dianjiang_clerk)
    with open(write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)]), "rb") as handle:
        page = client.post(reverse(PERSON_IMPORT), {"file": handle})
    assert page.status_code == 200 and "文件大小超过 0 MB 的上限" in page.content.decode()
    assert not Job.objects.exists()
