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
from functools import lru_cache
from html import unescape
from html.parser import attrfind_tolerant

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


SKIP = {"script", "style", "template", "noscript"}  # their text is not read
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
_SKIPPED_INPUTS = ("hidden", "password", "submit", "button", "checkbox", "radio", "file")
_CODE_NAME = re.compile(r"(^|-)code$")
# One token at a time, as the standard library's ``html.parser`` reads a well-formed page:
# text, a comment, a declaration or processing instruction, an end tag, a start tag (its
# quoted values may hold ">"), a lone "<". ``html.parser`` itself costs ≈ 20 ms a page in
# the page scans (≈ 1 300 pages per pass): this reads the same text in a third of that
# (tests/test_page_scan_text.py compares the two). Text of white space only, which is not
# read, is taken with the markup after it (or the page's end): no token of its own.
_TOKEN = re.compile(
    r"(\s*[^<\s][^<]*)"
    r"|\s*(?:<!--.*?(?:-->|\Z)|<[!?][^>]*>?"
    r"|</([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>|(</[^>]*>?)"
    r"|<([a-zA-Z][^\t\n\r\f />\x00]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    r"|(<)|\Z)", re.S)
_RAW_TEXT_END = {name: re.compile(rf"</\s*{name}\s*>", re.I) for name in ("script", "style")}
# Outside skipped elements and 代码 fields most markup changes nothing: white space, an end
# tag, a comment or declaration, a start tag other than SKIP's and input without "field-"
# in its attributes (the two checks of ``visible_text``). A run of it is passed over in one
# match: ≈ 170 000 tokens fewer in 200 pages.
_INERT = re.compile(
    r"(?:\s++|<!--.*?(?:-->|\Z)|<[!?][^>]*+>?|</[a-zA-Z][-.a-zA-Z0-9:_]*+\s*+>"
    r"|(?><(?!(?i:{})[\t\n\r\f />\x00])[a-zA-Z][^\t\n\r\f />\x00]*+"
    r"(?:[^>\"'f]++|f(?!ield-)|\"(?:[^\"f]++|f(?!ield-))*+\"|'(?:[^'f]++|f(?!ield-))*+')*+>))*+"
    .format("|".join(sorted(SKIP | {"input"}))), re.S)


def _attrs(text: str) -> dict:
    """A start tag's attributes as ``html.parser`` reads them (names lower-cased, values
    unescaped, ``None`` without a value, the last of a repeated name)."""
    out = {}
    k, n = 0, len(text)
    while k < n:
        m = attrfind_tolerant.match(text, k)
        if not m or m.end() == k:
            k += 1
            continue
        name, rest, value = m.group(1, 2, 3)
        if not rest:
            value = None
        elif value[:1] == "'" == value[-1:] or value[:1] == '"' == value[-1:]:
            value = value[1:-1]
        if value:
            value = unescape(value)
        out[name.lower()] = value
        k = m.end()
    return out


def visible_text(html: str) -> str:
    """The text a person sees on ``html``, one line per piece of text (module docstring)."""
    parts = []
    append = parts.append
    skip = code = 0  # inside a skipped element / a row's own 代码 field (element depth)
    pos, n = 0, len(html)
    match, inert = _TOKEN.match, _INERT.match
    while pos < n:
        if not skip and not code:
            pos = inert(html, pos).end()
            if pos == n:
                break
        m = match(html, pos)
        pos = m.end()
        text, end_name, bad_end, name, rest, lone = m.groups()
        if text is not None:
            if not skip and not code:
                text = (unescape(text) if "&" in text else text).strip()
                if text:
                    append(text)
        elif name is not None:
            tag = name.lower()
            if tag in SKIP:
                skip += 1
            else:
                if tag not in VOID:
                    if code:
                        code += 1
                    elif "field-" in rest and _DATA_CLASS.search(_attrs(rest).get("class") or ""):
                        code = 1
                if tag == "input":  # a button's label and a filled-in box's value are read
                    attrs = _attrs(rest)
                    kind, value = attrs.get("type"), attrs.get("value")
                    if kind in ("submit", "button") and value:
                        append(value)
                    if kind not in _SKIPPED_INPUTS and value and not _CODE_NAME.search(attrs.get("name") or ""):
                        append(value)
            if rest.endswith("/"):  # <x/>: started and ended
                if tag in SKIP and skip:
                    skip -= 1
                elif tag not in VOID and code:
                    code -= 1
            elif tag in _RAW_TEXT_END:  # a script's or style's content is not markup
                found = _RAW_TEXT_END[tag].search(html, pos)
                pos = found.start() if found else n
        elif end_name is not None:
            tag = end_name.lower()
            if tag in SKIP and skip:
                skip -= 1
            elif tag not in VOID and code:
                code -= 1
        elif lone is not None:
            if not skip and not code:
                append("<")
        elif bad_end is not None:
            raise ValueError(f"an end tag this reader does not know: {bad_end!r}")
    return "\n".join(parts)


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
    # a word of its own: not the letters inside a code (the authenticator's key 'HUTC N4CX …')
    ("UTC 时间", re.compile(r"(?<![A-Z0-9])UTC(?![A-Z0-9])|\+00:00|\d\d:\d\dZ\b")),
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
    (e.g. ``user_names()``) are proper names, not findings. Each line is read once per
    process (``_line_findings``): a page repeats most lines of the pages before it (the
    side bar, the header, the filters): 306 517 lines in the nine roles' 1 377 pages, 5 554
    of them different."""
    codes, allowed = frozenset(codes), frozenset(allowed)
    found = set()
    for line in text.splitlines():
        found.update(_line_findings(line, codes, allowed))
    return sorted(found)


@lru_cache(maxsize=1 << 16)
def _line_findings(line: str, codes: frozenset, allowed: frozenset) -> tuple[str, ...]:
    """``findings`` of one line."""
    found = []
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
    return tuple(found)
