"""Staff users for the report tests (test data)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from policies.models import StaffProfile


def user_with(username, *, regions=(), perms=(), superuser=False, password=None):
    """A staff user bound to ``regions`` holding ``perms`` (``"app.codename"``)."""
    user = get_user_model().objects.create_user(username=username, password=password,
                                                is_staff=True, is_superuser=superuser)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    profile = StaffProfile.objects.create(user=user)
    profile.regions.set(regions)
    return get_user_model().objects.get(pk=user.pk)  # fresh: no permission cache
