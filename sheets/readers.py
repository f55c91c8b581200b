"""Streaming readers of the files staff import (docs/spreadsheets.md §文件格式).

- ``.xlsx``: the first worksheet, formulas read as their cached values. Read by
  python-calamine (Rust; ≈ 20× openpyxl) when the sheet fits ``SHEETS_CALAMINE_MAX_BYTES``
  (its uncompressed XML, read from the zip's directory: calamine loads the whole sheet
  into memory, ≈ 1.9 × that size, docs/benchmarks.md), else streamed by openpyxl in
  read-only mode (rows are read from the zip one by one, the workbook is never loaded
  whole). Both give the same values (``_calamine_cell``); a sheet holding an error
  cell (``#DIV/0!`` …), which calamine would read as empty, is read by openpyxl.
- ``.csv``: UTF-8 with or without BOM, or GB18030 (Excel's “CSV” on a Chinese Windows);
  the encoding is detected from a BOM, else from the first MiB (valid UTF-8 → UTF-8,
  otherwise GB18030, a superset of GBK/GB2312). Comma- or tab-separated.

The header row is the first non-empty row. Empty rows, and a template's description row
(every filled cell starts with ``说明：``), are skipped. Row numbers are the spreadsheet's
own (header = row 1 in a plain file), as staff see them in Excel.
"""
from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings

from .parsing import is_empty

DESCRIPTION_PREFIX = "说明："
SNIFF_BYTES = 1 << 20
CALAMINE_MAX_BYTES = 100 << 20
"""Default of ``SHEETS_CALAMINE_MAX_BYTES``: the largest uncompressed worksheet XML read by
calamine (which loads the sheet whole: ≈ 1.9 × the XML in memory, docs/benchmarks.md);
larger sheets are streamed by openpyxl."""


class FileError(ValueError):
    """The file as a whole cannot be read (format, encoding, no header)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=len(head) < SNIFF_BYTES)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise FileError("无法识别文件编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV，"
                        "或 Excel（.xlsx）文件") from exc


def _csv_filled(values: list[str]) -> bool:
    """A csv row with a cell that is not empty or blank: its cells joined have a character
    that is not white space (one join, not a test per cell)."""
    joined = "".join(values)
    return bool(joined) and not joined.isspace()


def _is_description(values) -> bool:
    filled = False
    for v in values:
        if not isinstance(v, str):  # a number or date (xlsx): not a description; None: empty
            if v is None:
                continue
            return False
        v = v.strip()  # one strip per text cell (every csv cell)
        if not v:
            continue
        if not v.startswith(DESCRIPTION_PREFIX):
            return False  # usually the first filled cell
        filled = True
    return filled


def limits() -> tuple[int, int]:
    """(rows, columns) a file may have (``SHEETS_MAX_ROWS``, ``SHEETS_MAX_COLUMNS``): a
    3-million-row file compressed into a few hundred KB is refused, not read for minutes
    (issue 15, hole 6)."""
    return (getattr(settings, "SHEETS_MAX_ROWS", 1_000_000), getattr(settings, "SHEETS_MAX_COLUMNS", 200))


class SheetFile:
    """A file to import; ``rows()`` may be called again for a second pass."""

    def __init__(self, path, *, name: str | None = None):
        self.max_rows, self.max_columns = limits()
        self.path = Path(path)
        self.name = name or self.path.name
        suffix = Path(self.name).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            self.format = "xlsx"
        elif suffix in (".csv", ".txt"):
            self.format = "csv"
        elif suffix == ".xls":
            raise FileError("不支持旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或 CSV")
        else:
            raise FileError(f"不支持的文件类型“{suffix or self.name}”：请使用 .xlsx 或 .csv 文件")
        self.encoding = detect_encoding(self.path) if self.format == "csv" else None
        self.xlsx_reader: str | None = None  # "calamine" or "openpyxl", chosen at the first read
        self._calamine_sheet = None
        self.headers: list[str] = []
        self.header_row = 0
        for number, values in self._raw_rows():
            self.headers = ["" if is_empty(v) else str(v).strip() for v in values]
            self.header_row = number
            break
        while self.headers and not self.headers[-1]:
            self.headers.pop()
        if not self.headers:
            raise FileError("文件中没有表头行（第一行应为列名）")

    # ------------------------------------------------------------------ raw rows

    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        """(row number, cell values) of every non-empty row, header included; a file with
        more rows or columns than ``limits()`` is refused as a whole."""
        if self.format == "csv":  # every cell is a str
            rows = ((n, v) for n, v in self._csv_rows() if _csv_filled(v))
        else:
            rows = ((n, v) for n, v in self._xlsx_rows() if any(not is_empty(c) for c in v))
        for count, (number, values) in enumerate(rows):
            if count > self.max_rows:  # the header and max_rows data rows are allowed
                raise FileError(f"文件超过每个文件最多 {self.max_rows:,} 行数据的上限：请拆分成多个文件后分别导入")
            if len(values) > self.max_columns and any(not is_empty(c) for c in values[self.max_columns:]):
                raise FileError(f"第 {number} 行超过最多 {self.max_columns} 列的上限：请只保留模板中的列")
            yield number, values

    def _xlsx_rows(self):
        if self.xlsx_reader is None:
            layout = xlsx_layout(self.path)
            if layout is None:
                raise FileError(f"无法打开 Excel 文件“{self.name}”：文件已损坏或不是 .xlsx 格式")
            if layout.declared_rows > self.max_rows + 1000:  # the file's own <dimension>
                raise FileError(f"文件声明有 {layout.declared_rows:,} 行，超过每个文件最多 {self.max_rows:,} 行"
                                f"数据的上限：请拆分成多个文件后分别导入")
            self.xlsx_reader = "calamine" if layout.fits_calamine() else "openpyxl"
        if self.xlsx_reader == "calamine":
            yield from self._calamine_rows()
        else:
            yield from self._openpyxl_rows()

    def _calamine_rows(self):
        """The sheet loaded once by calamine (kept for the next pass: the header is read
        first, two-pass kinds read the rows twice), its rows converted as openpyxl gives
        them (``_calamine_cell``; a non-empty text cell, the usual one, inline)."""
        if self._calamine_sheet is None:
            from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

            try:
                with CalamineWorkbook.from_path(self.path) as book:
                    index = next(i for i, m in enumerate(book.sheets_metadata)
                                 if m.typ == SheetTypeEnum.WorkSheet)
                    self._calamine_sheet = book.get_sheet_by_index(index)
            except (CalamineError, StopIteration) as exc:
                raise FileError(f"无法打开 Excel 文件“{self.name}”：文件已损坏或不是 .xlsx 格式") from exc
        sheet = self._calamine_sheet
        start = sheet.start
        pad = [None] * (start[1] if start else 0)  # calamine drops the leading empty columns
        width = self.max_columns + 1 - len(pad)
        cell = _calamine_cell
        for number, values in enumerate(sheet.iter_rows(), start=1):  # rows from the sheet's first
            if len(values) > width:
                values = values[:width]
            yield number, pad + [(v or None) if type(v) is str else cell(v) for v in values]

    def _openpyxl_rows(self):
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            raise FileError(f"无法打开 Excel 文件“{self.name}”：文件已损坏或不是 .xlsx 格式") from exc
        try:
            sheet = book.worksheets[0]
            wide = sheet.max_column is not None and sheet.max_column > self.max_columns
            for number, values in enumerate(sheet.iter_rows(values_only=True,
                                                            max_col=self.max_columns + 1 if wide else None),
                                            start=1):
                yield number, list(values)
        finally:
            book.close()

    def _csv_rows(self):
        with open(self.path, encoding=self.encoding, newline="") as handle:
            first = handle.readline()
            delimiter = "\t" if first.count("\t") > first.count(",") else ","
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                yield from enumerate(reader, start=1)
            except UnicodeDecodeError as exc:
                raise FileError(f"文件第 {reader.line_num + 1} 行附近的字符无法按 {self.encoding} "
                                f"编码读取：请将整个文件另存为 UTF-8 或 GB18030 编码") from exc
            except csv.Error as exc:
                raise FileError(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}") from exc

    # ------------------------------------------------------------------ data rows

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number, values aligned with ``headers``) of every data row."""
        for number, values, _extra in self.rows_with_extra():
            yield number, values

    def rows_with_extra(self) -> Iterator[tuple[int, list, list[tuple[int, str]]]]:
        """(row number, values aligned with ``headers``, extra cells) of every data row.
        ``extra``: the filled cells of a csv row beyond the last header, as (column number,
        value) — an unquoted ``12,000,000`` splits into ``12``, ``000``, ``000``, so such a
        row is refused (the engine), never read as 12. An xlsx cell beyond the header is a
        cell without a column (a note beside the table) and is ignored."""
        width = len(self.headers)
        started = False
        for number, values in self._raw_rows():
            if not started:
                started = number == self.header_row
                continue
            if _is_description(values):
                continue
            extra = []
            if self.format == "csv" and len(values) > width:
                extra = [(i + 1, v) for i, v in enumerate(values[width:], start=width) if not is_empty(v)]
            values = list(values[:width])
            if len(values) < width:
                values += [None] * (width - len(values))
            yield number, values, extra


# --------------------------------------------------------------------------- xlsx


def _calamine_cell(value):
    """A calamine cell as openpyxl (read-only, cached values) gives it: an empty cell is
    None, not ""; a date cell a ``datetime`` (calamine: a ``date`` when the time is
    midnight); an integral number below 10^15 an ``int`` (openpyxl: ``int`` unless the
    stored number has a decimal point or an exponent). From 10^15 on it stays a float: a
    身份证号 typed as a number (stored by Excel with an exponent) is still refused as
    “须按文本填写”; so is a 16-digit integer, which openpyxl read as an int although Excel
    had already lost its last digits (the one difference, a stricter one)."""
    kind = type(value)
    if kind is str:
        return value if value else None
    if kind is float:
        return int(value) if value.is_integer() and -1e15 < value < 1e15 else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")
_FIRST_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"|<(?:\w+:)?sheet\b[^>]*?\bid=\"([^\"]+)\"")


class XlsxLayout:
    """What the zip's directory and the first bytes of the first worksheet say, before any
    reader loads it: the sheet's declared rows (``<dimension>``) and its uncompressed
    size (``fits_calamine``)."""

    def __init__(self, path: Path, sheet: str):
        self.path, self.sheet = path, sheet
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(sheet)
            self.sheet_bytes = info.file_size
            strings = [i for i in archive.infolist() if i.filename.lower() == "xl/sharedstrings.xml"]
            self.strings_bytes = strings[0].file_size if strings else 0
            with archive.open(sheet) as handle:
                head = handle.read(4096)
        match = _DIMENSION.search(head)
        self.declared_rows = int(match.group(1)) if match else 0

    def fits_calamine(self) -> bool:
        limit = getattr(settings, "SHEETS_CALAMINE_MAX_BYTES", CALAMINE_MAX_BYTES)
        return self.sheet_bytes + self.strings_bytes <= limit and not self.has_error_cells()

    def has_error_cells(self) -> bool:
        """Whether a cell holds an error value (``t="e"``: #DIV/0!, #N/A …): openpyxl reads
        it as its text (refused by the column's parser), calamine as an empty cell. Found by a
        byte search of the decompressed XML (≈ 0.2–0.4 s per 100 000 rows of 11 columns)."""
        tail = b""
        with zipfile.ZipFile(self.path) as archive, archive.open(self.sheet) as handle:
            while True:
                block = handle.read(1 << 20)
                if not block:
                    return False
                block = tail + block
                if b' t="e"' in block or b" t='e'" in block:
                    return True
                tail = block[-8:]


def xlsx_layout(path: Path) -> XlsxLayout | None:
    """The first worksheet's layout, or None when the file is not a readable xlsx."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = archive.read("xl/workbook.xml")
            rels = archive.read("xl/_rels/workbook.xml.rels")
            names = set(archive.namelist())
        targets = {m.group(1): m.group(2) for m in re.finditer(
            rb"<(?:\w+:)?Relationship\b(?=[^>]*\bId=\"([^\"]+)\")(?=[^>]*\bTarget=\"([^\"]+)\")[^>]*>", rels)}
        for match in _FIRST_SHEET.finditer(book):
            target = targets.get(match.group(1) or match.group(2))
            if target is None:
                continue
            target = target.decode()
            sheet = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            if "worksheets/" in sheet and sheet in names:  # not a chartsheet
                return XlsxLayout(path, sheet)
        return None
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error, ValueError):
        return None
