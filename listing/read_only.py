"""``ReadOnlyAdminMixin``: an admin (or inline) whose rows nobody adds, changes or deletes on
their pages — they are written by services only (journals, audit entries, jobs, payments,
reconciliation runs, login records). Their pages still show; saving is refused (403)."""


class ReadOnlyAdminMixin:
    """No add, change or delete permission on the admin's pages, for every user."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
