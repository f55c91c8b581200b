"""``AuditedChangesMixin``: an admin whose saves and deletions are audited (parameter
tables, users, roles, staff profiles). Put it before ``ModelAdmin`` and set
``audit_action`` (an ``Action``); ``None`` leaves the admin unaudited. Django calls
``log_addition`` / ``log_change`` / ``log_deletions`` after the save (inlines included),
so the entry names what the form changed, in the words of the admin's history. Those
words are the form fields' labels as the page shows them (``change_message``): Django
stores its change messages untranslated (“Changed Groups and Staff status.”), which the
entries and the history pages would show in English.
"""
from __future__ import annotations

from .services import audit_record

MAX_LISTED = 50  # objects named in one bulk deletion's entry


def _labels(form, names) -> list[str]:
    """The labels of the form's fields ``names`` as the page shows them (中文)."""
    return [str(form.fields[name].label or name) if name in form.fields else name for name in names]


def change_message(form, formsets, add: bool) -> list:
    """Django's change message (``django.contrib.admin.utils.construct_change_message``,
    the same JSON) with the fields' labels and the inlines' names in the current
    language, where Django stores them untranslated."""
    message = [{"added": {}}] if add else []
    if not add and form.changed_data:
        message.append({"changed": {"fields": _labels(form, form.changed_data)}})
    for formset in formsets or ():
        name = str(formset.model._meta.verbose_name)
        message += [{"added": {"name": name, "object": str(obj)}} for obj in formset.new_objects]
        message += [{"changed": {"name": name, "object": str(obj), "fields": _labels(formset.forms[0], fields)}}
                    for obj, fields in formset.changed_objects]
        message += [{"deleted": {"name": name, "object": str(obj)}} for obj in formset.deleted_objects]
    return message


class AuditedChangesMixin:
    audit_action: str | None = None

    def construct_change_message(self, request, form, formsets, add=False):
        return change_message(form, formsets, add)

    def get_audit_action(self, request, obj) -> str | None:
        return self.audit_action

    def _audit(self, request, obj, operation: str, log_entry=None) -> None:
        action = self.get_audit_action(request, obj)
        if action is None:
            return
        details = {"operation": operation}
        if log_entry is not None:
            details["change"] = str(log_entry.get_change_message())
        audit_record(action=action, request=request, obj=obj, details=details)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, "新增", entry)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, obj, "修改", entry)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        if objects and self.get_audit_action(request, objects[0]) is not None:
            if len(objects) == 1:
                self._audit(request, objects[0], "删除")
            else:
                audit_record(action=self.get_audit_action(request, objects[0]), request=request,
                             obj=self.model, details={"operation": "删除", "count": len(objects),
                                                      "objects": [str(o) for o in objects[:MAX_LISTED]]})
        return entries
