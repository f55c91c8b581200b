"""The history (audit) tables of every model: django-simple-history's ``HistoricalRecords``
with indexes only where the history is read.

A history table is appended to on every change — batch imports and batch settlement
append hundreds of thousands of rows at a time — and read by object (the admin's 历史
page: the rows of one ``id``, in ``history_date`` order) or by date. simple-history
copies an index onto the history table for every indexed or unique column of the model
(each foreign key, each unique number), which every appended row then has to update
and nothing reads. ``AuditHistory`` keeps the history's own indexes (``history_id``,
``history_date``, ``history_user``) and the object ``id``; docs/benchmarks.md gives the
import figures before and after.

``history_user`` is kept without a database foreign key (``user_db_constraint=False``, as
simple-history already does for every copied foreign key): each appended row would
otherwise queue a deferred constraint check for the commit, and an audit row must not
stand in the way of anything. Deleting a user still sets it to NULL (Django's
``on_delete=SET_NULL``; staff accounts are deactivated, not deleted).

Every save reads the model's ``history`` manager once (simple-history's post_save handler),
and simple-history's ``HistoryDescriptor`` builds the manager's class anew on each read
(``Manager.from_queryset``: ``inspect.getmembers`` over the query set, ≈ 1–2 ms); the
``CachedHistoryDescriptor`` builds it once per model.

A history model is named “参保人（历史记录）”, not simple-history's untranslated
“historical 参保人” (shown with its permissions on the group and user pages).
"""
from __future__ import annotations

from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history


class CachedHistoryDescriptor(HistoryDescriptor):
    """``HistoryDescriptor`` with the manager class built once."""

    def __init__(self, model, manager, queryset):
        super().__init__(model, manager=manager, queryset=queryset)
        self.manager_type = manager.from_queryset(queryset)

    def __get__(self, instance, owner):
        return self.manager_type(self.model, instance)


class AuditHistory(HistoricalRecords):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("user_db_constraint", False)
        super().__init__(*args, **kwargs)

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        if not self.user_set_verbose_name:
            options["verbose_name"] = f"{model._meta.verbose_name}（历史记录）"
        if not self.user_set_verbose_name_plural:
            options["verbose_name_plural"] = f"{model._meta.verbose_name_plural}（历史记录）"
        return options

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(sender, self.manager_name, CachedHistoryDescriptor(
                descriptor.model, descriptor.manager_class, descriptor.queryset_class))

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


def create_with_history(model, objs: list) -> None:
    """Save the new ``objs`` of ``model`` with the history rows ``objs[i].save()`` would
    write (type ``+``, the same user and date rules), in one insert for the rows and one
    for their history: no ``post_save`` receiver other than the history's may listen
    to ``model``."""
    if objs:
        bulk_create_with_history(objs, model)
