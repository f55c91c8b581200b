"""A change page's form as a browser would submit it, from the page's HTML (tests and
bench/plan_year_page_bench.py): inputs, checked boxes, selected options, text areas."""
from html.parser import HTMLParser


class FormData(HTMLParser):
    """The fields a browser would submit from ``form#<form_id>`` (no submit buttons)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []
        self.select: str | None = None
        self.options: list = []
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file", "image"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data.append((name, a.get("value") or "on"))
            else:
                self.data.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.textarea = name
            self.data.append((name, ""))

    def handle_data(self, data):
        if self.textarea:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [v for v, s in self.options if s] or [v for v, _ in self.options[:1]]
            self.data += [(self.select, v) for v in chosen]
            self.select = None
        elif tag == "textarea":
            if self.textarea:
                name, value = self.data[-1]
                self.data[-1] = (name, value.removeprefix("\n"))
            self.textarea = None


def form_post_data(html: str, form_id: str) -> dict[str, list[str]]:
    """What a browser posts from ``form#<form_id>`` as shown, saved with “保存并继续编辑”
    (``_continue``); the empty template rows (``__prefix__``) left out."""
    parser = FormData(form_id)
    parser.feed(html)
    out: dict[str, list] = {}
    for name, value in parser.data:
        if "__prefix__" not in name:
            out.setdefault(name, []).append(value)
    out["_continue"] = ["1"]
    return out
