"""Every text Django's admin scripts write on a page (the two-box pickers of 角色 / 负责统筹区 /
用户权限, the action bar, the calendar) is in the Chinese catalog the admin serves
(/admin/jsi18n/): Django 5.2's zh_Hans lacks some, which locale/zh_Hans/LC_MESSAGES/
djangojs.po supplies."""
import json
import re
from pathlib import Path

import django
from django.test import RequestFactory
from django.utils import translation
from django.views.i18n import JavaScriptCatalog

SCRIPTS = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "js"
STRING = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
CALL = re.compile(rf"\b(gettext|ngettext|pgettext)\(\s*{STRING}(?:\s*,\s*{STRING})?")


def script_texts() -> set[str]:
    """The catalog keys the admin's own scripts look up (``context\\x04text`` for pgettext)."""
    keys = set()
    for path in SCRIPTS.rglob("*.js"):
        if "vendor" in path.parts or path.name.endswith(".min.js"):
            continue
        for call, a1, a2, b1, b2 in CALL.findall(path.read_text(encoding="utf-8")):
            first = (a1 or a2).replace("\\'", "'").replace('\\"', '"')
            second = (b1 or b2).replace("\\'", "'").replace('\\"', '"')
            keys.add(f"{first}\x04{second}" if call == "pgettext" else first)
    return keys


def served_catalog() -> dict:
    request = RequestFactory().get("/admin/jsi18n/")
    with translation.override("zh-hans"):
        response = JavaScriptCatalog.as_view(packages=["django.contrib.admin"])(request)
    text = response.content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});\n", text, re.S).group(1))


def test_every_text_of_the_admin_scripts_is_in_chinese():
    texts = script_texts()
    assert 'Choose %s by selecting them and then select the "Choose" arrow button.' in texts
    assert "Remove all %s" in texts and len(texts) > 40
    catalog = served_catalog()
    missing = sorted(t for t in texts if t not in catalog)
    assert not missing, f"未翻译：{missing}"
    for text in texts:
        shown = catalog[text] if isinstance(catalog[text], str) else catalog[text][0]
        assert re.search(r"[\u4e00-\u9fff]", shown), f"{text!r} → {shown!r}"
