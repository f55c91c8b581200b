"""No workbook the product writes carries a live formula from data, nor breaks on it (issue
15 hole 9): a region renamed ``=HYPERLINK("http://…","垫江县")`` is written as text with the
formula guard, a control character (which an xlsx cannot hold) as ``\\x01`` — through the
one writer ``sheets.excel`` — in every dashboard export (the simulation workbook:
claims/tests/test_simulation.py; sheets: sheets/tests/test_writers.py)."""
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.figures import BUILDERS

from . import dataset
from .factories import user_with

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/x","垫江县")'
CONTROL = "\x01"


def formula_cells(book):
    return [(ws.title, cell.coordinate, cell.value) for ws in book.worksheets
            for row in ws.iter_rows() for cell in row
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))]


@pytest.fixture(params=["formula", "control"])
def renamed(request):
    data = dataset.build()
    for region in (data.sanming, data.liaocheng, *data.sanming.children.all()):
        if request.param == "formula":
            region.name = HYPERLINK.replace("垫江县", region.name)
        else:
            region.name = region.name[:1] + CONTROL + region.name[1:]
        region.save()
    return data


@pytest.mark.parametrize("key", sorted(BUILDERS))
def test_dashboard_exports_write_no_formula(client, renamed, key):
    viewer = user_with("viewer", regions=[renamed.sanming, renamed.liaocheng], perms=["reports.view_report"])
    client.force_login(viewer)
    for params in ({}, {"region": renamed.sanming.pk}):
        response = client.get(reverse("reports:export", args=[key]), params)
        assert response.status_code == 200
        book = load_workbook(BytesIO(response.content))
        assert formula_cells(book) == []
        texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and "HYPERLINK" in c.value]
        assert all(t.startswith(("'=", "范围：", "口径：")) or not t.startswith("=") for t in texts)
        assert not any(CONTROL in str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
