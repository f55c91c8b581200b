"""``manage.py import_sheet KIND FILE [--dry-run] [--user USERNAME] [--errors FILE] [--settle]
[--single-process]``: import a spreadsheet all-or-nothing (docs/spreadsheets.md); on
PostgreSQL persons and payments are written by a second process while the file is being
checked (``sheets.engine``), unless ``--single-process``. Exit code 0 when the file
was imported (or, with --dry-run, would be), 1 when any row is bad (nothing written; the
error report is printed and optionally written to --errors as .xlsx/.csv). ``--settle``
(kinds with ``settle_imported``, i.e. claims): after a successful import the imported
claims are settled in a batch in this process (``claims.batch``); a claim the engine refuses stays 录入,
is listed on stderr and makes the exit code 1 (the import itself stays written)."""
from __future__ import annotations

import sys
import time

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from sheets.engine import run_import
from sheets.management.acting_user import find_user
from sheets.registry import get_kind, kind_names
from sheets.writers import write_errors

PRINT_LIMIT = 1000


class Progress:
    """Rows done on stderr, only when stderr is a terminal."""

    def __init__(self, stream):
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, stage: str, rows: int):
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = rows / max(now - self.started, 1e-6)
        self.stream.write(f"\r{stage}：{rows} 行（{rate:,.0f} 行/秒）   ")
        self.stream.flush()

    def done(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = ("导入表格（全部成功才写入）：KIND = persons、payments、identities、relations、registrations、"
            "hospitals、claims")

    def add_arguments(self, parser):
        parser.add_argument("kind", help="表格类型：" + "、".join(kind_names()))
        parser.add_argument("file", help=".xlsx 或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--user", help="以该用户身份导入（检查导入权限和负责的统筹区）")
        parser.add_argument("--errors", help="把错误报告写入该文件（.xlsx 或 .csv）")
        parser.add_argument("--settle", action="store_true",
                            help="导入成功后批量结算导入的理赔（仅 claims）")
        parser.add_argument("--single-process", action="store_true",
                            help="校验和写入在同一进程中进行（默认在 PostgreSQL 上由另一进程同时写入）")

    def handle(self, *args, kind, file, dry_run, user, errors, settle=False, single_process=False,
               **options):
        try:
            sheet_kind = get_kind(kind)
        except KeyError as exc:
            raise CommandError(f"{exc.args[0]}（已注册：{'、'.join(kind_names())}）") from None
        if settle and not hasattr(sheet_kind, "settle_imported"):
            raise CommandError(f"{sheet_kind.label}表格不支持 --settle")
        acting_user = find_user(user)
        progress = Progress(sys.stderr)
        started = time.monotonic()
        try:
            result = run_import(sheet_kind, file, user=acting_user, dry_run=dry_run,
                                progress=progress, parallel=not single_process)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except FileNotFoundError:
            raise CommandError(f"文件不存在：{file}") from None
        finally:
            progress.done()
        elapsed = time.monotonic() - started
        if result.ok:
            self.stdout.write(f"{result.summary()}（用时 {elapsed:.1f} 秒）")
            if settle and result.written:
                self._settle(sheet_kind, acting_user)
            return
        for error in result.errors[:PRINT_LIMIT]:
            self.stderr.write(str(error))
        if len(result.errors) > PRINT_LIMIT:
            self.stderr.write(f"……另有 {len(result.errors) - PRINT_LIMIT} 处错误未显示"
                              + ("" if errors else "（用 --errors 文件 导出完整错误报告）"))
        if errors:
            write_errors(result.errors, errors)
            self.stderr.write(f"错误报告已写入 {errors}")
        raise CommandError(result.summary())

    def _settle(self, sheet_kind, acting_user):
        try:
            report = sheet_kind.settle_imported(acting_user)
        except PermissionDenied as exc:
            raise CommandError(f"已导入，但不能结算：{exc}") from None
        self.stdout.write(f"结算 {report.settled} 条")
        if report.failed:
            for _pk, number, message in report.failed:
                self.stderr.write(f"结算单号 {number}：{message}")
            raise CommandError(f"已导入；{len(report.failed)} 条理赔未能结算（保持“录入”状态）")
