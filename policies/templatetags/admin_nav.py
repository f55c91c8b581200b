"""The admin's side bar (``admin/nav_sidebar.html``): its list of apps and models rendered
once and remembered per process.

Django renders ``admin/app_list.html`` into the side bar of every admin page: a table row
per model the user may see (60-odd for a superuser), the same for every page of the same
user but for the ``current-app`` / ``current-model`` marks of the page's own app and model
— a sixth of a list page's server time (docs/benchmarks.md, "Eleventh session: admin
pages"). ``{% nav_app_list available_apps %}`` (the project's ``admin/nav_sidebar.html``)
renders the same template with the same context as Django's ``{% include %}`` and keeps
the HTML under a key holding every value the template reads: each app's label, address
and name, each model's class name, addresses, name and ``view_only``, whether each address
is in the page's path (the marks), whether each text is already safe HTML, the language,
``show_changelinks`` and autoescaping. Equal keys therefore render equal HTML; another
user with the same list shares the entry. At most ``CACHE_SIZE`` entries (least recently
used dropped). When a template file changes under ``runserver``, the entries are dropped
with Django's own template caches (``autoreload.file_changed``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from django import template
from django.template.defaultfilters import urlencode
from django.utils import translation
from django.utils.autoreload import file_changed

register = template.Library()

TEMPLATE = "admin/app_list.html"
CACHE_SIZE = 256  # entries of ≤ 30 KB (a superuser's 60-odd models): ≤ 8 MB a process

_rendered: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _text(value):
    """A value as the template prints it, and whether it is printed unescaped."""
    return None if value is None else (str(value), hasattr(value, "__html__"), type(value) is bool)


def _in(value, path) -> bool:
    """``{% if value in path %}`` as the template evaluates it (an error is false)."""
    try:
        return value in path
    except Exception:  # noqa: BLE001 - the template language's ``in`` swallows any error
        return False


def app_list_key(context, app_list, show_changelinks: bool):
    """Every value ``admin/app_list.html`` reads, for ``app_list`` on this page."""
    request = context.get("request")
    path = urlencode(request.path) if request is not None else ""
    apps = tuple(
        (_text(app.get("app_label")), _text(app.get("app_url")), _text(app.get("name")),
         _in(app.get("app_url"), path),
         tuple((_text(model.get("object_name")), _text(model.get("admin_url")), _text(model.get("add_url")),
                _text(model.get("name")), bool(model.get("view_only")), _in(model.get("admin_url"), path))
               for model in app.get("models", ())))
        for app in app_list)
    return (translation.get_language(), context.autoescape, bool(show_changelinks), apps)


@register.simple_tag(takes_context=True)
def nav_app_list(context, app_list, show_changelinks=False):
    """``{% include 'admin/app_list.html' with app_list=app_list show_changelinks=… %}``,
    remembered (module docstring)."""
    if not isinstance(app_list, (list, tuple)) or context.get("request") is None:
        return _render(context, app_list, show_changelinks)
    try:
        key = app_list_key(context, app_list, show_changelinks)
        hash(key)
    except (AttributeError, TypeError):  # not the admin's list of dictionaries
        return _render(context, app_list, show_changelinks)
    with _lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
            return html
    html = _render(context, app_list, show_changelinks)
    with _lock:
        _rendered[key] = html
        while len(_rendered) > CACHE_SIZE:
            _rendered.popitem(last=False)
    return html


def _render(context, app_list, show_changelinks):
    """What ``{% include %}`` does: the template rendered in the page's context with the
    two values pushed on it."""
    included = context.template.engine.get_template(TEMPLATE)
    with context.push(app_list=app_list, show_changelinks=show_changelinks):
        return included.render(context)


def clear() -> None:
    with _lock:
        _rendered.clear()


def _template_file_changed(sender, file_path, **kwargs):
    clear()  # returns None: Django's own handlers (reset the template loaders, reload) still run


file_changed.connect(_template_file_changed, dispatch_uid="policies.admin_nav")
