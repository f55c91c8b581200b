"""The jobs' life (jobs/runner.py, services, selectors): run, fail, cancel, a worker lost,
split work done once per part, run again, files and their retention."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from jobs import live, runner, selectors, services
from jobs.models import Job, JobPart
from jobs.registry import JobKind, register
from jobs.tests import kinds

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return get_user_model().objects.create_user("clerk", password="x", is_staff=True)


def start(kind, user, **params):
    return services.job_start(kind=kind, title=f"任务 {kind}", acting_user=user, params=params)


def fresh(job):
    return Job.objects.get(pk=job.pk)


def test_a_job_runs_and_records_its_outcome(clerk):
    job = fresh(start("test_count", clerk, n=3, result=True))
    assert job.status == Job.Status.SUCCEEDED and job.message == "数了 3 个"
    assert (job.done, job.total, job.counts, job.attempts) == (3, 3, {"items": 3}, 1)
    assert job.started_at <= job.finished_at
    assert [line.text for line in job.log_lines.all()] == ["数到 3"]
    assert job.result_name == "结果.txt" and job.result_file.read().decode() == "好"
    state = selectors.job_state(job)
    assert state["percent"] == 100 and state["status_label"] == "成功" and state["finished"]
    assert state["counts"] == [{"label": "个数", "value": 3}]


def test_a_failure_shows_its_chinese_reason_and_a_crash_no_traceback(clerk):
    failed = fresh(start("test_fail", clerk))
    assert failed.status == Job.Status.FAILED and failed.message == "第 3 行的金额不对"
    crashed = fresh(start("test_crash", clerk))
    assert crashed.status == Job.Status.FAILED and f"任务编号 {crashed.pk}" in crashed.message
    assert "internal" not in crashed.message and crashed.finished_at is not None


def test_a_job_failed_on_its_input_is_not_run_again_and_others_are(clerk):
    """The same input fails the same way (a sheet that fails its checks): no 重新运行;
    a job failed for another reason, or cancelled, may be run again."""
    bad = fresh(start("test_bad_input", clerk))
    assert bad.status == Job.Status.FAILED and bad.failed_on_input and not selectors.may_rerun(bad)
    with pytest.raises(ValidationError, match="修改文件后重新上传"):
        services.job_rerun(job=bad, acting_user=clerk)
    assert Job.objects.filter(kind="test_bad_input").count() == 1
    failed, crashed = fresh(start("test_fail", clerk)), fresh(start("test_crash", clerk))
    cancelled = fresh(start("test_cancel", clerk))
    assert all(selectors.may_rerun(j) and not j.failed_on_input for j in (failed, crashed, cancelled))
    assert not selectors.may_rerun(fresh(start("test_count", clerk, n=1)))


def test_a_finished_job_shows_done_out_of_total_and_no_rate(clerk):
    job = Job.objects.create(kind="test_count", title="完成", created_by=clerk, status=Job.Status.SUCCEEDED,
                             started_at=timezone.now() - timedelta(seconds=10), finished_at=timezone.now(),
                             done=1200)  # no total reported: done out of itself
    state = selectors.job_state(job)
    assert (state["total"], state["percent"], state["progress_text"]) == (1200, 100, "1,200 / 1,200（100%）")
    assert (state["rate"], state["rate_text"], state["eta"]) == (None, "", "")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, done=300, total=1200)
    state = selectors.job_state(fresh(job))
    assert (state["percent"], state["progress_text"], state["rate_text"]) == (25, "300 / 1,200（25%）", "")


def test_cancel_a_running_job_stops_it_at_its_next_progress_report(clerk):
    job = fresh(start("test_cancel", clerk))
    assert job.status == Job.Status.CANCELLED and "未写入" in job.message


def test_cancel_a_queued_job_at_once_and_it_never_runs(clerk):
    job = Job.objects.create(kind="test_count", title="排队", created_by=clerk, params={"n": 2})
    services.job_cancel(job=job, acting_user=clerk)
    runner.execute(job.pk)  # its message arrives later: nothing happens
    job = fresh(job)
    assert job.status == Job.Status.CANCELLED and job.attempts == 0 and job.done == 0
    with pytest.raises(ValidationError):
        services.job_cancel(job=job, acting_user=clerk)


def test_only_the_author_or_an_administrator_cancels(clerk):
    other = get_user_model().objects.create_user("other", password="x", is_staff=True)
    job = Job.objects.create(kind="test_count", title="排队", created_by=clerk, params={"n": 2})
    with pytest.raises(PermissionDenied):
        services.job_cancel(job=job, acting_user=other)
    assert fresh(job).status == Job.Status.QUEUED


def test_a_second_delivery_after_the_worker_died_marks_the_job_failed(clerk):
    job = Job.objects.create(kind="test_count", title="运行中断", created_by=clerk, params={"n": 2},
                             status=Job.Status.RUNNING, started_at=timezone.now(), attempts=1)
    runner.execute(job.pk)
    job = fresh(job)
    assert job.status == Job.Status.FAILED and job.message == runner.WORKER_LOST
    again = fresh(services.job_rerun(job=job, acting_user=clerk))
    assert again.status == Job.Status.SUCCEEDED and again.pk != job.pk and again.done == 2


def test_split_work_is_summed_and_a_part_delivered_twice_counts_once(clerk):
    job = fresh(start("test_split", clerk, parts_of=[[1, 2], [3], [4, 5, 6]]))
    assert job.status == Job.Status.SUCCEEDED and job.message == "共 6 个"
    assert (job.done, job.total, job.counts) == (6, 6, {"items": 6})
    runner.execute_part(job.pk, 0, [1, 2])  # the same part's message delivered again
    assert JobPart.objects.filter(job=job).count() == 3 and fresh(job).done == 6


def test_a_split_job_waits_for_its_last_part(clerk):
    job = Job.objects.create(kind="test_split", title="分片", created_by=clerk,
                             params={"parts": 2}, status=Job.Status.RUNNING, total=3)
    runner.execute_part(job.pk, 1, [1])
    assert fresh(job).status == Job.Status.RUNNING and fresh(job).done == 1
    runner.execute_part(job.pk, 0, [1, 2])
    assert fresh(job).status == Job.Status.SUCCEEDED and fresh(job).done == 3


def test_a_kind_code_is_registered_once():
    with pytest.raises(ImproperlyConfigured, match="test_count"):
        register(JobKind("test_count", "别的", run=lambda job_run: None))
    register(JobKind("test_count", "测试：计数", run=kinds.count,
                     count_labels={"items": "个数"}, unit="个"))  # the same function again is fine


def test_users_see_their_own_jobs_unless_they_may_see_all(clerk, django_user_model):
    mine = start("test_count", clerk, n=1)
    boss = django_user_model.objects.create_superuser("boss", password="x")
    theirs = start("test_count", boss, n=1)
    assert list(selectors.jobs_visible_to(clerk)) == [mine]
    assert set(selectors.jobs_visible_to(boss)) == {mine, theirs}
    assert selectors.may_manage(boss, mine) and not selectors.may_manage(clerk, theirs)


def test_progress_of_a_running_job_comes_from_the_shared_cache(clerk):
    job = Job.objects.create(kind="test_count", title="运行", created_by=clerk, status=Job.Status.RUNNING,
                             started_at=timezone.now() - timedelta(seconds=10))
    live.set_progress(job, 250, 1000, "校验")
    state = selectors.job_state(job)
    assert (state["done"], state["total"], state["percent"], state["stage"]) == (250, 1000, 25, "校验")
    assert state["rate"] == pytest.approx(25, rel=0.1) and state["eta"].endswith("秒")
    assert state["rate_text"] == f"每秒 {state['rate']} 个" and state["progress_text"] == "250 / 1,000（25%）"


def test_old_files_are_removed_and_the_rows_stay(clerk):
    job = start("test_count", clerk, n=1, result=True)
    job = fresh(job)
    job.input_file.save("in.csv", ContentFile(b"a,b"), save=True)
    storage, names = job.input_file.storage, [job.input_file.name, job.result_file.name]
    assert all(storage.exists(n) for n in names)
    assert services.job_files_remove_old(days=30) == 0
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert services.job_files_remove_old(days=30) == 1
    assert not any(storage.exists(n) for n in names)
    assert fresh(job).result_file.name == "" and fresh(job).log_lines.count() == 1


# beat entries that are not jobs: too frequent to list in 全部任务 (every five minutes)
QUIET_BEAT_TASKS = {"ledger.fund_balances_advance"}


def test_every_calendar_duty_of_beat_is_a_registered_kind():
    from celery import current_app as app  # config's (loaded with Django)
    from django.conf import settings

    from jobs.registry import get_kind

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] in QUIET_BEAT_TASKS:
            assert entry["task"] in app.tasks  # a task the workers know
            continue
        assert entry["task"] == "jobs.periodic"
        assert get_kind(entry["args"][0]).label


def test_run_job_command_runs_a_duty_now(capsys):
    from django.core.management import call_command

    call_command("run_job", "overdue_claims")
    assert "没有逾期未审核的理赔" in capsys.readouterr().out
    assert Job.objects.get().status == Job.Status.SUCCEEDED


def test_nightly_cleanup_removes_files_past_the_retention(clerk, settings):
    from jobs.services import job_start_periodic

    settings.JOBS_FILE_RETENTION_DAYS = 30
    job = fresh(start("test_count", clerk, n=1, result=True))
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    cleanup = fresh(job_start_periodic("job_files_cleanup"))
    assert cleanup.counts == {"jobs": 1} and "超过 30 天" in cleanup.message
    assert fresh(job).result_file.name == ""


def test_a_split_job_run_delivered_again_leaves_its_parts_alone(clerk):
    """The worker died after ``run`` had split the work but before its message was
    acknowledged: the redelivered ``jobs.run`` must not fail the job its parts carry on."""
    job = Job.objects.create(kind="test_split", title="分片", created_by=clerk, params={"parts": 2},
                             status=Job.Status.RUNNING, started_at=timezone.now(), attempts=1, total=3)
    runner.execute(job.pk)
    assert fresh(job).status == Job.Status.RUNNING
    runner.execute_part(job.pk, 0, [1, 2])
    runner.execute_part(job.pk, 1, [3])
    assert fresh(job).status == Job.Status.SUCCEEDED and fresh(job).done == 3


def test_an_upload_shared_with_a_recent_job_is_kept(clerk):
    """The 校验 job ended long ago, the 导入 job on the same upload yesterday: the file stays."""
    check = fresh(start("test_count", clerk, n=1))
    check.input_file.save("in.csv", ContentFile(b"a,b"), save=True)
    later = Job.objects.create(kind="test_count", title="导入", created_by=clerk, status=Job.Status.SUCCEEDED,
                               finished_at=timezone.now() - timedelta(days=1), input_file=check.input_file.name)
    Job.objects.filter(pk=check.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert services.job_files_remove_old(days=30) == 1
    assert check.input_file.storage.exists(later.input_file.name)
    Job.objects.filter(pk=later.pk).update(finished_at=timezone.now() - timedelta(days=31))
    services.job_files_remove_old(days=30)
    assert not check.input_file.storage.exists(later.input_file.name)
