"""The flush after transactional tests (conftest.FastFlush) leaves what Django's flush leaves:
every table empty, the content types and permissions as ``migrate`` made them."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from audit.models import Action
from audit.services import audit_record
from conftest import FastFlush
from policies.tests.factories import role_staff


def _non_empty_tables() -> list[str]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        out = []
        for table in tables:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone():
                out.append(table)
    return out


@pytest.mark.django_db(transaction=True)
def test_fast_flush_empties_every_table_and_keeps_the_permissions(loaded_policies):
    flush = FastFlush()
    flush.before = {"default": flush.kept_rows(connection)}
    permissions, content_types = Permission.objects.count(), ContentType.objects.count()
    user = role_staff("jingban_ff", None, superuser=True)
    audit_record(action=Action.LOGIN, user=user)  # the audit log refuses DELETE on PostgreSQL (trigger)
    assert len(_non_empty_tables()) > 10

    assert flush.flush(connection)

    assert sorted(_non_empty_tables()) == sorted(flush.kept_tables())
    assert (Permission.objects.count(), ContentType.objects.count()) == (permissions, content_types)
    assert not get_user_model().objects.exists() and not Group.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fast_flush_declines_when_the_test_changed_the_permissions():
    flush = FastFlush()
    flush.before = {"default": flush.kept_rows(connection)}
    Permission.objects.filter(pk=Permission.objects.order_by("pk").first().pk).update(name="改过")

    assert not flush.flush(connection)  # Django's flush runs: it recreates them
