"""``manage.py year_end_statement --scheme 350400 --year 2024 [--prepare --user NAME] [--xlsx FILE]``:
the year-end statement of a commercial fund (docs/money.md §年度清算).

``--scheme``: the region's code (GB/T 2260), with ``:kind`` when the region runs more than
one commercial product (``350400:inclusive_commercial``). Without ``--prepare`` it prints
the latest stored statement (signed or draft) or, when none is stored, the figures as
computed now (nothing written). ``--prepare --user NAME`` stores the draft as that user
(``statement_prepare``; refused once signed). ``--xlsx FILE`` writes the stored statement's
workbook. Signing is done in the admin by a second person."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from policies.display import money_text

from ...models.year_end import YearEndLine, YearEndStatement
from ...selectors import year_end as selectors
from ...services import statement_prepare
from ...year_end_export import statement_workbook


class Command(BaseCommand):
    help = "商业保险年度清算表：显示、编制草稿（--prepare --user）或导出 Excel（--xlsx）"

    def add_arguments(self, parser):
        parser.add_argument("--scheme", required=True,
                            help="统筹区代码，如 350400；该区有多个商业保险险种时写 350400:inclusive_commercial")
        parser.add_argument("--year", required=True, type=int, help="清算年度，如 2024")
        parser.add_argument("--prepare", action="store_true", help="编制（或重新编制）草稿并保存")
        parser.add_argument("--user", help="编制人用户名（--prepare 时必填）")
        parser.add_argument("--xlsx", help="把已保存的清算表导出到此 xlsx 文件")

    def _scheme(self, text: str):
        region, _, kind = text.partition(":")
        schemes = selectors.commercial_schemes().filter(region__code=region.strip())
        if kind:
            schemes = schemes.filter(kind=kind.strip())
        found = list(schemes)
        if not found:
            raise CommandError(f"统筹区“{text}”没有商业保险险种（普惠型商业保险或职工补充医疗保险）")
        if len(found) > 1:
            kinds = "、".join(f"{region}:{s.kind}（{s.name}）" for s in found)
            raise CommandError(f"统筹区“{region}”有多个商业保险险种，请写明：{kinds}")
        return found[0]

    def handle(self, *args, **options):
        scheme, year = self._scheme(options["scheme"]), options["year"]
        if options["prepare"]:
            if not options["user"]:
                raise CommandError("编制须写明编制人：--user 用户名")
            user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在或已停用")
            try:
                statement_prepare(scheme=scheme, year=year, acting_user=user)
            except (ValidationError, PermissionDenied) as exc:
                messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                raise CommandError("；".join(messages)) from exc
        statement: YearEndStatement | None = selectors.latest_statement(scheme, year)
        if statement is not None:
            head = f"{statement}：{statement.get_status_display()}"
            lines = [(ln.get_section_display(), ln.label, ln.amount, ln.count, ln.note)
                     for ln in statement.lines.order_by("seq")]
            notes = statement.notes.splitlines()
        else:
            figures = selectors.statement_figures(scheme, year)
            head = f"{scheme}{year}年度清算（尚未编制，以下为当前计算结果，未保存）"
            sections = dict(YearEndLine.Section.choices)
            lines = [(sections[ln.section], ln.label, ln.amount, ln.count, ln.note) for ln in figures.lines]
            notes = list(figures.notes)
        self.stdout.write(head)
        self.stdout.write(f"承保机构：{scheme.operator or '未填写'}")
        for section, label, amount, count, note in lines:
            count_text = f"  {count} 件" if count is not None else ""
            self.stdout.write(f"  [{section}] {label}：{money_text(amount)}{count_text}{'  ' + note if note else ''}")
        for text in notes:
            self.stdout.write(f"说明：{text}")
        if options["xlsx"]:
            if statement is None:
                raise CommandError("尚未编制清算表，不能导出：先用 --prepare --user 编制")
            with open(options["xlsx"], "wb") as handle:
                handle.write(statement_workbook(statement))
            self.stdout.write(f"已导出：{options['xlsx']}")

