"""Admin inline helpers shared by the apps."""
from django.contrib import admin


class ReadOnlyTabularInline(admin.TabularInline):
    """An inline that only shows rows (they are written through a service on their own
    page, e.g. payments through 登记缴费): no add, change or delete from the parent page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
