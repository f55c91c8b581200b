"""``python manage.py settle_claims [--region CODE] [--year YYYY] [--status draft|returned]
[--user USERNAME] [--workers N]``: batch settlement of entered claims (``claims.batch``).

Progress on a terminal (standard error, only when it is a tty), a summary at the end, and
exit status 1 when any claim could not be settled (each listed with the engine's reason).
"""
import os
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from claims.batch import claims_settle_batch
from claims.models import Claim
from policies.models import Region


class Command(BaseCommand):
    help = "批量结算已录入的理赔（按参保人分组、加锁、批量写入），结束时输出汇总；有未能结算的理赔时退出码为 1"

    def add_arguments(self, parser):
        parser.add_argument("--region", help="统筹区代码（含其下区县的理赔）")
        parser.add_argument("--year", type=int, help="年度")
        parser.add_argument("--status", choices=("draft", "returned"), action="append",
                            help="结算哪些状态的理赔（可重复；默认 录入 和 退回）")
        parser.add_argument("--user", help="以该经办员身份结算（检查权限与统筹区），默认系统批处理")
        parser.add_argument("--chunk", type=int, default=500, help="每个事务处理的参保人数")
        parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                            help="并行进程数（仅 PostgreSQL；默认 CPU 核数，最多 4）")

    def handle(self, *args, **options):
        claims = Claim.objects.all()
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"未知的统筹区代码：{options['region']}")
            claims = claims.filter(region=region.pooling_region)
        if options["year"]:
            claims = claims.filter(year=options["year"])
        claims = claims.filter(status__in=options["status"] or list(Claim.EDITABLE))
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"未知的用户：{options['user']}")
        total = claims.count()
        self.stderr.write(f"待结算理赔 {total} 件")
        started = time.perf_counter()
        handled = 0
        tty = sys.stderr.isatty()

        def progress(n):
            nonlocal handled
            handled += n
            if tty:
                width = 30
                filled = int(width * handled / total) if total else width
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {handled}/{total}")
                sys.stderr.flush()

        if options["workers"] < 1:
            raise CommandError("--workers 至少为 1")
        report = claims_settle_batch(claims=claims, acting_user=user, chunk_persons=options["chunk"],
                                     workers=options["workers"], progress=progress)
        if tty:
            sys.stderr.write("\n")
        elapsed = time.perf_counter() - started
        rate = f"，{report.settled / elapsed:,.0f} 件/秒" if elapsed > 0 and report.settled else ""
        self.stdout.write(f"已结算 {report.settled} 件（参保人 {report.persons} 人），"
                          f"未能结算 {len(report.failed)} 件，用时 {elapsed:.1f} 秒{rate}")
        for _pk, number, message in report.failed:
            self.stdout.write(f"  结算单号 {number}：{message}")
        if report.failed:
            raise CommandError(f"{len(report.failed)} 件理赔未能结算", returncode=1)
