"""Jobs: long work run on Celery workers, watched in the browser (docs/jobs.md).

A ``Job`` is one step a user (or the calendar) started: its kind (``jobs.registry``), who
started it, the regions whose rows it touches (``JobRegion``: the job lists are scoped by
them like every other list), its input file, status, progress, counts, result and error
report files and the lines of its log. Work split over many tasks (a settlement run's
person groups) records each finished part as a ``JobPart``, in the part's own
transaction, so a part delivered twice is done once.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队"
        RUNNING = "running", "运行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    BAD_INPUT = "bad_input"  # the key of ``details`` set when the job failed on its input

    kind = models.CharField("任务类型", max_length=40, db_index=True)
    title = models.CharField("任务", max_length=200)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("提交时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    input_file = models.FileField("上传的文件", upload_to="jobs/input/%Y/%m/", blank=True, max_length=300)
    input_name = models.CharField("上传的文件名", max_length=200, blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/result/%Y/%m/", blank=True, max_length=300)
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    error_file = models.FileField("错误报告", upload_to="jobs/errors/%Y/%m/", blank=True, max_length=300)
    error_name = models.CharField("错误报告文件名", max_length=200, blank=True)
    total = models.BigIntegerField("总数", null=True, blank=True)
    done = models.BigIntegerField("已完成", default=0)
    counts = models.JSONField("计数", default=dict, blank=True)
    message = models.TextField("结果说明", blank=True)
    details = models.JSONField("结果数据", default=dict, blank=True)  # e.g. an import's preview rows
    cancel_requested = models.BooleanField("已申请取消", default=False)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    parent = models.ForeignKey("self", verbose_name="上一步", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="next_steps")

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="job_recent"),
            models.Index(fields=["created_by", "-created_at"], name="job_by_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(done__gte=0), name="job_done_not_negative"),
            models.CheckConstraint(condition=Q(total__isnull=True) | Q(total__gte=0), name="job_total_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]),
                name="job_status_known"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(status__in=["succeeded", "failed", "cancelled"]),
                name="job_finished_only_when_over"),
        ]

    def __str__(self):
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def failed_on_input(self) -> bool:
        """Failed because its input is wrong (``runner.JobInputError``): a rerun on the
        same input would fail the same way."""
        return self.status == self.Status.FAILED and bool((self.details or {}).get(self.BAD_INPUT))


class MyJob(Job):
    """The jobs a user started (the admin's 我的任务)."""

    class Meta:
        proxy = True
        verbose_name = "我的任务"
        verbose_name_plural = "我的任务"


class JobRegion(models.Model):
    """A region whose rows the job reads or writes (the id of a ``policies.Region``; the
    job lists show a job to the users who may see one of its regions)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="regions")
    region_id = models.BigIntegerField("统筹区", db_index=True)

    class Meta:
        verbose_name = "任务涉及的统筹区"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["job", "region_id"], name="job_region_once")]

    def __str__(self):
        return f"任务 {self.job_id} 的统筹区"


class JobPart(models.Model):
    """One finished part of a job split over many tasks (e.g. one group of persons of a
    settlement run), written in the part's own transaction: a part delivered twice finds
    its row and does nothing."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField("部分")
    done = models.BigIntegerField("处理数", default=0)
    counts = models.JSONField("计数", default=dict, blank=True)
    finished_at = models.DateTimeField("完成时间", default=timezone.now)

    class Meta:
        verbose_name = "任务的一部分"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="job_part_once")]

    def __str__(self):
        return f"任务 {self.job_id} 第 {self.number + 1} 部分"


class JobLog(models.Model):
    """A line of a job's log: what a clerk needs to follow it (never a traceback)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines")
    at = models.DateTimeField("时间", default=timezone.now)
    text = models.CharField("内容", max_length=500)

    class Meta:
        verbose_name = "任务日志"
        verbose_name_plural = verbose_name
        ordering = ["at", "id"]

    def __str__(self):
        return self.text
