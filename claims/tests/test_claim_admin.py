"""The claims admin (Chinese): pages render, buttons act through the services, region
scoping and ID masking (docs/claims.md, docs/access.md)."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Claim, ClaimLayer, GivenLayer
from jobs.models import Job
from policies.roles import CLERK, REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff

from .factories import CASES, claim_for_case, dianjiang_person, hospital, outpatient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(client, user):
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"admin:claims_claim_{name}", args=args)


def test_pages_render_and_settle_through_the_buttons(client, loaded_policies):
    clerk = role_staff("jingban", CLERK)
    login(client, clerk)
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    assert client.get(url("changelist")).status_code == 200
    assert client.get(url("add")).status_code == 200
    page = client.get(url("change", claim.pk)).content.decode()
    assert "claim-btn-trial" in page and "claim-btn-settle" in page
    assert "claim-btn-approve" not in page
    trial = client.get(url("trial", claim.pk)).content.decode()
    assert "240.00" in trial and "不保存" in trial
    assert not ClaimLayer.objects.exists()
    assert client.get(url("act", claim.pk, "settle")).status_code == 405  # POST only
    response = client.post(url("act", claim.pk, "settle"), follow=True)
    assert "结算完成" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED and claim.settled_by == clerk
    page = client.get(url("change", claim.pk)).content.decode()
    assert "400.00×60% = 240.00" in page  # explanation shown read-only
    assert 'name="total"' not in page  # read-only once settled
    assert "本年度累计" in page and "普通门诊统筹年度限额" in page
    sheet = client.get(url("print", claim.pk)).content.decode()
    assert "医疗费用结算单" in sheet and "240.00" in sheet and "@media print" in sheet
    assert "http" not in sheet.split("<body>")[0]  # no external asset


def test_add_form_creates_a_claim_with_given_layers(client, loaded_policies):
    case = CASES["ex-5"]
    from .factories import person_for_case
    person = person_for_case(case)
    clerk = role_staff("jingban_ls", CLERK, ("511100",))
    login(client, clerk)
    h = hospital("511100", level=3, grade="A", admin_level="city")
    data = {
        "person": person.pk, "region": "", "claim_type": "inpatient", "service_date": "2024-04-02",
        "hospital": h.pk, "settlement_no": "LS-0001", "location": "", "filed": "on",
        "total": "50000", "out_of_catalog": "0", "class_b_copay": "0", "compliant": "",
        "tcm_compliant": "0", "special_drug": "0", "drug_class_a": "0", "drug_class_b": "0",
        "out_of_catalog_controlled": "0", "accepted_on": "2024-04-10",
        "given_layers-TOTAL_FORMS": "1", "given_layers-INITIAL_FORMS": "0",
        "given_layers-0-scheme_kind": "employee_basic", "given_layers-0-paid": "38000",
        "given_layers-0-deductible": "1000", "given_layers-0-over_cap": "0",
        "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0",
    }
    response = client.post(url("add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    claim = Claim.objects.get(settlement_no="LS-0001")
    assert claim.region.code == "511100" and claim.compliant == Decimal("50000")
    assert GivenLayer.objects.get(claim=claim).paid == Decimal("38000")
    client.post(url("act", claim.pk, "settle"))
    claim.refresh_from_db()
    assert claim.current_layers().get(scheme_kind="employee_supplementary").paid == Decimal("9900.00")
    # bad input: named field, nothing written
    bad = {**data, "settlement_no": "LS-0002", "compliant": "100"}
    response = client.post(url("add"), bad)
    assert response.status_code == 200
    assert "不等于 医疗总费用" in str(response.context["adminform"].form.errors["compliant"])
    bad = {**data, "settlement_no": "LS-0003", "given_layers-0-scheme_kind": "critical_illness"}
    response = client.post(url("add"), bad)
    assert response.status_code == 200 and "参保人未参加" in response.content.decode()
    assert Claim.objects.count() == 1


def test_reviewer_approves_returns_and_voids(client, loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    login(client, clerk)
    client.post(url("act", claim.pk, "settle"))
    assert client.post(url("act", claim.pk, "approve"), {"confirm": "1"}, follow=True).status_code == 200
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED  # a clerk cannot approve
    login(client, reviewer)
    page = client.get(url("change", claim.pk)).content.decode()
    assert "claim-btn-approve" in page and "claim-btn-return" in page
    client.post(url("act", claim.pk, "approve"), {"confirm": "1"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    form = client.get(url("act", claim.pk, "return")).content.decode()
    assert "退回原因" in form
    client.post(url("act", claim.pk, "return"), {"reason": "发票金额不符"})
    claim.refresh_from_db()
    assert (claim.status, claim.status_reason) == (Claim.Status.RETURNED, "发票金额不符")
    client.post(url("act", claim.pk, "void"), {"reason": "重复"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.VOID


def test_bulk_settle_action_and_overdue_filter(client, loaded_policies):
    clerk = role_staff("jingban_lc", CLERK, ("371500",))
    login(client, clerk)
    claim = claim_for_case(CASES["ex-7"])
    Claim.objects.filter(pk=claim.pk).update(offline_review=True, review_due_date=date(2024, 1, 5))
    response = client.get(url("changelist") + "?deadline=overdue")
    assert [c.pk for c in response.context["cl"].result_list] == [claim.pk]
    response = client.post(url("changelist"), {"action": "settle_action",
                                                "_selected_action": [claim.pk]}, follow=True)
    assert "结算：已处理 1 条理赔" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED
    assert claim.current_layers().get(scheme_kind="inclusive_commercial").paid == Decimal("7200.00")


def test_region_scoping_and_masking(client, loaded_policies):
    claim = outpatient(dianjiang_person(), "400")
    login(client, role_staff("jingban_cz", CLERK, ("140400",)))
    assert client.get(url("changelist")).context["cl"].result_count == 0
    assert client.get(url("change", claim.pk)).status_code == 302
    assert client.get(url("print", claim.pk)).status_code == 302
    client.post(url("act", claim.pk, "settle"))
    assert not ClaimLayer.objects.exists()
    login(client, role_staff("jianguan", SUPERVISOR, ("500231",)))
    number = claim.person.document_number
    listing = client.get(url("changelist")).content.decode()
    assert number not in listing and number[:6] + "********" + number[-4:] in listing
    assert number not in client.get(url("print", claim.pk)).content.decode()
    assert "结算" not in "".join(b["label"] for b in client.get(url("change", claim.pk))
                                .context["claim_buttons"] if b["name"] != "print")
    login(client, role_staff("jingban", CLERK))
    assert number in client.get(url("changelist")).content.decode()


def test_hospital_admin_search(client, loaded_policies):
    h = hospital("500231", level=2, name="垫江县中医院", code="DJ-ZYY")
    login(client, role_staff("admin", None, superuser=True))
    response = client.get(reverse("admin:claims_hospital_changelist") + "?q=中医院")
    assert [o.pk for o in response.context["cl"].result_list] == [h.pk]
    auto = client.get(reverse("admin:autocomplete"), {"term": "中医", "app_label": "claims",
                                                      "model_name": "claim", "field_name": "hospital"})
    assert auto.json()["results"][0]["id"] == str(h.pk)


def test_documents_are_ticked_on_the_claim_page_then_approved(client, loaded_policies):
    import copy

    from claims import services
    case = copy.deepcopy(CASES["ex-5"])
    claim = services.claim_settle(claim=claim_for_case(case), acting_user=None)
    [doc] = claim.documents.all()
    [given] = claim.given_layers.all()
    reviewer = role_staff("shenhe_ls", REVIEWER, ("511100",))
    login(client, reviewer)
    response = client.post(url("act", claim.pk, "approve"), {"confirm": "1"}, follow=True)
    assert "理赔所需资料未收齐" in response.content.decode()
    page = client.get(url("change", claim.pk)).content.decode()
    assert "documents-0-received" in page and 'name="total"' not in page
    data = {"given_layers-TOTAL_FORMS": "1", "given_layers-INITIAL_FORMS": "1",
            "given_layers-0-id": given.pk, "given_layers-0-claim": claim.pk,
            "documents-TOTAL_FORMS": "1", "documents-INITIAL_FORMS": "1",
            "documents-0-id": doc.pk, "documents-0-claim": claim.pk,
            "documents-0-received": "on"}
    response = client.post(url("change", claim.pk), data)
    assert response.status_code == 302, response.context["errors"]
    doc.refresh_from_db()
    assert doc.received and doc.received_by == reviewer
    client.post(url("act", claim.pk, "approve"), {"confirm": "1"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    assert claim.current_layers().get(scheme_kind="employee_supplementary").paid == Decimal("9900.00")


def test_bulk_settle_above_the_threshold_starts_the_job(client, loaded_policies, settings):
    """More selected claims than ``CLAIMS_SETTLE_INLINE_MAX``: the action starts the job
    ``settle_claims`` (run at once by the test settings) on the selection only and links
    to its page; the claim left out of the selection stays 录入."""
    settings.CLAIMS_SETTLE_INLINE_MAX = 1
    clerk = role_staff("jingban_dj", CLERK, ("500231",))
    login(client, clerk)
    person = dianjiang_person()
    chosen = [outpatient(person, "400", acting_user=clerk), outpatient(person, "100", acting_user=clerk)]
    other = outpatient(dianjiang_person(), "400", acting_user=clerk)
    response = client.post(url("changelist"), {"action": "settle_action",
                                                "_selected_action": [c.pk for c in chosen]}, follow=True)
    job = Job.objects.get(kind="settle_claims")
    page = response.content.decode()
    assert "已提交后台任务" in page and reverse("admin:jobs_myjob_change", args=[job.pk]) in page
    assert (job.created_by, job.status, job.counts["settled"]) == (clerk, Job.Status.SUCCEEDED, 2)
    assert sorted(job.params["claim_ids"]) == sorted(c.pk for c in chosen)
    for claim in chosen:
        claim.refresh_from_db()
        assert claim.status == Claim.Status.SETTLED and claim.settled_by == clerk
    other.refresh_from_db()
    assert other.status == Claim.Status.DRAFT
    assert client.get(reverse("admin:jobs_myjob_change", args=[job.pk])).status_code == 200


def test_claims_search_by_id_number_reads_the_persons_ids_first(client, loaded_policies):
    """按身份证号: the person's id is read first and the claims are filtered by
    ``person_id IN (id)`` — no subquery of the persons that the planner could test every
    claim against — and the same claims are found (the superuser's list)."""
    person = dianjiang_person(tier=1)
    mine = outpatient(person, "400")
    outpatient(dianjiang_person(tier=1), "300", no="OTHER-1")
    login(client, role_staff("admin", None, superuser=True))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:claims_claim_changelist"), {"q": person.document_number})
    assert [c.pk for c in response.context["cl"].result_list] == [mine.pk]
    listed = [q["sql"] for q in queries.captured_queries if 'FROM "claims_claim"' in q["sql"]]
    assert listed and not [s for s in listed if 'FROM "enrollment_person" U' in s]
