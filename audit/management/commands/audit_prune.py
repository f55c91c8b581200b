"""``manage.py audit_prune --before YYYY-MM-DD``: delete audit entries recorded before the
date; refuses a date within the last 180 days (``audit.services.audit_prune``). The chain
stays verifiable: the last deleted entry's hash becomes its anchor."""
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.services import RETENTION_DAYS, audit_prune


class Command(BaseCommand):
    help = f"清理某日期之前的审计日志（至少保留最近 {RETENTION_DAYS} 天）；清理本身记入审计日志"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="清理此日期（不含）之前的记录，格式 YYYY-MM-DD")
        parser.add_argument("--user", default="", help="执行清理的用户名（记入审计日志）")

    def handle(self, *args, before, user="", **options):
        try:
            day = date.fromisoformat(before)
        except ValueError:
            raise CommandError(f"日期格式不对：{before}（应为 YYYY-MM-DD，例如 2026-01-31）") from None
        acting_user = None
        if user:
            acting_user = get_user_model().objects.filter(username=user).first()
            if acting_user is None:
                raise CommandError(f"用户“{user}”不存在")
        try:
            deleted = audit_prune(before=day, acting_user=acting_user)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"已清理 {day.isoformat()} 之前的审计日志 {deleted} 条"))
