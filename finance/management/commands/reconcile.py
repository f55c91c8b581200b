"""``manage.py reconcile --kind tax|hospital --file FILE [--user USERNAME] [--dry-run]``:
import a 税务征收明细 or a 医院结算清单 (the sheet kinds ``tax_collection`` /
``hospital_settlement``, all-or-nothing) and print each run's result per category.
Exit 1 with every error when the file is refused (nothing written)."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from finance.models import ReconciliationLine, ReconciliationRun
from finance.selectors.reconciliation import category_label, run_counts
from finance.services.reconciliation import month_words
from jobs.management.acting_user import find_user
from sheets.engine import run_import
from sheets.registry import get_kind

KINDS = {"tax": "tax_collection", "hospital": "hospital_settlement"}
PRINT_LIMIT = 1000


class Command(BaseCommand):
    help = "对账：导入税务征收明细（--kind tax）或医院结算清单（--kind hospital），与本系统记录逐笔核对"

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=sorted(KINDS), help="tax = 税务征收明细，hospital = 医院结算清单")
        parser.add_argument("--file", required=True, help=".xlsx 或 .csv 文件")
        parser.add_argument("--user", help="操作人用户名（检查其权限和统筹区）；不填为系统任务")
        parser.add_argument("--dry-run", action="store_true", help="只校验文件，不写入")

    def handle(self, *args, kind, file, user, dry_run, **options):
        sheet_kind = get_kind(KINDS[kind])
        acting_user = find_user(user)
        before = ReconciliationRun.objects.aggregate(last=Max("pk"))["last"] or 0
        try:
            result = run_import(sheet_kind, file, user=acting_user, dry_run=dry_run)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        if not result.ok:
            for error in result.errors[:PRINT_LIMIT]:
                self.stderr.write(str(error))
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
        for run in ReconciliationRun.objects.filter(pk__gt=before).select_related("scheme", "hospital", "region"):
            counts = run_counts(run)
            parts = "，".join(f"{category_label(c, run.source)} {counts[c]}" for c in ReconciliationLine.Category.values if counts[c])
            self.stdout.write(f"{month_words(run.month)} {run.region.name} {run.fund_name}：{parts}；"
                              f"待处理差异 {counts['open']} 条")
