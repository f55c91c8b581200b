"""The all-or-nothing import of a file (spec README §6: on any error nothing is written
and every bad row is reported at once; docs/spreadsheets.md).

``run_import(kind, path, user=…, dry_run=…)`` (its errors reported by row, then column:
``sort_errors``):

1. the header row is matched against the kind's columns (missing required columns,
   unknown or repeated columns are file errors);
2. **validation** streams the rows in chunks: every cell is parsed (row and column of
   each bad cell reported), then the kind checks the chunk against the database and the
   rows already seen (keeping only the keys it needs for duplicate checks), so memory
   does not grow with the rows of a csv file;
3. **writing**, only when no row is bad and it is not a dry run, in one transaction:

   - a kind with ``one_pass`` checks and writes each chunk in the same pass (inside a
     savepoint): each chunk is checked against the database as it is just before its
     write, and a concurrent insert of the same key is refused by the unique
     constraints. At the first bad row the savepoint is rolled back (nothing written)
     and the rest of the file is only checked, so every error is still reported;
   - other kinds: pass 1 checks the whole file, then pass 2 reads the file again,
     checks each chunk again and writes it; an error in pass 2 (a concurrent change
     since pass 1) rolls everything back.

With ``parallel=True`` (``import_sheet`` and the import jobs; PostgreSQL, outside a
transaction) a one-pass import writes in a second thread (``_Writer``) with its own
connection: this thread reads, parses and checks chunk n + 1 while the writer copies
chunk n into the database, in its own single
transaction that commits only when the whole file was checked without an error. The
checks read the database as it was before the import plus what the kind keeps of the
file's earlier rows in ``ctx.state`` (the kinds keep everything they need there), so
they give the same answers as in one thread; the tests compare the two.
"""
from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable, Iterator
from itertools import islice

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, connections, transaction

from jobs.scope import current_scope

from .parsing import (
    CONTROL_CHARS,
    CellError,
    control_chars_message,
    extra_cells_message,
    shown_cell,
    visible_controls,
)
from .readers import FileError, SheetFile
from .registry import Column, Row, SheetKind, header_key
from .report import ImportResult, RowError

PREVIEW_ROWS = 20
ANALYZE_MIN_ROWS = 10_000  # rows written from which the tables' statistics are refreshed


class _Rollback(Exception):
    """Raised inside the transaction to undo pass 2."""


class ImportContext:
    """What a kind sees while checking/writing: the user, their regions (``jobs.scope``;
    ``sees_all`` for a system job), the error report, the counters and a per-pass
    ``state`` dict."""

    def __init__(self, kind: SheetKind, user, result: ImportResult, *, writing: bool):
        self.kind = kind
        self.user = user
        self.result = result
        self.writing = writing
        self.state: dict = {}
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}
        scope = None if user is None else current_scope()  # jobs.scope
        self.sees_all = scope is None or scope.sees_all(user)
        self.region_ids = frozenset() if self.sees_all else scope.region_ids(user)

    def in_scope(self, region_id) -> bool:
        return self.sees_all or region_id in self.region_ids

    def error(self, row: Row | int | None, key: str | None, message: str, value=None) -> None:
        number = row.number if isinstance(row, Row) else row
        header = self.kind.header(key) if key else ""
        if value is None and key and isinstance(row, Row):
            value = row.values.get(key)
        shown = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        self.result.errors.append(RowError(number, header, message, shown))

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n


def match_headers(kind: SheetKind, headers: list[str]) -> tuple[list[tuple[int, Column]], list[RowError]]:
    """(index, column) of each imported column, and the file errors of the header row."""
    by_key: dict[str, Column] = {}
    for column in kind.columns:
        for name in (column.header, *column.aliases):
            by_key.setdefault(header_key(name), column)
    mapping, errors, seen = [], [], {}
    for index, header in enumerate(headers):
        if not header:
            continue
        column = by_key.get(header_key(header))
        if column is None:
            known = "、".join(c.header for c in kind.import_columns())
            errors.append(RowError(None, header, f"无法识别的列名“{header}”；{kind.label}表可用的列："
                                                 f"{known}"))
            continue
        if column.key in seen:
            errors.append(RowError(None, header, f"列“{column.header}”重复出现（第 {seen[column.key] + 1} "
                                                 f"列和第 {index + 1} 列）"))
            continue
        seen[column.key] = index
        if not column.export_only:
            mapping.append((index, column))
    for column in kind.import_columns():
        if column.required and column.key not in seen:
            errors.append(RowError(None, column.header, f"缺少必填列“{column.header}”"))
    return mapping, errors


CACHE_SIZE = 4096  # results kept per column for repeated values of a cacheable parser
_MISSING = object()


def parse_rows(sheet: SheetFile, mapping, kind: SheetKind, result: ImportResult) -> Iterator[Row]:
    """Parsed rows; a row with a bad cell is reported (every bad cell) and not yielded.
    The results of a ``cacheable`` parser (``sheets.parsing.cacheable``) are reused for a
    value seen before in the column (keyed by type and value: ``1``, ``1.0`` and ``True``
    stay apart; a ``str``, by itself: no other key equals it)."""
    present = frozenset(column.key for _i, column in mapping)
    missing = {c.key: c.default for c in kind.import_columns() if c.key not in present}
    caches = {column.key: {} for _i, column in mapping if getattr(column.parser, "cacheable", False)}
    # each column's attributes read once, not once per cell
    cached = [(index, column.key, column.parser, column.required, column.default, column.header,
               caches.get(column.key)) for index, column in mapping]
    search_controls = CONTROL_CHARS.search
    for number, values, extra in sheet.rows_with_extra():
        parsed, bad, filled = dict(missing), False, []
        if extra:
            result.errors.append(RowError(number, "", extra_cells_message(extra, len(sheet.headers)),
                                          "、".join(shown_cell(v) for _c, v in extra[:5])))
            bad = True
        # a row of text cells (csv) without any control character — nearly every row — is
        # searched once, not once per cell
        try:
            clean = not search_controls("".join(values))
        except TypeError:  # a cell that is not text (xlsx): each cell is searched
            clean = False
        for index, key, parser, required, default, header, cache in cached:
            raw = values[index]
            if cache is not None:  # a value seen before in the column: parsed before (neither
                # empty nor with control characters); a str (every csv cell) is its own key
                hit = cache.get(raw if type(raw) is str else (type(raw), raw), _MISSING)
                if hit is not _MISSING:
                    filled.append(key)
                    parsed[key] = hit
                    continue
            if raw is None or (isinstance(raw, str) and (not raw or raw.isspace())):  # is_empty
                if required:
                    result.errors.append(RowError(number, header, f"请填写“{header}”"))
                    bad = True
                parsed[key] = default
                continue
            filled.append(key)
            if not clean and isinstance(raw, str) and search_controls(raw):
                result.errors.append(RowError(number, header, control_chars_message(header),
                                              visible_controls(raw)))
                bad = True
                continue
            if parser is None:
                parsed[key] = raw
                continue
            try:
                parsed[key] = value = parser(raw)
            except CellError as exc:
                result.errors.append(RowError(number, header, exc.message, str(raw)))
                bad = True
                continue
            if cache is not None and len(cache) < CACHE_SIZE:
                cache[raw if type(raw) is str else (type(raw), raw)] = value
        result.rows += 1
        if not bad:
            yield Row(number, parsed, present, frozenset(filled))


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def _preview(result: ImportResult, kind: SheetKind, chunk: list[Row]) -> None:
    if len(result.preview) < PREVIEW_ROWS:
        result.preview.extend([r.number, *kind.preview_row(r)]
                              for r in chunk[:PREVIEW_ROWS - len(result.preview)])


def _pass(kind, sheet, mapping, ctx, progress, *, keep_preview=False):
    result = ctx.result
    kind.start(ctx)
    for chunk in _chunks(parse_rows(sheet, mapping, kind, result), kind.chunk_size):
        if keep_preview:
            _preview(result, kind, chunk)
        planned = kind.check(chunk, ctx)
        if ctx.writing:
            if result.errors:
                raise _Rollback
            kind.write(planned, ctx)
        if progress is not None:
            progress("写入" if ctx.writing else "校验", result.rows)
    if ctx.writing:
        kind.finish(ctx)


class _Writer:
    """The writes of a one-pass import in a second thread with its own database
    connection and one transaction (module docstring). Chunks go through a bounded queue
    (the reader waits when the writer falls behind, so memory stays bounded);
    ``finish(commit=…)`` ends the transaction and returns None, or the database's refusal
    as a message. A thread, not a process: it runs inside a Celery prefork worker (which
    may not fork) and dies with its process — a killed import leaves no writer holding
    its transaction and locks (issue 15, hole 5); PostgreSQL rolls the transaction back
    when the connection drops."""

    POLL = 1.0  # seconds between two looks at whether the writer is still alive

    def __init__(self, kind: SheetKind, user):
        self.inbox: queue.Queue = queue.Queue(maxsize=2)
        self.outbox: queue.Queue = queue.Queue(maxsize=1)
        self.thread = threading.Thread(target=_writer_main, args=(kind, user, self.inbox, self.outbox),
                                       name="import-writer", daemon=True)
        self.thread.start()
        self.done = False

    @staticmethod
    def available() -> bool:
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    def _send(self, message) -> None:
        while True:
            try:
                self.inbox.put(message, timeout=self.POLL)
                return
            except queue.Full:
                if not self.thread.is_alive():
                    raise RuntimeError("写入线程意外退出，未写入任何数据") from None

    def write(self, planned: list) -> None:
        self._send(("write", planned))

    def finish(self, *, commit: bool) -> str | None:
        if self.done:
            return None
        self.done = True
        status, detail = "error", "写入线程意外退出，未写入任何数据"
        try:
            self._send(("commit" if commit else "rollback", None))
            while self.thread.is_alive() or not self.outbox.empty():
                try:
                    status, detail = self.outbox.get(timeout=self.POLL)
                    break
                except queue.Empty:
                    continue
        except RuntimeError:
            pass  # the writer died: its transaction died with its connection
        self.thread.join()
        if status == "error" and not commit:
            return None  # nothing was to be written anyway
        if status == "error":
            raise RuntimeError(f"写入线程出错：{detail}")  # an unexpected failure, not bad input
        return detail if status == "refused" else None


def _writer_main(kind: SheetKind, user, inbox: queue.Queue, outbox: queue.Queue) -> None:
    """The writer thread: write every chunk received in one transaction; on "commit"
    commit it, on "rollback" (or a refused write) roll it back. After a failed write the
    remaining chunks are received and dropped, so the sender never blocks. Foreign keys
    are checked at the end of each statement (``SET CONSTRAINTS ALL IMMEDIATE``) rather
    than all at the commit, which nothing could overlap."""
    status, detail = "ok", None
    try:
        ctx = ImportContext(kind, user, ImportResult(kind=kind.name, file_name=""), writing=True)
        with transaction.atomic():
            with connection.cursor() as cursor:  # check foreign keys per chunk, while the
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # next one is being checked
            while True:
                op, planned = inbox.get()
                if op == "write" and status == "ok":
                    try:
                        kind.write(planned, ctx)
                    except IntegrityError as exc:
                        status, detail = "refused", str(exc)
                elif op == "commit":
                    if status != "ok":
                        raise _Rollback
                    break
                elif op == "rollback":
                    status = "rolled back" if status == "ok" else status
                    raise _Rollback
    except _Rollback:
        pass
    except IntegrityError as exc:  # at commit: deferred constraints
        status, detail = "refused", str(exc)
    except BaseException:  # noqa: BLE001 - reported to the importing thread
        status, detail = "error", traceback.format_exc()
    finally:
        connections.close_all()  # this thread's own connections
    outbox.put((status, detail))


def _one_pass(kind, sheet, mapping, ctx, progress, writer: _Writer | None = None) -> None:
    """Check and write chunk by chunk; at the first error undo the writes (savepoint, or
    the writer thread's transaction) and only check the rest of the file
    (``ctx.writing`` becomes False)."""
    result = ctx.result
    kind.start(ctx)
    chunks = _chunks(parse_rows(sheet, mapping, kind, result), kind.chunk_size)
    try:
        with transaction.atomic():
            for chunk in chunks:
                _preview(result, kind, chunk)
                planned = kind.check(chunk, ctx)
                if result.errors:
                    raise _Rollback
                if writer is not None:
                    writer.write(planned)
                else:
                    kind.write(planned, ctx)
                if progress is not None:
                    progress("写入", result.rows)
    except _Rollback:
        ctx.writing = False
        if writer is not None:
            writer.finish(commit=False)
        for chunk in chunks:  # the rest of the file: report every error
            _preview(result, kind, chunk)
            kind.check(chunk, ctx)
            if progress is not None:
                progress("校验", result.rows)


def _integrity_error(result: ImportResult, exc: IntegrityError | str) -> None:
    result.errors.append(RowError(None, "", f"写入时数据库拒绝（可能有人同时导入了相同数据），"
                                            f"未写入任何数据：{exc}"))


def refresh_statistics(kind: SheetKind, result: ImportResult) -> None:
    """PostgreSQL, after an import that wrote ``ANALYZE_MIN_ROWS`` rows or more: ``ANALYZE``
    the kind's tables. The planner otherwise keeps the statistics of the tables before
    the import until autovacuum comes round (a minute or more), and the next import or
    batch settlement of the same rows — a re-import, an import of the payments of the
    persons just imported, ``settle_claims`` — reads them with plans made for empty
    tables (a re-import of 100 000 payments right after the import: 61 s instead of
    8.8 s; docs/benchmarks.md). Their history tables are left to autovacuum: nothing
    reads them in bulk (a record's history is read by its key, through the index on
    ``id``), and analyzing them cost the import 0.1–0.2 s of server CPU each per 100 000
    rows (docs/benchmarks.md, eleventh session)."""
    if connection.vendor != "postgresql" or not result.written or not kind.writes:
        return
    if result.counts.get("created", 0) + result.counts.get("updated", 0) < ANALYZE_MIN_ROWS:
        return
    tables = []
    for label in kind.writes:
        model = apps.get_model(label)
        tables.append(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def run_import(kind: SheetKind, path, *, user, dry_run: bool = False, name: str | None = None,
               progress: Callable[[str, int], None] | None = None, parallel: bool = False) -> ImportResult:
    """Validate the whole file, then (unless ``dry_run`` or any error) write it in one
    transaction. ``user=None`` is a system job (no permission or region check).
    ``parallel``: write in a second thread where possible (module docstring). A large
    import refreshes its tables' statistics (``refresh_statistics``).
    Raises ``PermissionDenied`` when the user lacks the kind's import permission."""
    if user is not None and kind.import_permission and not user.has_perm(kind.import_permission):
        raise PermissionDenied(f"您没有导入{kind.label}的权限")
    result = _run_import(kind, path, user=user, dry_run=dry_run, name=name, progress=progress,
                         parallel=parallel)
    sort_errors(kind, result)
    refresh_statistics(kind, result)
    return result


def sort_errors(kind: SheetKind, result: ImportResult) -> None:
    """The errors in the sheet's order: the file's own first, then by row and, within a
    row, the row as a whole before its cells from left to right. A chunk's cell errors
    are found while parsing and its rows' checks against each other and the database
    after, so without this a row's check error came after a later row's bad cell."""
    position = {c.header: i for i, c in enumerate(kind.columns)}
    result.errors.sort(key=lambda e: (e.row is not None, e.row or 0,
                                      -1 if not e.column else position.get(e.column, len(position))))


def _run_import(kind: SheetKind, path, *, user, dry_run, name, progress, parallel) -> ImportResult:
    result = ImportResult(kind=kind.name, file_name=name or str(path), dry_run=dry_run)
    try:
        sheet = SheetFile(path, name=name)
        mapping, header_errors = match_headers(kind, sheet.headers)
        if header_errors:
            result.errors.extend(header_errors)
            return result
        if kind.one_pass and not dry_run and parallel and _Writer.available():
            return _run_with_writer(kind, sheet, mapping, user, result, progress)
        with transaction.atomic():
            if kind.one_pass and not dry_run:
                ctx = ImportContext(kind, user, result, writing=True)
                try:
                    _one_pass(kind, sheet, mapping, ctx, progress)
                except IntegrityError as exc:
                    _integrity_error(result, exc)
                    raise _Rollback from exc
                result.counts = ctx.counts
                if result.errors:
                    raise _Rollback
                result.written = True
                return result
            check = ImportContext(kind, user, result, writing=False)
            _pass(kind, sheet, mapping, check, progress, keep_preview=True)
            result.counts = check.counts
            if result.errors or dry_run:
                return result
            rows_checked = result.rows
            result.rows = 0
            write = ImportContext(kind, user, result, writing=True)
            try:
                with transaction.atomic():
                    _pass(kind, sheet, mapping, write, progress)
            except IntegrityError as exc:
                _integrity_error(result, exc)
                raise _Rollback from exc
            if result.rows != rows_checked:
                result.errors.append(RowError(None, "", "文件在导入过程中被修改，未写入任何数据"))
                raise _Rollback
            result.counts = write.counts
            result.written = True
    except _Rollback:
        result.written = False
    except FileError as exc:
        result.errors.append(RowError(None, "", exc.message))
    return result


def _run_with_writer(kind, sheet, mapping, user, result: ImportResult, progress) -> ImportResult:
    writer = _Writer(kind, user)
    try:
        ctx = ImportContext(kind, user, result, writing=True)
        _one_pass(kind, sheet, mapping, ctx, progress, writer)
        result.counts = ctx.counts
        refused = writer.finish(commit=not result.errors)
    finally:
        writer.finish(commit=False)  # after an exception here: nothing is written
    if refused is not None:
        _integrity_error(result, refused)
    result.written = not result.errors
    return result
