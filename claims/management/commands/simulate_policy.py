"""``python manage.py simulate_policy --region CODE --kind KIND --year 2025 --base-year 2024``

Re-settles the base year's settled claims of the region under the chosen (usually draft)
plan year's parameters without writing anything (``claims.simulation``) and prints the
difference per layer, per claim type, per identity group and the claims that change
most; ``--xlsx FILE`` writes the same tables to a workbook.
"""
from django.core.management.base import BaseCommand, CommandError

from claims.simulation import simulate_plan_year
from claims.simulation_export import simulation_workbook
from policies.models import PlanYear


def _money(value) -> str:
    return f"{value:,.2f}"


class Command(BaseCommand):
    help = "政策模拟：用某年度方案（通常为草稿）重算基准年度已结算理赔，比较各层支付的变化（不写入数据库）"

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="统筹区代码，如 500231")
        parser.add_argument("--kind", required=True, help="险种类别代码，如 resident_basic")
        parser.add_argument("--year", type=int, required=True, help="要模拟的年度方案的年度")
        parser.add_argument("--status", default="draft", choices=("draft", "active", "closed"),
                            help="要模拟的年度方案的状态（默认 draft）")
        parser.add_argument("--base-year", type=int, required=True, help="基准年度（其已结算理赔被重算）")
        parser.add_argument("--top", type=int, default=20, help="列出变化最大的理赔条数")
        parser.add_argument("--xlsx", help="把结果另存为 xlsx 文件")

    def handle(self, *args, **options):
        plan_year = (PlanYear.objects.select_related("scheme__region")
                     .filter(scheme__region__code=options["region"], scheme__kind=options["kind"],
                             year=options["year"], status=options["status"]).first())
        if plan_year is None:
            raise CommandError(f"找不到年度方案：统筹区 {options['region']}、险种 {options['kind']}、"
                               f"{options['year']} 年度、状态 {options['status']}")
        result = simulate_plan_year(plan_year=plan_year, base_year=options["base_year"])
        out = self.stdout
        out.write(f"政策模拟：{plan_year}（{plan_year.get_status_display()}）重算 {result.base_year} 年度"
                  f"已结算理赔 {result.claims} 件")
        for title, groups in (("按险种层", result.by_layer), ("按就医类型", result.by_claim_type),
                              ("按身份", result.by_identity)):
            out.write(f"\n{title}：")
            for diff in [*groups.values(), *([result.total] if title == "按险种层" else [])]:
                pct = f"{diff.change_pct}%" if diff.change_pct is not None else "—"
                out.write(f"  {diff.label}\t{diff.claims} 件\t现行 {_money(diff.base)}\t"
                          f"模拟 {_money(diff.simulated)}\t变化 {_money(diff.change)}（{pct}）")
        top = result.top(options["top"])
        if top:
            out.write(f"\n变化最大的 {len(top)} 件理赔：")
            for c in top:
                out.write(f"  {c.settlement_no}\t{c.person}\t{c.claim_type}\t现行 {_money(c.base)}\t"
                          f"模拟 {_money(c.simulated)}\t变化 {_money(c.change)}")
        if result.errors:
            out.write(f"\n无法按该方案结算的理赔 {len(result.errors)} 件：")
            for no, message in result.errors:
                out.write(f"  {no}：{message}")
        if options["xlsx"]:
            simulation_workbook(result, top=options["top"]).save(options["xlsx"])
            out.write(f"\n已写入 {options['xlsx']}")
