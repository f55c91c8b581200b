"""Exports of a kind, streamed (docs/spreadsheets.md §导出): the kind's scoped queryset
(the user's regions; optionally one region with its sub-regions and one plan year)
through the kind's django-import-export resource (Chinese headers, names for codes,
masking, formula escaping), written row by row."""
from __future__ import annotations

from .excel import scope_name, sheet_title
from .registry import SheetKind
from .writers import write_table

CHUNK = 2000


def export_rows(kind: SheetKind, *, user, region=None, year=None):
    """(headers, iterator of rows) of the kind's export for ``user``."""
    resource = kind.resource(user)
    queryset = kind.export_queryset(user, region=region, year=year)
    headers = resource.get_export_headers()

    def rows():
        for obj in queryset.iterator(chunk_size=CHUNK):
            yield resource.export_resource(obj)

    return headers, rows()


def run_export(kind: SheetKind, target, *, user, region=None, year=None, fmt: str | None = None,
               progress=None) -> int:
    headers, rows = export_rows(kind, user=user, region=region, year=year)

    def counted():
        for n, row in enumerate(rows, start=1):
            if progress is not None and n % CHUNK == 0:
                progress("导出", n)
            yield row

    scope = region.name if region is not None else scope_name(user)
    title = sheet_title(kind.label, scope, f"{year}年度" if year else None)
    return write_table(target, headers, counted(), fmt=fmt, title=title)
