"""``manage.py import_sheet KIND FILE [--dry-run] [--user USERNAME] [--errors FILE] [--settle]
[--single-process]``: import a spreadsheet all-or-nothing (docs/spreadsheets.md); on
PostgreSQL persons and payments are written by a second process while the file is being
checked (``sheets.engine``), unless ``--single-process``. Exit code 0 when the file
was imported (or, with --dry-run, would be), 1 when any row is bad (nothing written; the
error report is printed and optionally written to --errors as .xlsx/.csv). ``--settle``
(kinds with ``settle_imported``, i.e. claims): after a successful import the imported
claims are settled in a batch in this process (``claims.batch``); a claim the engine refuses stays 录入,
is listed on stderr and makes the exit code 1 (the import itself stays written).
``--background``: the file is stored and imported by the job ``sheet_import`` (with
``--dry-run``: checked by ``sheet_check``) on a Celery worker, as an upload in the admin
is; the command prints the job's number and returns at once (docs/jobs.md).
An import (not a --dry-run, which writes nothing) is an entry of the 审计日志 when it ends:
who (the --user, else the OS user), kind, file, and 完成 with rows and result, or 失败 /
校验未通过 (nothing written). A file refused at its header (nothing read: decided before any
query) is not recorded."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from audit.models import Action
from audit.services import audit_command, audit_record
from jobs.management.acting_user import find_user
from jobs.scope import current_scope
from jobs.services import job_start
from sheets.engine import run_import
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
        parser.add_argument("--background", action="store_true",
                            help="作为后台任务由 celery worker 导入（或校验），立即返回；在“我的任务”页面查看进度和错误报告")
        parser.add_argument("--single-process", action="store_true",
                            help="校验和写入在同一进程中进行（默认在 PostgreSQL 上由另一进程同时写入）")

    def handle(self, *args, kind, file, dry_run, user, errors, settle=False, single_process=False,
               background=False, **options):
        try:
            sheet_kind = get_kind(kind)
        except KeyError as exc:
            raise CommandError(f"{exc.args[0]}（已注册：{'、'.join(kind_names())}）") from None
        if settle and not hasattr(sheet_kind, "settle_imported"):
            raise CommandError(f"{sheet_kind.label}表格不支持 --settle")
        acting_user = find_user(user)
        if background:
            return self._background(sheet_kind, file, acting_user, dry_run=dry_run, settle=settle, errors=errors)
        progress = Progress(sys.stderr)
        started = time.monotonic()
        audited = not dry_run
        try:
            result = run_import(sheet_kind, file, user=acting_user, dry_run=dry_run,
                                progress=progress, parallel=not single_process)
        except PermissionDenied as exc:
            if audited:
                self._audit(sheet_kind, file, acting_user, "失败（未写入任何数据）", reason=str(exc))
            raise CommandError(str(exc)) from None
        except FileNotFoundError:
            if audited:
                self._audit(sheet_kind, file, acting_user, "失败（未写入任何数据）", reason="文件不存在")
            raise CommandError(f"文件不存在：{file}") from None
        except BaseException:
            if audited:
                self._audit(sheet_kind, file, acting_user, "失败（未写入任何数据）")
            raise
        finally:
            progress.done()
        elapsed = time.monotonic() - started
        if audited and (result.ok or result.rows):
            self._audit(sheet_kind, file, acting_user, "完成" if result.ok else "校验未通过（未写入任何数据）",
                        rows=result.rows, result=result.summary())
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

    @staticmethod
    def _audit(sheet_kind, file, acting_user, stage, **details):
        with audit_command("命令行导入表格"):
            audit_record(action=Action.IMPORT, user=acting_user, obj=sheet_kind.label,
                         details={"stage": stage, "kind": sheet_kind.label, "file": file, **details})

    def _background(self, sheet_kind, file, acting_user, *, dry_run, settle, errors):
        if settle:
            raise CommandError("--background 不能与 --settle 同时使用：导入任务完成后请用 settle_claims 结算")
        if errors:
            raise CommandError("--background 时错误报告保存在任务页面，不能使用 --errors")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        scope = current_scope()
        regions = [] if acting_user is None or scope.sees_all(acting_user) else sorted(scope.region_ids(acting_user))
        action = "校验" if dry_run else "导入"
        with path.open("rb") as handle:
            job = job_start(kind="sheet_check" if dry_run else "sheet_import",
                            title=f"{action}{sheet_kind.label}表格：{path.name}", acting_user=acting_user,
                            params={"sheet_kind": sheet_kind.name}, input_file=File(handle, name=path.name),
                            input_name=path.name, region_ids=regions)
        self.stdout.write(f"后台任务 {job.pk}（{job.title}）已提交，在管理后台“我的任务”中查看进度")

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
