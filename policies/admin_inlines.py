"""Admin helpers shared by the apps: a read-only inline, and saving a change form's object
and inline rows through the services (``adopt_saved``, ``save_inline_rows``)."""
from django.contrib import admin

from listing.read_only import ReadOnlyAdminMixin


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An inline that only shows rows (they are written through a service on their own
    page, e.g. payments through 登记缴费): no add, change or delete from the parent page."""

    extra = 0
    can_delete = False


def adopt_saved(obj, saved) -> None:
    """Make the admin's unsaved ``obj`` the row a service created (``saved``), so that the
    add view logs, redirects and saves the inlines against that row."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def save_inline_rows(formset, create) -> None:
    """Save an inline formset whose new rows are written by a service: removed rows are
    deleted, each new row is handed to ``create(row)``, changed rows are saved."""
    rows = formset.save(commit=False)
    for row in formset.deleted_objects:
        row.delete()
    for row in rows:
        if row.pk is None:
            create(row)
        else:
            row.save()
