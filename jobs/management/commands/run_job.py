"""``manage.py run_job KIND [--user USERNAME] [--queue]``: run a job of ``KIND`` now, in this
process (``--queue``: hand it to the workers), and print its outcome — the calendar duties
(``overdue_claims``, ``renew_enrollments``) by hand, e.g. from cron where beat is not used.
Exit status 1 when the job failed."""
from django.core.management.base import BaseCommand, CommandError

from jobs.management.acting_user import find_user
from jobs.models import Job
from jobs.registry import all_kinds, get_kind
from jobs.runner import execute
from jobs.services import job_start


class Command(BaseCommand):
    help = "立即运行一个后台任务（如 overdue_claims 逾期理赔清单、renew_enrollments 自动续保），输出结果"

    def add_arguments(self, parser):
        parser.add_argument("kind", help="任务类型：" + "、".join(f"{k.code}（{k.label}）" for k in all_kinds()
                                                               if not k.code.startswith("test_")))
        parser.add_argument("--user", help="以该用户身份运行（默认系统，全部统筹区）")
        parser.add_argument("--queue", action="store_true", help="交给后台 worker 执行，不等待")

    def handle(self, *args, kind, user, queue, **options):
        try:
            label = get_kind(kind).label
        except Exception:
            raise CommandError(f"未知的任务类型：{kind}") from None
        title, acting_user = f"{label}（命令行）", find_user(user)
        if queue:
            job = job_start(kind=kind, title=title, acting_user=acting_user)
            self.stdout.write(f"已提交任务 {job.pk}")
            return
        job = Job.objects.create(kind=kind, title=title, created_by=acting_user)
        execute(job.pk)
        job.refresh_from_db()
        self.stdout.write(f"任务 {job.pk}（{job.get_status_display()}）：{job.message}")
        if job.result_file:
            self.stdout.write(f"结果文件：{job.result_file.path if hasattr(job.result_file, 'path') else job.result_file.name}")
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(job.message)
