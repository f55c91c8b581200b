"""What a user must never read on a page (issue: a clerk's whole day in the browser).

``visible_text(html)`` is the text a person sees: element text outside ``<script>``,
``<style>`` and hidden inputs, plus the labels of buttons (``value`` of submit inputs);
a rule row's own 代码 field (``field-code``, inputs named ``…code``) and the technical
columns of the login records (``DATA_FIELDS``) are left out: they are data, not developer text.
``findings(text)`` lists the developer text in it: ``None``/``True``/``False``, code
names (``snake_case`` words), raw codes of the code tables, file names of the code or of
the spec (``.md``, ``.py``), spec section marks (§, README), UTC times and English words
that are not proper names or units every clerk knows.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

# English a Chinese clerk reads every day: units, formats, product names, lab values
ALLOWED_WORDS = {
    "ID", "DRG", "C-DRG", "xlsx", "csv", "Excel", "WPS", "UTF", "BOM", "GB", "HbA1c", "OGTT",
    "mmHg", "mmol", "kg", "cm", "No", "SVG", "PDF", "CSV", "XLSX", "GB18030", "UTF-8",
    "Control", "Command", "Mac",  # keyboard keys, in Django's own Chinese help text
}
# Columns whose values are technical data by nature: a row's own 代码, what the login
# records of django-axes store (browser identifier, path, request data) and the audit log's
# hashes and recorded query strings (its ``get_data`` column).
DATA_FIELDS = ("code", "user_agent", "path_info", "http_accept", "get_data", "post_data", "hash",
               "previous_hash")
_DATA_CLASS = re.compile(r"(^|\s)field-(?:{})(\s|$)".format("|".join(DATA_FIELDS)))
RAW_CODE_MIN_LENGTH = 4  # shorter codes (a, b, c1) are too common in ordinary text


class _TextParser(HTMLParser):
    SKIP = {"script", "style", "template", "noscript"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._code_depth = 0  # inside a row's own 代码 field (data edited there, not developer text)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
            return
        attrs = dict(attrs)
        if tag not in self.VOID:
            if self._code_depth:
                self._code_depth += 1
            elif _DATA_CLASS.search(attrs.get("class") or ""):
                self._code_depth = 1
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag == "input" and attrs.get("type") not in ("hidden", "password", "submit", "button",
                                                         "checkbox", "radio", "file") \
                and attrs.get("value") and not re.search(r"(^|-)code$", attrs.get("name") or ""):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag not in self.VOID and self._code_depth:
            self._code_depth -= 1

    def handle_data(self, data):
        if not self._skip and not self._code_depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    return "\n".join(parser.parts)


def raw_codes() -> set[str]:
    """Every stored code of the code tables (``policies.codes``) that is a word of ASCII
    letters and underscores and long enough to be recognised in text."""
    from django.db import models

    from policies import codes

    found = set()
    for value in vars(codes).values():
        if isinstance(value, type) and issubclass(value, models.Choices) and value is not models.Choices:
            for code in value.values:
                if isinstance(code, str) and re.fullmatch(r"[a-z][a-z0-9_]+", code) \
                        and len(code) >= RAW_CODE_MIN_LENGTH:
                    found.add(code)
    return found


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
_CHECKS = [
    ("None/True/False", re.compile(r"(?<![A-Za-z])(None|True|False|null|undefined|NaN)(?![A-Za-z])")),
    ("代码名", re.compile(r"(?<![A-Za-z0-9])[a-z]+(?:_[a-z0-9]+)+(?![A-Za-z0-9])")),
    ("文件名", re.compile(r"[\w\-]+\.(?:md|py|html|json)\b")),
    ("规格章节", re.compile(r"§|README|spec\b")),
    ("UTC 时间", re.compile(r"UTC|\+00:00|\d\d:\d\dZ\b")),
    ("开发缩写", re.compile(r"(?<![A-Za-z])YTD(?![A-Za-z])")),
    ("对象编号", re.compile(r"[A-Z][a-z]+[A-Z][A-Za-z]+ ?#\d+|\b[A-Z][A-Za-z]+ object \(\d+\)")),
]


def user_names() -> set[str]:
    """Login names of the staff and the operating-system user who ran the commands the
    audit log records: proper names a page may show (操作人, 欢迎，…)."""
    from django.contrib.auth import get_user_model

    from audit.services import os_username

    return {*get_user_model().objects.values_list("username", flat=True), os_username()} - {""}


def findings(text: str, *, codes: set[str], allowed: set[str] = frozenset()) -> list[str]:
    """Developer text found in ``text`` as ``kind: snippet`` strings; ``allowed`` words
    (e.g. ``user_names()``) are proper names, not findings."""
    found = []
    for line in text.splitlines():
        for kind, pattern in _CHECKS:
            for m in pattern.finditer(line):
                if m.group(0) not in allowed:
                    found.append(f"{kind}：{m.group(0)}（{line[:80]}）")
        for m in _WORD.finditer(line):
            word = m.group(0)
            if word in codes:
                found.append(f"原始代码：{word}（{line[:80]}）")
            elif (len(word) > 2 and word not in ALLOWED_WORDS and word not in allowed
                  and not re.fullmatch(r"[A-Z0-9\-]+", word)):  # codes of hospitals, diseases
                found.append(f"英文：{word}（{line[:80]}）")
    return sorted(set(found))
