"""Form widgets shared by the apps' admin forms.

``IsoDateInput`` is the one widget for an ``<input type="date">``. The browser reads and
sends its value in ISO 8601 (``2024-10-10``) whatever the page's language; Django's
``DateInput`` renders the *localized* first input format instead (zh-hans: ``2024/10/10``),
which the date input cannot read: it shows empty, and saving the form again loses the
date (issue 11). A date shown to be read (lists, read-only fields, print) keeps the local
format; only the value of a date *input* is ISO.
"""
from django import forms

ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ``YYYY-MM-DD``."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATE)
