"""The spreadsheet writer of the audit page's export. The audit app sits below ``sheets``
in the import layers, so ``sheets`` registers its one writer of every workbook the product
writes (``sheets.writers.write_table``: typed cells, formulas escaped) at start-up
(``SheetsConfig.ready``), as ``policies`` registers the regions' scope with ``jobs``."""
from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_writer: Callable | None = None


def register_table_writer(writer: Callable) -> None:
    """``writer(target, headers, rows, *, fmt, title)`` writes a table as xlsx or csv."""
    global _writer
    _writer = writer


def table_writer() -> Callable:
    if _writer is None:
        raise ImproperlyConfigured("No table writer registered: is the sheets app installed?")
    return _writer
