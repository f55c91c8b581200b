"""Huge amounts in the claim form (issue 15 hole 8): refused with a Chinese message naming
the field, never a 500 (the claims sheet: test_claim_sheets.py)."""
import pytest
from django.urls import reverse

from claims.models import Claim
from insurance_rules.claim_amounts import AMOUNT_FIELDS
from policies.roles import CLERK
from policies.tests.factories import role_staff

from .factories import CASES, hospital, person_for_case

pytestmark = pytest.mark.usefixtures("loaded_policies")


@pytest.fixture
def claim_form(client):
    case = CASES["ex-5"]
    person = person_for_case(case)
    client.force_login(role_staff("jingban_ls", CLERK, ("511100",)))
    h = hospital("511100", level=3, grade="A", admin_level="city")
    amounts = {name: "0" for name in AMOUNT_FIELDS}
    given = {"scheme_kind": "employee_basic", "paid": "38000", "deductible": "1000", "over_cap": "0"}
    return {
        **amounts, "total": "50000", "compliant": "", "person": person.pk, "region": "",
        "claim_type": "inpatient", "service_date": "2024-04-02", "accepted_on": "2024-04-10",
        "hospital": h.pk, "settlement_no": "LS-0001", "location": "", "filed": "on",
        **{f"given_layers-0-{key}": value for key, value in given.items()},
        "given_layers-TOTAL_FORMS": "1", "given_layers-INITIAL_FORMS": "0",
        "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0",
    }


@pytest.mark.parametrize("changes", [
    {"total": "1e30"}, {"total": "1" * 29}, {"out_of_catalog": "1e30"}, {"compliant": "1e30"},
    {"total": "1e400"}, {"given_layers-0-paid": "1e30"}, {"class_b_items": "1e30"},
])
def test_huge_amounts_in_the_claim_form_are_field_errors(client, claim_form, changes):
    response = client.post(reverse("admin:claims_claim_add"), {**claim_form, **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert "errorlist" in page and ("确认总共不超过" in page or "金额上限" in page or "位数字" in page), page[-3000:]
    assert not Claim.objects.exists()


def test_the_form_without_huge_amounts_is_accepted(client, claim_form):
    assert client.post(reverse("admin:claims_claim_add"), claim_form).status_code == 302
    assert Claim.objects.count() == 1
