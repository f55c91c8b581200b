"""The migrations describe the models exactly: ``makemigrations --check`` finds nothing to
write (a model change without its migration fails here, not on a deployed database)."""
from io import StringIO

from django.core.management import call_command


def test_no_model_change_lacks_a_migration(db):  # makemigrations reads the applied ones
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    assert "No changes detected" in out.getvalue()
