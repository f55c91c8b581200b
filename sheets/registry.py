"""Kinds of sheets (persons, payments, …) and their columns. An app registers its kinds
in its ``sheet_kinds`` module (discovered at start-up by ``SheetsConfig.ready``)::

    from sheets.registry import Column, SheetKind, register

    @register
    class HospitalSheet(SheetKind):
        name = "hospitals"
        ...

A kind validates a chunk of parsed rows (``check``: adds errors through the context,
returns what it would write) and writes a checked chunk (``write``). The engine
(``sheets.engine``) calls ``check`` for the whole file first and ``write`` only when no
row is bad (docs/spreadsheets.md §如何增加一种表格).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .parsing import normalise_text
from .resources import build_resource

_KINDS: dict[str, type[SheetKind]] = {}


@dataclass(frozen=True)
class Column:
    """One column of a kind, for the import and the export alike (``sheets.resources``
    builds the export resource from the kind's columns).

    Import: ``parser`` turns a non-empty cell into the value (``None``: the cell as
    read), ``default`` is the value of an empty cell or a missing column. Export: the
    value at ``attribute`` (ORM path, default ``key``) through ``render`` (default: the
    parser's ``label``, e.g. a code's Chinese name), or ``export(obj, resource)``;
    ``mask(user, value)`` hides what a user may not see in full."""

    key: str
    header: str
    parser: Callable[[Any], Any] | None = None
    required: bool = False
    default: Any = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    export_only: bool = False  # written on export; ignored when such a file is imported
    attribute: str = ""
    render: Callable[[Any], Any] | None = None
    mask: Callable[[Any, Any], Any] | None = None
    export: Callable[[Any, Any], Any] | None = None

    def shown(self, value) -> str:
        """A parsed value as a clerk reads it (the import preview): a code's Chinese name
        (the parser's ``label``), 是/否, a row's name, nothing for an empty cell."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        label = getattr(self.parser, "label", None)
        return str(label(value) if label is not None and not hasattr(value, "_meta") else value)


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    present: frozenset = field(default_factory=frozenset)  # keys of the columns in the file
    filled: frozenset = field(default_factory=frozenset)  # keys of the non-empty cells

    def __getitem__(self, key):
        return self.values.get(key)

    def get(self, key, default=None):
        value = self.values.get(key)
        return default if value is None else value


def header_key(header: str) -> str:
    """Header as compared: normalised, without a required mark (*) or “（必填）”."""
    key = normalise_text(header).replace("*", "")
    for suffix in ("(必填)", "(选填)"):
        key = key.removesuffix(suffix)
    return key


class SheetKind:
    """Base class of a kind. Subclasses declare the class attributes and the columns
    (once, for import and export) and implement ``check``/``write`` (import) and
    ``export_queryset`` (export: rows of ``model``)."""

    name: str = ""
    label: str = ""
    columns: list[Column] = []
    import_permission: str = ""  # e.g. "enrollment.import_person"
    chunk_size: int = 2000
    model = None  # the model of the exported rows (``export_queryset``)
    # True: the engine checks and writes each chunk in one pass over the file (see
    # ``sheets.engine``). A kind may set it when ``check`` of a chunk gives the same
    # result whether or not the earlier chunks of the file are already written (it
    # finds rows of the file through ``ctx.state`` before looking in the database).
    one_pass: bool = False
    # "app_label.Model" of the tables the import writes: after a large import their
    # statistics are refreshed (``sheets.engine.refresh_statistics``).
    writes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ import

    def start(self, ctx) -> None:
        """Prepare ``ctx.state`` for a pass over the file (caches, keys seen)."""

    def check(self, rows: list[Row], ctx) -> list:
        """Validate ``rows``; report errors with ``ctx.error``; return the planned writes."""
        raise NotImplementedError

    def write(self, planned: list, ctx) -> None:
        """Write the planned rows of a chunk (called only when the whole file is valid)."""
        raise NotImplementedError

    def finish(self, ctx) -> None:
        """After the last chunk of the file was written, in the same transaction (kinds
        without ``one_pass``): work that needs the whole file, e.g. what a reconciliation
        file lacks (``finance.sheet_kinds``)."""

    def preview_row(self, row: Row) -> list:
        """The row as shown in the admin's preview (the parsed values, in words)."""
        return [c.shown(row.values.get(c.key)) for c in self.import_columns()]

    # ------------------------------------------------------------------ export

    def export_queryset(self, user, *, region=None, year=None):
        raise NotImplementedError

    @property
    def resource_class(self):
        """The django-import-export resource of the exports, built once per kind from
        its columns (``sheets.resources.build_resource``)."""
        kind = type(self)
        if "_resource_class" not in kind.__dict__:
            kind._resource_class = build_resource(
                kind.__name__.removesuffix("Sheet") + "Resource", self.model, self.columns,
                doc=f"{self.label}（导出）.")
        return kind._resource_class

    def resource(self, user):
        return self.resource_class(user=user)

    # ------------------------------------------------------------------ helpers

    def import_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.export_only]

    def has_column(self, key: str) -> bool:
        return any(c.key == key for c in self.columns)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def header(self, key: str) -> str:
        return self.column(key).header


class DuplicateKind(ValueError):
    """Two classes registered under one sheet kind name."""


def register(kind_class: type[SheetKind]) -> type[SheetKind]:
    """Register a kind; a second class under a name already taken is refused (an import
    would otherwise be checked by whichever module loaded last)."""
    if not kind_class.name:
        raise ValueError("a sheet kind needs a name")
    existing = _KINDS.get(kind_class.name)
    if existing is not None and (existing.__module__, existing.__qualname__) != (
            kind_class.__module__, kind_class.__qualname__):
        raise DuplicateKind(f"表格类型“{kind_class.name}”被重复注册：{existing.__module__}."
                            f"{existing.__qualname__} 与 {kind_class.__module__}.{kind_class.__qualname__}")
    _KINDS[kind_class.name] = kind_class
    return kind_class


def get_kind(name: str) -> SheetKind:
    try:
        return _KINDS[name]()
    except KeyError:
        known = "、".join(sorted(_KINDS)) or "（无）"
        raise KeyError(f"未知的表格类型“{name}”；可用：{known}") from None


def kind_names() -> list[str]:
    return sorted(_KINDS)
