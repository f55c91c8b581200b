"""退费 admin: 申请退费 from a payment (refusals next to their fields), the read-only page
with 复核通过 / 驳回 for a reviewer only, the actions, masking and region scoping."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from enrollment import services
from enrollment.models import Enrollment, Refund
from ledger.models import Journal, SourceKind
from policies.roles import CLERK, REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")
ACCOUNT = "6228480012345678901"


def paid():
    person = new_person(bank_name="农业银行垫江支行", bank_account_name="王五",
                        bank_account_number=ACCOUNT)
    enrollment = services.enrollment_create(person=person, plan_year=plan_year("500231", "resident_basic"),
                                            tier=1, acting_user=None)
    return services.payment_record(enrollment=enrollment, paid_date=date(2023, 11, 20),
                                   channel="wechat", receipt_no="ADM-1", acting_user=None)


def test_a_clerk_requests_a_refund_from_the_payment_and_a_reviewer_approves_it(client):
    payment = paid()
    clerk = role_staff("ra_jingban", CLERK, ("500231",))
    client.force_login(clerk)
    listing = client.get(reverse("admin:enrollment_payment_changelist")).content.decode()
    add_url = reverse("admin:enrollment_refund_add") + f"?payment={payment.pk}"
    assert add_url.replace("?", "?") in listing.replace("&amp;", "&") and "申请退费" in listing
    page = client.get(reverse("admin:enrollment_payment_change", args=[payment.pk])).content.decode()
    assert "申请退费" in page
    form = client.get(add_url).content.decode()
    assert 'value="380.00"' in form and 'value="王五"' in form
    data = {"payment": payment.pk, "amount": "380.01", "reason": "other", "reason_note": "",
            "terminate_on": "", "payee_name": "", "payee_account": "", "payee_bank": ""}
    refused = client.post(reverse("admin:enrollment_refund_add"), data).content.decode()
    assert "超过可退金额380.00元" in refused and "请填写原因说明" in refused
    assert not Refund.objects.exists()
    data.update(amount="80", reason_note="缴费金额录入有误，多录80元")
    response = client.post(reverse("admin:enrollment_refund_add"), data)
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.recorded_by, refund.payee_account) == (
        Decimal("80.00"), Refund.Status.PENDING, clerk, ACCOUNT)
    change_url = reverse("admin:enrollment_refund_change", args=[refund.pk])
    page = client.get(change_url).content.decode()
    assert "refund-btn-approve" not in page and 'name="_save"' not in page  # read-only, no decision
    approve_url = reverse("admin:enrollment_refund_decide", args=[refund.pk, "approve"])
    assert client.get(approve_url).status_code == 403

    reviewer = role_staff("ra_shenhe", REVIEWER, ("500231",))
    client.force_login(reviewer)
    page = client.get(change_url).content.decode()
    assert "refund-btn-approve" in page and "refund-btn-reject" in page
    confirm = client.get(approve_url).content.decode()
    assert "缴费收入冲减 80.00 元" in confirm and "参保登记终止" not in confirm
    response = client.post(approve_url, {"confirm": "1"}, follow=True)
    assert "已复核通过退字第" in response.content.decode()
    refund.refresh_from_db()
    assert (refund.status, refund.approved_by) == (Refund.Status.PAYABLE, reviewer)
    assert Journal.objects.filter(source_kind=SourceKind.REFUND, source_id=refund.pk).count() == 1
    assert "refund-btn-approve" not in client.get(change_url).content.decode()


def test_the_actions_approve_and_reject_and_the_recorder_is_refused(client):
    payment = paid()
    both = role_staff("ra_both", CLERK, ("500231",))
    both.groups.add(*role_staff("ra_rev", REVIEWER, ("500231",)).groups.all())
    mine = services.refund_request(payment=payment, amount=Decimal("380"), reason="duplicate",
                                   acting_user=both)
    client.force_login(both)
    url = reverse("admin:enrollment_refund_changelist")
    page = client.post(url, {"action": "approve_action", "_selected_action": [mine.pk]}, follow=True)
    assert "岗位分离：退费复核通过不能由登记退费的同一人员办理" in page.content.decode()
    assert Refund.objects.get(pk=mine.pk).status == Refund.Status.PENDING
    step = client.post(url, {"action": "reject_action", "_selected_action": [mine.pk]})
    assert "驳回原因" in step.content.decode()
    client.post(url, {"action": "reject_action", "_selected_action": [mine.pk], "apply": "1",
                      "reason": "重复申请"})
    assert Refund.objects.get(pk=mine.pk).status == Refund.Status.REJECTED

    again = services.refund_request(payment=payment, amount=Decimal("380"), reason="duplicate",
                                    acting_user=both)
    client.force_login(role_staff("ra_rev2", REVIEWER, ("500231",)))
    client.post(url, {"action": "approve_action", "_selected_action": [again.pk]})
    again.refresh_from_db()
    assert (again.status, again.ends_coverage) == (Refund.Status.PAYABLE, True)
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.TERMINATED


def test_other_regions_do_not_see_it_and_a_supervisor_sees_the_account_masked(client):
    payment = paid()
    refund = services.refund_request(payment=payment, amount=Decimal("10"), reason="overpaid",
                                     acting_user=None)
    client.force_login(role_staff("ra_cz", REVIEWER, ("140400",)))
    assert str(refund) not in client.get(reverse("admin:enrollment_refund_changelist")).content.decode()
    assert client.get(reverse("admin:enrollment_refund_change", args=[refund.pk])).status_code == 302
    client.force_login(role_staff("ra_jg", SUPERVISOR, ("500231",)))
    listing = client.get(reverse("admin:enrollment_refund_changelist")).content.decode()
    assert str(refund) in listing and ACCOUNT not in listing and "622848*" in listing
    page = client.get(reverse("admin:enrollment_refund_change", args=[refund.pk])).content.decode()
    assert ACCOUNT not in page and "refund-btn-approve" not in page


def _payment_of_a_new_person(receipt_no):
    enrollment = services.enrollment_create(person=new_person(), acting_user=None, tier=1,
                                            plan_year=plan_year("500231", "resident_basic"))
    return services.payment_record(enrollment=enrollment, paid_date=date(2023, 11, 20),
                                   channel="wechat", receipt_no=receipt_no, acting_user=None)


def test_the_payments_list_reads_the_refundable_amounts_in_its_own_query(client):
    """The 退费 column (申请退费 / 无可退金额) costs no query per row (issue 17's lists)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(role_staff("ra_list", CLERK, ("500231",)))
    url = reverse("admin:enrollment_payment_changelist")
    full = paid()
    services.refund_request(payment=full, amount=full.self_paid, reason="other",
                            reason_note="全额退费", acting_user=role_staff("ra_rec", CLERK, ("500231",)))
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(3):
        _payment_of_a_new_person(f"ADM-N{n}")
    with CaptureQueriesContext(connection) as four:
        page = client.get(url).content.decode()
    assert page.count("申请退费") >= 3 and "无可退金额" in page  # the fully refunded one
    assert len(four) == len(one)
