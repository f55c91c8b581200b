"""Issue 15 holes in the enrollment admin: history versions are read-only unless the user
may revert (and service-written rows never are), masked numbers cannot be recovered by
filters or partial search, the bank account is masked like the ID number, and the
待审核登记 history opens (docs/access.md §历史版本, §脱敏)."""
from datetime import date

import pytest
from django.urls import reverse

from enrollment import services
from enrollment.models import Registration
from policies.models import ChronicDisease, Scheme
from policies.roles import CLERK, REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")

ALL = ("511100", "500231", "350400", "140400", "371500")
BANK = "6222020000000000001"


def version_url(obj, version, model=None):
    opts = (model or type(obj))._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history",
                   args=[obj.pk, version.history_id])


def form_data(response) -> dict:
    """What the version page's form would post back (every field of the old row)."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def dianjiang_payment():
    enrollment = services.enrollment_create(
        person=new_person(), tier=1, acting_user=None, plan_year=plan_year("500231", "resident_basic"))
    return services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1),
                                   channel="wechat", receipt_no="SEC-1", acting_user=None)


def test_read_only_role_cannot_revert_a_payment_and_sees_no_form(client):
    payment = dianjiang_payment()
    before = payment.self_paid
    for user in (role_staff("jianguan", SUPERVISOR, ALL), role_staff("jingban", CLERK),
                 role_staff("admin", None, superuser=True)):
        client.force_login(user)
        url = version_url(payment, payment.history.earliest())
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert 'name="self_paid"' not in page.content.decode()  # shown as text, no input
        data = {**form_data(page), "self_paid": "1.00", "amount_due": "1.00"}
        assert client.post(url, data).status_code == 403, user.username
    payment.refresh_from_db()
    assert payment.self_paid == before


def test_decided_registration_cannot_be_reverted_to_pending(client):
    region_code = "140400"
    person = new_person(region=region_code, area="140402")
    scheme = Scheme.objects.get(region__code=region_code, kind="resident_basic")
    disease = ChronicDisease.objects.filter(region__code=region_code, kind="chronic").first()
    reg = Registration.objects.create(person=person, scheme=scheme, disease=disease,
                                      application_date=date(2024, 3, 1))
    first = reg.history.earliest()
    reg.status, reg.reason, reg.decision_date = Registration.Status.REJECTED, "材料不全", date(2024, 3, 9)
    reg.save()
    for user in (role_staff("jianguan", SUPERVISOR, ALL), role_staff("jingban_cz", CLERK, [region_code]),
                 role_staff("shenhe_cz", REVIEWER, [region_code])):
        client.force_login(user)
        for model in (Registration,):
            url = version_url(reg, first, model)
            page = client.get(url)
            assert page.status_code == 200
            assert 'name="_save"' not in page.content.decode()
            assert 'name="institution"' not in page.content.decode()
            assert client.post(url, {"application_date": "2024-03-01", "institution": "x"}).status_code == 403
    reg.refresh_from_db()
    assert reg.status == Registration.Status.REJECTED and reg.reason == "材料不全"


def test_pending_registration_history_opens(client):
    person = new_person(region="140400", area="140402")
    reg = Registration.objects.create(
        person=person, scheme=Scheme.objects.get(region__code="140400", kind="resident_basic"),
        disease=ChronicDisease.objects.filter(region__code="140400", kind="chronic").first(),
        application_date=date(2024, 3, 1))
    client.force_login(role_staff("shenhe_cz", REVIEWER, ["140400"]))
    response = client.get(reverse("admin:enrollment_pendingregistration_history", args=[reg.pk]),
                          follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("admin:enrollment_registration_history",
                                                     args=[reg.pk])
    version = reg.history.earliest()
    response = client.get(reverse("admin:enrollment_pendingregistration_simple_history",
                                  args=[reg.pk, version.history_id]), follow=True)
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()


# --------------------------------------------------------------------------- masked lookups


def test_masked_roles_cannot_filter_on_masked_fields(client):
    person = new_person(phone="13800001234", bank_account_number=BANK)
    changelist = reverse("admin:enrollment_person_changelist")
    probes = {"document_number__startswith": person.document_number[:10],
              "document_number": person.document_number,
              "document_number__regex": "^5002",
              "phone__startswith": "138",
              "bank_account_number__startswith": BANK[:8],
              "bank_account_number__contains": "0000"}
    client.force_login(role_staff("jianguan", SUPERVISOR, ALL))
    for lookup, value in probes.items():
        assert client.get(changelist, {lookup: value}).status_code == 400, lookup
    # related paths from the other lists too
    for name, lookup in (("enrollment_enrollment", "person__document_number__startswith"),
                         ("enrollment_payment", "enrollment__person__document_number__startswith"),
                         ("enrollment_registration", "person__bank_account_number__startswith")):
        assert client.get(reverse(f"admin:{name}_changelist"), {lookup: "5002"}).status_code == 400
    # a role seeing full numbers still filters (it sees them anyway)
    client.force_login(role_staff("jingban", CLERK))
    response = client.get(changelist, {"document_number__startswith": person.document_number[:10]})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [person]


def test_identity_number_search_is_exact_on_every_list(client):
    person = new_person()
    region_code = "500231"
    reg = Registration.objects.create(
        person=person, scheme=Scheme.objects.get(region__code=region_code, kind="resident_basic"),
        disease=ChronicDisease.objects.filter(region__code="140400").first(),
        application_date=date(2024, 3, 1))
    client.force_login(role_staff("jianguan", SUPERVISOR, ALL))
    number = person.document_number
    for name in ("enrollment_person", "enrollment_registration"):
        url = reverse(f"admin:{name}_changelist")
        assert client.get(url, {"q": number[:10]}).context["cl"].result_count == 0, name
        assert client.get(url, {"q": number[4:]}).context["cl"].result_count == 0, name
        found = client.get(url, {"q": number}).context["cl"].result_list
        assert [getattr(row, "person", row) for row in found] == [person], name
    assert reg.pk


def test_bank_account_masked_for_masked_roles(client):
    person = new_person(bank_account_number=BANK)
    services.person_update(person=person, acting_user=None, bank_account_number="6222020000000000099")
    change = reverse("admin:enrollment_person_change", args=[person.pk])
    history = reverse("admin:enrollment_person_history", args=[person.pk])
    version = version_url(person, person.history.earliest())
    client.force_login(role_staff("jianguan", SUPERVISOR, ALL))
    for url in (change, history, version):
        page = client.get(url).content.decode()
        assert BANK not in page and "6222020000000000099" not in page, url
        assert "622202*********0099" in page or "622202*********0001" in page, url
    assert "622202*********0001" in client.get(history).content.decode()
    client.force_login(role_staff("jingban", CLERK))
    assert "6222020000000000099" in client.get(change).content.decode()
