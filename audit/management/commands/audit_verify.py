"""``manage.py audit_verify``: walk the audit log's hash chain (``audit.services.audit_verify``).
Exit 0 when intact, 1 naming the first broken entry."""
from django.core.management.base import BaseCommand

from audit.services import audit_verify


class Command(BaseCommand):
    help = "校验审计日志的哈希链：完整时退出码为 0，发现篡改或删除时指出第一条有问题的记录，退出码为 1"

    def handle(self, *args, **options):
        result = audit_verify()
        if not result.ok:
            self.stderr.write(f"审计日志校验未通过：{result.problem}（此前 {result.checked} 条记录完好）")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"审计日志完整：共校验 {result.checked} 条记录，哈希链无断裂"))
