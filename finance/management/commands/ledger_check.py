"""``manage.py ledger_check``: the ledger against the payments and claims tables (exit 1
with the differences in Chinese, exit 0 when they agree to the fen)."""
from django.core.management.base import BaseCommand, CommandError

from finance.checks import ledger_differences


class Command(BaseCommand):
    help = "核对基金账务与缴费记录、理赔结算是否一致（到分）"

    def handle(self, *args, **options):
        differences = ledger_differences()
        if differences:
            raise CommandError("基金账务与业务数据不符：\n" + "\n".join(differences))
        self.stdout.write("基金账务与缴费记录、理赔结算一致。")
