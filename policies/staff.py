"""Staff accounts service (docs/access.md): a user, their role group and their regions."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.services import account_mark_demo
from accounts.validators import validators_for_reset

from .access import clear_region_cache
from .models import Region, StaffProfile


@transaction.atomic
def staff_user_ensure(*, username: str, password: str, role: str | None, regions,
                      superuser: bool = False, reset_password: bool = False, demo: bool = False,
                      acting_user=None):
    """Create or update a staff account; idempotent.

    - a new user gets ``password`` (checked by the AUTH_PASSWORD_VALIDATORS);
    - an existing user keeps their password unless ``reset_password``;
    - ``role`` (a group name created by ``roles_sync``) becomes the user's only group;
    - ``regions`` (Region objects) become the regions of the user's StaffProfile;
    - ``demo``: a demo account of ``load_demo`` — one factor, no forced or periodic
      password change (accounts.AccountSecurity.demo_account; README).

    Returns ``(user, created)``.
    """
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    # resetting to the password the user already has is no change; a reset may restore an
    # earlier password (the reuse rule is about passwords the user chooses)
    if created or (reset_password and not user.check_password(password)):
        validate_password(password, user, password_validators=None if created else validators_for_reset())
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
    if demo:
        account_mark_demo(user=user, acting_user=acting_user)
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    profile.regions.set([r.pk if isinstance(r, Region) else r for r in regions])
    clear_region_cache(user)
    return user, created
