"""The page scans read a page's text (tests/page_scan.py ``visible_text``) as the standard
library's ``html.parser`` reads it: compared on hand-written pages covering each rule and
on random pages built from the markup the admin writes. ``findings``, which remembers each
line's findings, reports what reading every line afresh reports."""
from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest

from tests.page_scan import _DATA_CLASS, SKIP, VOID, _line_findings, findings, visible_text


class ReferenceParser(HTMLParser):
    """The module docstring's rules on ``html.parser`` events."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.code = [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skip += 1
            return
        attrs = dict(attrs)
        if tag not in VOID:
            if self.code:
                self.code += 1
            elif _DATA_CLASS.search(attrs.get("class") or ""):
                self.code = 1
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag == "input" and attrs.get("type") not in ("hidden", "password", "submit", "button", "checkbox",
                                                         "radio", "file") \
                and attrs.get("value") and not re.search(r"(^|-)code$", attrs.get("name") or ""):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in SKIP and self.skip:
            self.skip -= 1
        elif tag not in VOID and self.code:
            self.code -= 1

    def handle_data(self, data):
        if not self.skip and not self.code and data.strip():
            self.parts.append(data.strip())


def reference(html: str) -> str:
    parser = ReferenceParser()
    parser.feed(html)
    return "\n".join(parser.parts)


PAGES = [
    "<!DOCTYPE html><html><head><title>参保人 | 系统</title><style>p > a { color: red }</style>"
    "<script>if (a < b && c > d) { x = '</p>'; }</script></head><body><p>你好&nbsp;世界 &amp; 朋友</p></body></html>",
    '<td class="field-code">abc_def<span>raw_code</span></td><td class="field-name">名称</td>',
    '<div class="x field-hash y"><div><p>hash</p></div><br><img src="a.png"/>tail</div>after',
    '<input type="submit" value="保存"><input type="hidden" value="secret"><input value="填写">'
    '<input type="text" name="rows-0-code" value="c1"><input type="button" value="取消" />'
    '<INPUT TYPE="TEXT" VALUE="大写">',
    '<a href="/x?a=1&amp;b=2" title="a > b">链接</a> a < b <br/> 1 &lt; 2',
    "<!-- 注释 <p>不读</p> --><template><p>模板</p><input value=\"模板值\"></template><noscript>无脚本</noscript>",
    '<p data-x=\'单引号 > 值\' checked>选中</p><p class=field-code>未加引号</p>尾',
    '<div class="field-code"><input value="代码内输入"><div/>仍在代码内</div>代码外',
    "<?xml version='1.0'?><p>处理指令后</p><![CDATA[x]]>",
    '<select name="s"><option value="1" selected>一</option>\n  <optgroup label="组"><option>二</option></optgroup></select>',
    # markup passed over in one match outside code fields (``_INERT``) and what ends such a run
    "<fieldset><legend>组</legend></fieldset><inputx>非输入框</inputx><Input Value='大写输入'>"
    "<span f ff fi='fiel' title=\"field\">普通</span><b data-x='field-code'>单引号</b>后"
    "<TD CLASS='x field-code'>代码<i>内</i></TD><Template>不读</Template><SCRIPT>x</SCRIPT>尾",
    '<p class="field-name">\n  <a title="a>b">名</a>  </p>\n\n  <br/> <!-- x --> <td class=field-code>c</td>  末 ',
]


@pytest.mark.parametrize("html", PAGES)
def test_reads_as_html_parser(html):
    assert visible_text(html) == reference(html)


def _random_page(rng: random.Random, depth: int = 0) -> str:
    texts = ["文字", " 金额 1,234.56 ", "a < b", "&amp;", "&lt;tag&gt;", "\n  ", "x&nbsp;y", "", "None"]
    attrs = ['', ' class="field-code"', ' class="a field-hash"', ' class="field-name"', ' title="a > b"',
             " data-v='c > d'", ' checked', ' href="/p?a=1&amp;b=2"', ' CLASS="field-code"']
    out = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.random()
        if kind < 0.3 or depth > 2:
            out.append(rng.choice(texts))
        elif kind < 0.4:
            t = rng.choice(["text", "hidden", "submit", "button", "checkbox", "number", ""])
            typ = f' type="{t}"' if t else ""
            name = rng.choice(['', ' name="x-code"', ' name="amount"'])
            value = rng.choice(['', ' value="值"', ' value="a &amp; b"', " value=''"])
            out.append(f"<input{typ}{name}{value}{rng.choice(['', '/', ' /'])}>")
        elif kind < 0.45:
            out.append(rng.choice(["<br>", "<br/>", "<img src='x'>", "<hr />", "<!-- c <p>x</p> -->"]))
        elif kind < 0.5:
            out.append(rng.choice(["<script>var a = 1 < 2; '</div>'</script>", "<style>a>b{}</style>"]))
        else:
            tag = rng.choice(["div", "p", "span", "td", "template", "noscript", "a", "DIV"])
            inner = _random_page(rng, depth + 1)
            if rng.random() < 0.1:
                out.append(f"<{tag}{rng.choice(attrs)}/>{inner}")
            else:
                out.append(f"<{tag}{rng.choice(attrs)}>{inner}</{tag}>")
    return "".join(out)


def test_reads_random_pages_as_html_parser():
    rng = random.Random(20261204)
    pages = [_random_page(rng) for _ in range(600)]
    assert sum("field-code" in p for p in pages) > 100  # the pages exercise the rules
    for html in pages:
        assert visible_text(html) == reference(html), html


def _reference_findings(text, *, codes, allowed=frozenset()):
    """``findings`` as it read each line afresh, before remembering them."""
    read = _line_findings.__wrapped__
    return sorted({found for line in text.splitlines() for found in read(line, frozenset(codes), frozenset(allowed))})


def test_findings_remembered_per_line_as_read_afresh():
    """The same lines under other codes and allowed names give their own findings."""
    rng = random.Random(20261205)
    lines = ["参保人 None", "raw_code 出现", "self_pay 金额", "admin 操作", "jingban_dj 欢迎", "README §3",
             "2026-12-05 01:00 UTC", "Access attempts", "普通文字", "ID 与 DRG", "CamelCase #12", "x.py", ""]
    settings = [(set(), set()), ({"self_pay", "raw_code"}, set()), ({"self_pay"}, {"admin", "jingban_dj"}),
                (frozenset({"raw_code"}), frozenset({"Access"}))]
    for _ in range(300):
        text = "\n".join(rng.choice(lines) for _ in range(rng.randint(0, 12)))
        codes, allowed = rng.choice(settings)
        assert findings(text, codes=codes, allowed=allowed) == _reference_findings(text, codes=codes,
                                                                                   allowed=allowed), text


def test_utc_is_found_as_a_word_not_inside_a_key():
    """“UTC” written as a time zone is developer text; the same letters inside the
    authenticator's random key (密钥 “Z2WI CWI3 XXOM VZJF HUTC …”) are not."""
    assert [f.split("：")[0] for f in findings("2026-12-05 01:00 UTC", codes=set())] == ["UTC 时间"]
    assert [f.split("：")[0] for f in findings("时间（UTC）", codes=set())] == ["UTC 时间"]
    assert findings("密钥：Z2WI CWI3 XXOM VZJF HUTC N4CX 6NME 5AYB", codes=set()) == []
