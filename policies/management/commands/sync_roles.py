"""``manage.py sync_roles``: create/update the staff role groups (policies.roles)."""
from django.core.management.base import BaseCommand

from audit.services import audit_command
from policies.roles import roles_sync


class Command(BaseCommand):
    help = "创建或同步角色（经办员、审核员、政策管理员、只读/监管、审计员）的权限；可重复执行"

    def handle(self, *args, **options):
        with audit_command("命令行同步角色"):  # a change of permissions: the OS user's entry
            report = roles_sync()
        for name, count in report.items():
            self.stdout.write(f"{name}：{count} 项权限")
        self.stdout.write(self.style.SUCCESS("角色同步完成"))
