"""Fixtures of the spreadsheet import/export tests (test_sheet_*.py): staff users of 垫江
(500231) and 长治 (140400), with the seed policy rows loaded."""
from __future__ import annotations

import pytest

from policies.models import Region
from policies.tests.factories import staff_user

CLERK_PERMS = ["enrollment.import_person", "enrollment.import_payment", "enrollment.view_person",
               "enrollment.view_payment", "enrollment.add_person", "enrollment.add_payment",
               "policies.view_full_identity"]


@pytest.fixture
def dianjiang_clerk(loaded_policies):
    return staff_user("dj_clerk", regions=[Region.objects.get(code="500231")], perms=CLERK_PERMS)


@pytest.fixture
def changzhi_clerk(loaded_policies):
    return staff_user("cz_clerk", regions=[Region.objects.get(code="140400")], perms=CLERK_PERMS)


@pytest.fixture
def dianjiang_viewer(loaded_policies):
    """Reads 垫江's persons without the right to see full ID numbers."""
    return staff_user("dj_viewer", regions=[Region.objects.get(code="500231")],
                      perms=["enrollment.view_person", "enrollment.view_payment"])
