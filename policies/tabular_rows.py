"""The rows of a rule table on the plan-year page, written in Python.

Django's ``admin/edit_inline/tabular.html`` renders each row through ≈ 40 template nodes
per cell (``{% for %}`` over fieldsets, lines and fields, a dozen variable lookups, the
helper objects ``InlineAdminForm``/``Fieldline``/``AdminField`` built per cell): on the
plan-year page, ≈ 230 rows and ≈ 1 200 cells, that machinery cost about as much as the
widgets themselves. ``render_rows`` writes the same bytes as the template's
``{% for inline_admin_form in inline_admin_formset %}…{% endfor %}`` loop (the template
``admin/policies/edit_inline/plan_rows.html`` is Django's ``tabular.html`` with that loop
replaced by ``{% plan_rows inline_admin_formset %}``), with what does not change from row
to row worked out once per table:

- the cell's wrapper (``<td class="field-…">`` and its whitespace) once per column;
- the URLs of the 历史 and 修改 links once per model (``reverse`` with a placeholder key,
  then the row's key put in), and the related-object wrapper around a select (the
  新增/修改/删除 links: a template and four ``reverse`` per widget) rendered once per
  column, the row's own select put in;
- a read-only cell's helper (``AdminReadonlyField``: its label and help text are looked
  up on construction) built once per column, only its form changed per row;
- a select's options once per column (a row only marks its selected option);
- plain inputs (text, number, hidden, checkbox) written from the widget's own ``format_value`` and
  ``build_attrs``, without ``as_widget``'s context and template dispatch.

Everything else — autocomplete boxes, the row labels, a read-only cell's
contents, the error lists — is rendered by the same Django code as before. policies/tests/test_plan_rows.py
renders every rule table of a plan year both ways and compares them byte for byte.
"""
from __future__ import annotations

from django import forms
from django.contrib.admin.helpers import AdminReadonlyField, InlineAdminForm
from django.contrib.admin.templatetags.admin_modify import cell_count
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.forms.formsets import DELETION_FIELD_NAME
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from .widgets import (
    INPUT_TEMPLATES,
    OPTGROUP_CLOSE,
    SELECT_CLOSE,
    conditional_escape,
    input_html,
    optgroup_open,
    option_html,
    select_open,
)

# a key no row has; reverse() writes it unchanged (digits need no quoting)
KEY_PLACEHOLDER = "9073514286"
NAME_PLACEHOLDER = "plan-rows-widget-name"
WIDGET_PLACEHOLDER = "plan-rows-rendered-widget"

ROW_START = "\n        "
ROW_ERRORS = '\n        <tr class="row-form-errors"><td colspan="{}">{}</td></tr>\n        '
CELL_END = "\n              </td>\n            "


def url_template(name: str, current_app: str | None = None) -> str | None:
    """``reverse(name, args=[KEY_PLACEHOLDER])``: the URL of any key once the placeholder
    is replaced (``None``: no such URL)."""
    try:
        return reverse(name, args=[KEY_PLACEHOLDER], current_app=current_app)
    except NoReverseMatch:
        return None


def keyed_url(template: str, key) -> str:
    """The URL ``template`` for ``key`` (already quoted for the admin)."""
    return template.replace(KEY_PLACEHOLDER, str(key))


def plain_key(key) -> bool:
    """Whether ``key`` goes into a URL unchanged by ``reverse`` (its quoting)."""
    return isinstance(key, int) or (isinstance(key, str) and key.isascii() and key.isalnum())


def plain_select(widget) -> bool:
    """Whether ``widget`` is a single ``Select`` rendered as Django renders it (its context,
    options and template not changed by a subclass: an autocomplete box is not)."""
    kind = type(widget)
    return (isinstance(widget, forms.Select) and not widget.allow_multiple_selected
            and kind.get_context is forms.Select.get_context and kind.optgroups is forms.Select.optgroups
            and kind.create_option is forms.Select.create_option and kind.render is forms.Widget.render
            and widget.template_name == "django/forms/widgets/select.html"
            and widget.option_template_name == "django/forms/widgets/select_option.html"
            and not widget.option_inherits_attrs)


def plain_input(widget) -> bool:
    """Whether ``widget`` is an ``<input>`` rendered as Django renders it (text, number,
    hidden, checkbox, …: ``Input``'s or ``CheckboxInput``'s context, the input templates)."""
    kind = type(widget)
    context = forms.CheckboxInput.get_context if isinstance(widget, forms.CheckboxInput) else forms.widgets.Input.get_context
    return (isinstance(widget, forms.widgets.Input) and kind.get_context is context
            and kind.render is forms.Widget.render and widget.template_name in INPUT_TEMPLATES)


def select_options(widget) -> list[tuple[str | None, str, str]]:
    """``(value, option, option selected)`` of each option of ``widget``, the HTML of
    ``ChoiceWidget.optgroups`` as the templates write it; an optgroup's opening and closing
    have no value. The first option whose value is among the row's is the selected one."""
    out = []
    for group_name, options, _index in widget.optgroups("", []):
        if group_name:
            opening = optgroup_open(group_name)
            out.append((None, opening, opening))
        for option in options:
            value, label, attrs = str(option["value"]), option["label"], option["attrs"]
            out.append((value, option_html(value, label, attrs),
                        option_html(value, label, {**attrs, **widget.checked_attribute})))
        if group_name:
            out.append((None, OPTGROUP_CLOSE, OPTGROUP_CLOSE))
    return out


class ReadonlyCell(AdminReadonlyField):
    """``AdminReadonlyField`` built once per column (its label and help text looked up
    once), pointed at each row's form in turn; links to related rows from one
    ``reverse`` per model."""

    def __init__(self, form, field, is_first, model_admin, urls: dict):
        super().__init__(form, field, is_first, model_admin=model_admin)
        self.urls = urls

    def get_admin_url(self, remote_field, remote_obj):
        key = quote(remote_obj.pk)
        name = f"admin:{remote_field.model._meta.app_label}_{remote_field.model._meta.model_name}_change"
        if not plain_key(key):
            return super().get_admin_url(remote_field, remote_obj)
        if name not in self.urls:
            self.urls[name] = url_template(name, self.model_admin.admin_site.name)
        template = self.urls[name]
        if template is None:
            return str(remote_obj)
        return mark_safe(f'<a href="{conditional_escape(keyed_url(template, key))}">'
                         f"{conditional_escape(remote_obj)}</a>")


class RowsRenderer:
    """The rows of one ``InlineAdminFormSet`` as ``tabular.html`` writes them."""

    def __init__(self, inline_admin_formset):
        self.admin_formset = ifs = inline_admin_formset
        self.formset = ifs.formset
        self.inline = ifs.opts
        self.prefix = self.formset.prefix
        self.fk = getattr(self.formset, "fk", None)
        self.urls: dict = {}
        self.wrappers: dict = {}
        self.readonly_cells: dict = {}
        self.options: dict = {}
        self.editable_readonly = tuple(ifs.readonly_fields)
        self.viewing_readonly = (self.editable_readonly if ifs.has_change_permission
                                 else self.editable_readonly + tuple(flatten_fieldsets(ifs.fieldsets)))
        self.can_delete = self.formset.can_delete and ifs.has_delete_permission
        self.explicit_pk = None
        self.change_link = None

    # -- per table ----------------------------------------------------------------------

    def rows(self):
        """``(form, original, readonly fields)`` in ``InlineAdminFormSet.__iter__``'s order."""
        ifs = self.admin_formset
        for form, original in zip(self.formset.initial_forms, self.formset.get_queryset(), strict=False):
            yield form, original, self.viewing_readonly
        for form in self.formset.extra_forms:
            yield form, None, self.editable_readonly
        if ifs.has_add_permission:
            yield self.formset.empty_form, None, self.editable_readonly

    def render(self) -> str:
        rows = list(self.rows())
        out = []
        last = len(rows) - 1
        for index, (form, original, readonly) in enumerate(rows):
            out.append(self.row(index, index == last, form, original, readonly))
        return mark_safe("".join(out))

    # -- per row ------------------------------------------------------------------------

    def row(self, index, last, form, original, readonly) -> str:
        ifs = self.admin_formset
        inline = self.inline
        view_on_site_url = inline.get_view_on_site_url(original) if original is not None else None
        show_url = bool(original) and view_on_site_url is not None
        parts = [ROW_START]
        errors = form.non_field_errors()
        if errors:
            admin_form = InlineAdminForm(self.formset, form, ifs.fieldsets, ifs.prepopulated_fields,
                                         original, readonly, model_admin=inline,
                                         view_on_site_url=view_on_site_url)
            parts.append(ROW_ERRORS.format(cell_count(admin_form), conditional_escape(errors)))
        empty = last and ifs.has_add_permission
        parts.append('\n        <tr class="form-row ')
        if original or show_url:
            parts.append("has_original")
        if empty:
            parts.append(" empty-form")
        parts.append(f'"\n             id="{conditional_escape(self.prefix)}-')
        parts.append("empty" if empty else str(index))
        parts.append('">\n        <td class="original">\n          ')
        if original or show_url:
            parts.append("<p>\n          ")
            if original:
                parts.append(f"\n          {conditional_escape(original)}\n          ")
                parts.append(self.change_link_html(original))
                parts.append("\n          ")
            parts.append("\n          ")
            if show_url:
                parts.append(f'<a href="{conditional_escape(view_on_site_url)}">'
                             f'{conditional_escape(gettext("View on site"))}</a>')
            parts.append("\n            </p>")
        parts.append("\n          ")
        if self.needs_explicit_pk(form, original, readonly):
            parts.append(self.widget(form[self.formset._pk_field.name]))
        parts.append("\n          ")
        if self.fk:
            parts.append(self.widget(form[self.fk.name]))
        parts.append("\n        </td>\n        ")
        for _name, options in ifs.fieldsets:
            parts.append("\n          ")
            for line in options["fields"]:
                if self.fk and self.fk.name == line:
                    continue
                parts.append("\n            ")
                fields = [line] if isinstance(line, str) or not hasattr(line, "__iter__") else line
                for i, field in enumerate(fields):
                    parts.append(self.cell(form, field, i == 0, readonly))
                parts.append("\n          ")
            parts.append("\n        ")
        parts.append('\n        <td class="delete">')
        if self.can_delete and original:
            parts.append(self.widget(form[DELETION_FIELD_NAME]))
        parts.append("</td>\n        </tr>\n     ")
        return "".join(parts)

    def needs_explicit_pk(self, form, original, readonly) -> bool:
        if self.explicit_pk is None:
            self.explicit_pk = bool(InlineAdminForm(
                self.formset, form, self.admin_formset.fieldsets, {}, original, readonly,
                model_admin=self.inline).needs_explicit_pk_field())
        return self.explicit_pk

    def change_link_html(self, original) -> str:
        inline = self.inline
        if not (inline.show_change_link and inline.has_registered_model):
            return ""
        if self.change_link is None:
            opts = inline.opts
            self.change_link = url_template(f"admin:{opts.app_label}_{opts.model_name}_change",
                                            inline.admin_site.name)
            if self.admin_formset.has_change_permission:
                self.change_link_kind = ("inlinechangelink", gettext("Change"))
            else:
                self.change_link_kind = ("inlineviewlink", gettext("View"))
        key = quote(original.pk)
        if self.change_link is None or not plain_key(key):
            opts = inline.opts
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[key],
                          current_app=inline.admin_site.name)
        else:
            url = keyed_url(self.change_link, key)
        css, text = self.change_link_kind
        return f'<a href="{conditional_escape(url)}" class="{css}">{conditional_escape(text)}</a>'

    # -- per cell -----------------------------------------------------------------------

    def cell(self, form, field, is_first, readonly) -> str:
        if field in readonly:
            cell = self.readonly_cell(form, field, is_first)
            css = f"field-{cell.field['name']}" if cell.field["name"] else ""
            if cell.field["is_hidden"]:
                css += " hidden"
            return (f'\n              <td class="{conditional_escape(css)}">\n              '
                    f"\n                  <p>{cell.contents()}</p>\n              {CELL_END}")
        bound = form[field]
        css = f"field-{bound.name}" if bound.name else ""
        if bound.is_hidden:
            css += " hidden"
        errors = form.errors.get(bound.name)
        return (f'\n              <td class="{conditional_escape(css)}">\n              '
                f"\n                  {errors.as_ul() if errors else ''}"
                f"\n                  {self.widget(bound)}\n              {CELL_END}")

    def readonly_cell(self, form, field, is_first) -> ReadonlyCell:
        key = (field, is_first)
        cell = self.readonly_cells.get(key)
        if cell is None:
            cell = self.readonly_cells[key] = ReadonlyCell(form, field, is_first, self.inline, self.urls)
        cell.form = form
        return cell

    def widget(self, bound) -> str:
        """``str(bound)`` (``BoundField.as_widget``); a select inside the related-object
        wrapper is rendered alone and put into the wrapper rendered once per column; a
        plain select's options are written once per column (``select``)."""
        widget = bound.field.widget
        wrapped = type(widget) is RelatedFieldWidgetWrapper
        inner = widget.widget if wrapped else widget
        if bound.field.localize or not (wrapped or plain_select(inner) or plain_input(inner)):
            return str(bound)
        # BoundField.as_widget's attributes
        attrs = bound.build_widget_attrs({}, widget)
        if bound.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", bound.auto_id)
        if plain_select(inner):
            html = self.select(bound, inner, attrs)
        elif plain_input(inner):
            value = bound.value()
            if isinstance(inner, forms.CheckboxInput) and inner.check_test(value):
                attrs = {**attrs, "checked": True}  # CheckboxInput.get_context
            html = input_html(inner.input_type, bound.html_name, inner.format_value(value),
                              inner.build_attrs(inner.attrs, attrs))
        else:
            html = inner.render(bound.html_name, bound.value(), attrs)
        if not wrapped:
            return html
        return self.wrapper(bound, widget).replace(NAME_PLACEHOLDER, conditional_escape(bound.html_name)) \
            .replace(WIDGET_PLACEHOLDER, html)

    def select(self, bound, widget, attrs) -> str:
        """What ``Select.render`` writes (django/forms/widgets/select.html and
        select_option.html, as ``policies.widgets.FastWidgetRenderer`` writes them), its
        options written once per column: a select's choices are the column's, the row
        only says which one is selected."""
        options = self.options.get(bound.name)
        if options is None:
            options = self.options[bound.name] = select_options(widget)
        value = widget.format_value(bound.value())
        parts = [select_open(bound.html_name, widget.build_attrs(widget.attrs, attrs))]
        found = False
        for key, plain, selected in options:
            if not found and key is not None and key in value:
                parts.append(selected)
                found = True
            else:
                parts.append(plain)
        parts.append(SELECT_CLOSE)
        return "".join(parts)

    def wrapper(self, bound, widget) -> str:
        """The related-object wrapper of ``bound``'s column with placeholders for the
        widget's name and the select (its context holds nothing else of the row)."""
        template = self.wrappers.get(bound.name)
        if template is None:
            context = widget.get_context(NAME_PLACEHOLDER, None, {})
            context["rendered_widget"] = mark_safe(WIDGET_PLACEHOLDER)
            template = self.wrappers[bound.name] = str(
                widget._render(widget.template_name, context, bound.form.renderer))
        return template


def render_rows(inline_admin_formset) -> str:
    return RowsRenderer(inline_admin_formset).render()
