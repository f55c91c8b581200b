"""How the history pages show a change (simple-history's context helper hook): values as
the forms show them — choice labels, 是/否, 空 for nothing, local dates and times, a
related row by its name — instead of raw codes, ``None`` and ``True``. A field holding a code
without choices (an enrollment's 缴费期 code) is named by the admin's ``history_value_texts``:
``{field name: text(historical record, value)}``."""
from __future__ import annotations

from datetime import date, datetime

from django.db import models
from django.utils import timezone
from simple_history.template_utils import HistoricalRecordContextHelper


def field_value_text(field, value) -> str:
    if value is None or value == "":
        return "空"
    if isinstance(field, models.BooleanField):
        return "是" if value else "否"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


class ChineseHistoryContextHelper(HistoricalRecordContextHelper):
    def __init__(self, model, historical_record, value_texts=None):
        super().__init__(model, historical_record)
        self.value_texts = value_texts or {}

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, models.ManyToManyField):
            return super().prepare_delta_change_value(change, value)
        text = self.value_texts.get(change.field)
        if text is not None and value not in (None, ""):
            return text(self.record, value)
        return field_value_text(field, value)
