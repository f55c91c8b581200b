"""Staff accounts service (docs/access.md): a user, their role group and their regions."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from .access import clear_region_cache
from .models import Region, StaffProfile


@transaction.atomic
def staff_user_ensure(*, username: str, password: str, role: str | None, regions,
                      superuser: bool = False, reset_password: bool = False, acting_user=None):
    """Create or update a staff account; idempotent.

    - a new user gets ``password`` (checked by the AUTH_PASSWORD_VALIDATORS);
    - an existing user keeps their password unless ``reset_password``;
    - ``role`` (a group name created by ``roles_sync``) becomes the user's only group;
    - ``regions`` (Region objects) become the regions of the user's StaffProfile.

    Returns ``(user, created)``.
    """
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created or reset_password:
        validate_password(password, user)
        user.set_password(password)
    user.is_staff = True
    user.is_superuser = superuser
    user.is_active = True
    user.save()
    if role is None:
        user.groups.clear()
    else:
        try:
            group = Group.objects.get(name=role)
        except Group.DoesNotExist as exc:
            raise ValidationError(f"角色“{role}”不存在：请先运行 python manage.py sync_roles") from exc
        user.groups.set([group])
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    profile.regions.set([r.pk if isinstance(r, Region) else r for r in regions])
    clear_region_cache(user)
    return user, created
