"""Locating and reading the policy fixture files (spec README §5; layout in
``docs/policy-fixtures.md``).

``fixtures/codes.json`` holds the code tables (regions, identities, holiday calendar,
disease catalogues); ``fixtures/policies/<region code>_<name>.json`` holds one pooling
region's schemes and plan years. This module only finds and parses documents; writing
them into the database is ``policies.loading``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from .errors import PolicyFixtureError

CODES_FILE = "codes.json"
SYSTEMS_DIR = "policies"
DATA_LABEL = "<传入数据>"


@dataclass(frozen=True)
class FixtureDocument:
    """One parsed fixture document and the label used in messages (its file path)."""

    label: str
    data: dict

    @property
    def is_system(self) -> bool:
        """A system document (one region's schemes) rather than the code tables."""
        return "schemes" in self.data

    @property
    def region_code(self) -> str | None:
        return str(self.data.get("region")) if self.is_system else None


def default_fixtures_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures"


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


def read_document(path: Path) -> FixtureDocument:
    """Parse one JSON file; numbers with a decimal point become ``Decimal`` (never float)."""
    label = _label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFixtureError(f"无法读取文件 {label}：{exc}") from exc
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PolicyFixtureError(
            f"文件 {label} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from exc
    return _document(label, data)


def _document(label: str, data) -> FixtureDocument:
    if not isinstance(data, dict):
        raise PolicyFixtureError(f"文件 {label} 的顶层必须是 JSON 对象")
    doc = FixtureDocument(label, data)
    if doc.is_system:
        if not doc.region_code:
            raise PolicyFixtureError(f"文件 {label} 缺少统筹区代码（region）")
        name = Path(label).name
        if label != DATA_LABEL and not name.startswith(doc.region_code):
            raise PolicyFixtureError(
                f"文件 {label} 的文件名应以其统筹区代码 {doc.region_code} 开头（如 "
                f"{doc.region_code}_名称.json）")
    return doc


def _documents_in_dir(directory: Path) -> list[FixtureDocument]:
    docs = []
    codes = directory / CODES_FILE
    if codes.exists():
        docs.append(read_document(codes))
    systems = directory / SYSTEMS_DIR
    if systems.is_dir():
        docs.extend(read_document(p) for p in sorted(systems.glob("*.json")))
    if not docs:
        raise PolicyFixtureError(f"目录 {_label(directory)} 中没有政策文件（{CODES_FILE} 或 "
                                 f"{SYSTEMS_DIR}/*.json）")
    return docs


def collect_documents(path_or_data=None, *, region_code: str | None = None) -> list[FixtureDocument]:
    """The documents to load, code tables first.

    ``path_or_data``: ``None`` (the project's ``fixtures/``), a directory laid out like
    it, one JSON file, one parsed document (dict) or a list of them. ``region_code``
    keeps only that region's system documents (the code tables are always loaded).
    """
    if path_or_data is None:
        docs = _documents_in_dir(default_fixtures_dir())
    elif isinstance(path_or_data, dict):
        docs = [_document(DATA_LABEL, path_or_data)]
    elif isinstance(path_or_data, (list, tuple)):
        docs = [_document(DATA_LABEL, d) for d in path_or_data]
    else:
        path = Path(path_or_data)
        if path.is_dir():
            docs = _documents_in_dir(path)
        elif path.exists():
            docs = [read_document(path)]
        else:
            raise PolicyFixtureError(f"找不到政策文件或目录：{path}")
    if region_code:
        region_code = str(region_code)
        docs = [d for d in docs if not d.is_system or d.region_code == region_code]
        if not any(d.is_system for d in docs):
            raise PolicyFixtureError(f"没有找到统筹区 {region_code} 的政策文件")
    docs.sort(key=lambda d: d.is_system)  # stable: code tables first, systems in file order
    return docs
