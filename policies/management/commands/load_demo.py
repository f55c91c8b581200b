"""``manage.py load_demo``: demo accounts (one per role) and the demo data hooks.

Idempotent: re-running updates roles, groups and regions; an existing user keeps
their password unless ``--reset-passwords``. Needs the regions of ``load_policies``.
The demo accounts log in with the password only: they are exempt from the first-login
password change, the password expiry and the required second factor (README).

Demo data of other apps: every module named in ``DEMO_LOADERS`` that exists is called
as ``module.load(acting_user=<admin user>, stdout=self.stdout)`` after the accounts
are created (policies: the current year's plan years; enrollment: persons, enrollments,
payments; claims: claims); a loader whose ``load`` takes ``**options`` also gets
``persons=`` (``--persons``: the size of the county demo, docs/benchmarks.md). A
module that does not exist yet is skipped.
"""
import importlib
import importlib.util
import inspect
import unicodedata

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_command
from policies.models import Region
from policies.roles import AUDITOR, CLERK, FUND_FINANCE, POLICY_OFFICER, REVIEWER, SUPERVISOR, roles_sync
from policies.staff import staff_user_ensure

DEMO_PASSWORD = "Yibao#2024demo"
ALL_REGIONS = "*"  # every top-level pooling region

# (username, role, region codes, superuser, description)
DEMO_ACCOUNTS = [
    ("admin", None, ALL_REGIONS, True, "超级管理员"),
    ("zhengce", POLICY_OFFICER, ALL_REGIONS, False, "政策管理员（五个统筹区）"),
    ("jingban_dj", CLERK, ["500231"], False, "垫江县经办员"),
    ("shenhe_dj", REVIEWER, ["500231"], False, "垫江县审核员（理赔、生成支付批次）"),
    ("caiwu_dj", FUND_FINANCE, ["500231"], False, "垫江县基金财务（银行文件、回盘）"),
    ("jingban_cz", CLERK, ["140400"], False, "长治市经办员"),
    ("shenhe_cz", REVIEWER, ["140400"], False, "长治市审核员（门诊慢特病登记、理赔）"),
    ("shenhe_ls", REVIEWER, ["511100"], False, "乐山市审核员（理赔）"),
    ("shenhe_sm", REVIEWER, ["350400"], False, "三明市审核员（理赔）"),
    ("shenhe_lc", REVIEWER, ["371500"], False, "聊城市审核员（理赔）"),
    ("jianguan", SUPERVISOR, ALL_REGIONS, False, "监管（只读，五个统筹区）"),
    ("shenji", AUDITOR, [], False, "审计员（只看审计日志）"),
]

# ---- hook: demo persons / enrollments / payments / claims of the other apps --------
DEMO_LOADERS = [
    "policies.demo",  # the current year's plan years (rolled over from the seed year, active)
    "enrollment.demo",
    "claims.demo",
    "finance.demo",  # draft 年度清算表 of the commercial products (docs/money.md)
    "enrollment.demo_county",  # a county's volume in the current year (--persons)
    "claims.demo_county",
]
DEFAULT_PERSONS = 1000  # `make run` on SQLite stays well under a minute (docs/benchmarks.md)


def _width(text) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _pad(text, width) -> str:
    return f"{text}{' ' * (width - _width(text))}"


class Command(BaseCommand):
    help = "创建演示账户（每个角色一个）并加载各模块的演示数据；可重复执行"

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true",
                            help="把已存在的演示账户密码重置为演示密码")
        parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS,
                            help=f"当年度演示参保人数（含家庭成员），默认 {DEFAULT_PERSONS}；"
                                 "再次运行时只补充尚未加载的人员")

    def handle(self, *args, **options):
        # the accounts and roles it creates or changes are 审计日志 entries naming the
        # command and the OS user who ran it
        with audit_command("命令行加载演示数据"):
            self._load(**options)

    def _load(self, *, reset_passwords=False, persons=DEFAULT_PERSONS, **options):
        if persons < 0:
            raise CommandError("--persons 不能为负数")
        roles_sync()
        top_regions = list(Region.objects.filter(is_pooling=True, parent__isnull=True))
        if not top_regions:
            raise CommandError("数据库中没有统筹区：请先运行 python manage.py load_policies")
        rows, admin_user = [], None
        for username, role, codes, superuser, description in DEMO_ACCOUNTS:
            regions = top_regions if codes == ALL_REGIONS else self._regions(codes)
            try:
                user, created = staff_user_ensure(
                    username=username, password=DEMO_PASSWORD, role=role, regions=regions,
                    superuser=superuser, reset_password=reset_passwords, demo=True,
                    acting_user=admin_user)
            except ValidationError as exc:
                raise CommandError(f"演示账户“{username}”：{'；'.join(exc.messages)}") from exc
            if superuser and admin_user is None:
                admin_user = user
            if created or reset_passwords:
                password = DEMO_PASSWORD
            else:
                password = DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "（已修改，未重置）"
            region_text = "全部" if codes == ALL_REGIONS else "、".join(r.name for r in regions) or "无"
            rows.append((username, role or "超级管理员", region_text, password, description))

        for module_name in DEMO_LOADERS:
            self._run_loader(module_name, admin_user, persons=persons)

        self.stdout.write("")
        self.stdout.write("演示账户（登录地址：/admin/）")
        header = ("用户名", "角色", "负责统筹区", "密码", "说明")
        table = [header, *rows]
        widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
        self.stdout.write(self.style.SUCCESS("演示数据加载完成"))

    def _regions(self, codes):
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise CommandError(f"统筹区 {'、'.join(missing)} 不存在：请先运行 python manage.py load_policies")
        return [found[c] for c in codes]

    def _run_loader(self, module_name, admin_user, **options):
        if importlib.util.find_spec(module_name) is None:
            self.stdout.write(f"（{module_name} 尚未提供演示数据，跳过）")
            return
        module = importlib.import_module(module_name)
        takes_options = any(p.kind is p.VAR_KEYWORD
                            for p in inspect.signature(module.load).parameters.values())
        module.load(acting_user=admin_user, stdout=self.stdout, **(options if takes_options else {}))
