"""``python manage.py rebuild_fund_balances [--check]``

基金余额表's summary (docs/money.md §基金余额表) recomputed from every entry of the ledger:
run it after entries were loaded outside ``ledger.services.journals_write`` (COPY, a
restore). ``--check`` changes nothing: it compares the page's figures (summary + the
entries after the watermark) with the direct sum of the entries, and fails on a difference.
"""
import time

from django.core.management.base import BaseCommand, CommandError

from ledger import selectors, services


class Command(BaseCommand):
    help = "重建基金余额表汇总（各基金、年度、科目的分录之和）；--check 只核对不写入"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只核对汇总与分录直接求和是否一致")

    def handle(self, *args, **options):
        start = time.perf_counter()
        if options["check"]:
            summary, direct = selectors.fund_balances_differences()
            if summary != direct:
                raise CommandError(f"基金余额表汇总与分录之和不一致：汇总 {summary}，分录之和 {direct}；"
                                   "请运行 rebuild_fund_balances 重建")
            self.stdout.write(f"基金余额表汇总与分录之和一致（{time.perf_counter() - start:.1f} 秒）")
            return
        try:
            upto = services.fund_balances_rebuild()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已重建基金余额表汇总，汇总至分录 {upto}（{time.perf_counter() - start:.1f} 秒）")
