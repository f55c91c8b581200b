"""``python manage.py settle_claims [--region CODE] [--year YYYY] [--status draft|returned]
[--user USERNAME] [--chunk N] [--wait | --background | --inline]``: batch settlement of
entered claims (``claims.batch``).

By default (``--wait``) the command starts the job ``settle_claims`` — its chunks of
persons run on the Celery workers, as many as are started, on any machine — and follows
it until it ends: progress on a terminal (standard error, only when it is a tty), a
summary at the end, and exit status 1 when any claim could not be settled (each listed
with the engine's reason). ``--background`` starts the job and returns at once (the job
is followed on its admin page, 我的任务/全部任务). ``--inline`` settles in this process
without a job (no broker or worker needed; same chunks, same result).
"""
import sys
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from claims.batch import CHUNK_PERSONS, claims_settle_batch, claims_settle_start
from claims.models import Claim
from jobs.models import Job
from jobs.selectors import job_state
from policies.models import Region

POLL = 0.5  # seconds between two looks at the job
QUEUED_HINT = 15  # seconds in 排队 after which the command says a worker may be missing


class Command(BaseCommand):
    help = ("批量结算已录入的理赔（按参保人分组、加锁、批量写入；默认作为后台任务由 celery worker 执行并等待结束），"
            "结束时输出汇总；有未能结算的理赔时退出码为 1")

    def add_arguments(self, parser):
        parser.add_argument("--region", help="统筹区代码（含其下区县的理赔）")
        parser.add_argument("--year", type=int, help="年度")
        parser.add_argument("--status", choices=("draft", "returned"), action="append",
                            help="结算哪些状态的理赔（可重复；默认 录入 和 退回）")
        parser.add_argument("--user", help="以该经办员身份结算（检查权限与统筹区），默认系统批处理")
        parser.add_argument("--chunk", type=int, default=CHUNK_PERSONS,
                            help=f"每个事务（每个子任务）处理的参保人数，默认 {CHUNK_PERSONS}")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true",
                          help="提交后台任务并等待其结束，显示进度（默认）")
        mode.add_argument("--background", action="store_true",
                          help="只提交后台任务，立即返回（在“我的任务”页面查看进度）")
        mode.add_argument("--inline", action="store_true",
                          help="在本进程中直接结算，不提交后台任务（无需 celery worker）")

    def handle(self, *args, **options):
        if options["chunk"] < 1:
            raise CommandError("--chunk 至少为 1")
        region = None
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"未知的统筹区代码：{options['region']}")
            region = region.pooling_region
        statuses = options["status"] or list(Claim.EDITABLE)
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"未知的用户：{options['user']}")
        if options["inline"]:
            return self._inline(region, options["year"], statuses, user, options["chunk"])
        started = time.perf_counter()
        try:
            job = claims_settle_start(acting_user=user, region=region, year=options["year"], statuses=statuses,
                                      chunk_persons=options["chunk"])
        except PermissionDenied as error:
            raise CommandError(f"不能结算：{error}") from None
        self.stderr.write(f"已提交后台任务 {job.pk}：{job.title}")
        if options["background"]:
            self.stdout.write(f"后台任务 {job.pk} 已提交，在管理后台“我的任务”或“全部任务”中查看进度")
            return
        job = self._follow(job)
        elapsed = time.perf_counter() - started
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"后台任务 {job.pk} {job.get_status_display()}：{job.message}")
        counts = job.counts
        settled, failed = counts.get("settled", 0), counts.get("failed", 0)
        self._summary(settled, counts.get("persons", 0), failed, elapsed,
                      job.log_lines.filter(text__startswith="结算单号 ").values_list("text", flat=True))

    def _inline(self, region, year, statuses, user, chunk):
        claims = Claim.objects.filter(status__in=statuses)
        if region is not None:
            claims = claims.filter(region=region)
        if year:
            claims = claims.filter(year=year)
        total = claims.count()
        self.stderr.write(f"待结算理赔 {total} 件")
        started = time.perf_counter()
        handled = 0
        bar = Bar(sys.stderr)

        def progress(n):
            nonlocal handled
            handled += n
            bar.show(handled, total)

        try:
            report = claims_settle_batch(claims=claims, acting_user=user, chunk_persons=chunk, progress=progress)
        except PermissionDenied as error:
            raise CommandError(f"不能结算：{error}") from None
        bar.end()
        self._summary(report.settled, report.persons, len(report.failed), time.perf_counter() - started,
                      [f"结算单号 {number}：{message}" for _pk, number, message in report.failed])

    def _follow(self, job: Job) -> Job:
        """Look at the job every ``POLL`` seconds until it ends, showing its progress."""
        bar = Bar(sys.stderr)
        waited = 0.0
        hinted = False
        while True:
            job.refresh_from_db()
            state = job_state(job)
            if job.finished:
                break
            if job.status == Job.Status.QUEUED and waited >= QUEUED_HINT and not hinted:
                hinted = True
                self.stderr.write("任务仍在排队：请确认已启动 celery worker（celery -A config worker），"
                                  "或用 --inline 在本进程中结算")
            bar.show(state["done"], state["total"])
            time.sleep(POLL)
            waited += POLL
        bar.show(state["done"], state["total"])
        bar.end()
        return job

    def _summary(self, settled, persons, failed, elapsed, failures):
        rate = f"，{settled / elapsed:,.0f} 件/秒" if elapsed > 0 and settled else ""
        self.stdout.write(f"已结算 {settled} 件（参保人 {persons} 人），"
                          f"未能结算 {failed} 件，用时 {elapsed:.1f} 秒{rate}")
        for line in failures:
            self.stdout.write(f"  {line}")
        if failed:
            raise CommandError(f"{failed} 件理赔未能结算", returncode=1)


class Bar:
    """A progress bar on a terminal (nothing when the stream is not a tty)."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.shown = False

    def show(self, done: int, total: int | None) -> None:
        if not self.enabled or total is None:
            return
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        self.stream.write(f"\r[{'#' * min(filled, self.WIDTH)}{'.' * max(self.WIDTH - filled, 0)}] {done}/{total}")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.stream.write("\n")
