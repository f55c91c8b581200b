"""Form widgets shared by the apps' admin forms.

``IsoDateInput`` is the one widget for an ``<input type="date">``. The browser reads and
sends its value in ISO 8601 (``2024-10-10``) whatever the page's language; Django's
``DateInput`` renders the *localized* first input format instead (zh-hans: ``2024/10/10``),
which the date input cannot read: it shows empty, and saving the form again loses the
date (issue 11). A date shown to be read (lists, read-only fields, print) keeps the local
format; only the value of a date *input* is ISO.

``textarea_line_breaks_install`` (run by ``PoliciesConfig.ready``): every ``<textarea>`` of
every form reads its submitted value with line breaks as stored, ``\n``. Browsers send a
textarea's line breaks as ``\r\n`` (HTML's form encoding) and Django keeps them: a text
with a line break saved unchanged was a change (``has_changed`` compared ``\r\n`` with
``\n``), stored ``\r\n`` and wrote a history row of two identical texts.
"""
import html

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeData, mark_safe

ISO_DATE = "%Y-%m-%d"


def stored_line_breaks(value):
    """A submitted text with ``\r\n`` and lone ``\r`` line breaks turned into ``\n``."""
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def textarea_line_breaks_install() -> None:
    """Make ``forms.Textarea`` (the admin's ``AdminTextareaWidget`` and every subclass)
    read submitted values through ``stored_line_breaks``: the form field cleans, and
    ``has_changed`` compares, the text as it is stored. Idempotent."""
    if getattr(forms.Textarea.value_from_datadict, "stored_line_breaks", False):
        return
    read = forms.Textarea.value_from_datadict

    def value_from_datadict(self, data, files, name):
        return stored_line_breaks(read(self, data, files, name))

    value_from_datadict.stored_line_breaks = True
    forms.Textarea.value_from_datadict = value_from_datadict


class IsoDateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ``YYYY-MM-DD``."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATE)


# --------------------------------------------------------------------------- fast rendering

INPUT_TEMPLATES = {f"django/forms/widgets/{name}.html" for name in (
    "input", "text", "number", "email", "url", "password", "hidden", "date", "checkbox")}
SELECT_TEMPLATE = "django/forms/widgets/select.html"
FORM_TEMPLATE = "django/forms/div.html"
# an empty error list renders as nothing (django/forms/errors/list/ul.html: {% if errors %});
# the inline tables print one per cell
ERROR_LIST_TEMPLATES = {"django/forms/errors/list/default.html", "django/forms/errors/list/ul.html"}


def conditional_escape(value) -> str:
    """``django.utils.html.conditional_escape`` without its lazy-string wrapper (the same
    ``html.escape``; ≈ 15 000 calls on the plan-year page, most of them on a plain string)."""
    if type(value) is str:  # not SafeString (a subclass), no __html__
        return html.escape(value)
    if isinstance(value, SafeData) or hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def html_attrs(attrs) -> str:
    """django/forms/widgets/attrs.html in Python."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def input_html(input_type, name, value, attrs) -> str:
    """django/forms/widgets/input.html in Python (``value`` None: no value attribute)."""
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (f'<input type="{conditional_escape(input_type)}" name="{conditional_escape(name)}"'
            f"{shown}{html_attrs(attrs)}>")


def select_open(name, attrs) -> str:
    """The opening tag of django/forms/widgets/select.html (``SELECT_CLOSE`` ends it)."""
    return f'<select name="{conditional_escape(name)}"{html_attrs(attrs)}>'


SELECT_CLOSE = "\n</select>"
OPTGROUP_CLOSE = "\n  </optgroup>"


def optgroup_open(label) -> str:
    """An optgroup's opening as select.html writes it (``OPTGROUP_CLOSE`` ends it)."""
    return f'\n  <optgroup label="{conditional_escape(label)}">'


def option_html(value, label, attrs) -> str:
    """django/forms/widgets/select_option.html in Python, with select.html's whitespace."""
    return (f'\n  <option value="{conditional_escape(str(value))}"{html_attrs(attrs)}>'
            f"{conditional_escape(label)}</option>\n")


class FastWidgetRenderer(DjangoTemplates):
    """The site's form renderer (``FORM_RENDERER``): pages with hundreds of plain inputs and
    selects (the plan-year page's rule tables: ≈ 1 200 widgets, ≈ 3 ms each through the
    widget templates; a list's action checkbox per row). Input, checkbox and select widgets
    are written in Python with the same HTML as Django's templates
    (django/forms/widgets/input.html, select.html, select_option.html, attrs.html), and so
    is a form of hidden fields only (django/forms/div.html); every other template goes
    through the templates as before."""

    def render(self, template_name, context, request=None):
        if template_name in ERROR_LIST_TEMPLATES and isinstance(context, dict) and not context.get("errors"):
            return mark_safe("")
        if (template_name == FORM_TEMPLATE and isinstance(context, dict) and context.get("fields") == []
                and not context.get("errors") and "hidden_fields" in context):
            # a form of hidden fields only, without errors (a formset's management form: 24
            # on the plan-year page): django/forms/div.html writes its fields, stripped
            return mark_safe("".join(str(field) for field in context["hidden_fields"]).strip())
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None and template_name in INPUT_TEMPLATES:
            return mark_safe(input_html(widget["type"], widget["name"], widget["value"], widget["attrs"]))
        if widget is not None and template_name == SELECT_TEMPLATE:
            parts = [select_open(widget["name"], widget["attrs"])]
            for group_name, options, _index in widget["optgroups"]:
                if group_name:
                    parts.append(optgroup_open(group_name))
                for option in options:
                    parts.append(option_html(option["value"], option["label"], option["attrs"]))
                if group_name:
                    parts.append(OPTGROUP_CLOSE)
            parts.append(SELECT_CLOSE)
            return mark_safe("".join(parts))
        return super().render(template_name, context, request)
