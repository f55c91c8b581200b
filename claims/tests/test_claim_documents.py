"""The documents checklist (leshan.md 理赔所需资料; ``DocumentRule`` rows) and the
offline-review deadline over the holiday calendar (liaocheng.md: 7 working days)."""
import copy
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims import selectors, services
from claims.models import Claim
from policies.models import Holiday
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

from .factories import CASES, claim_for_case, hospital

pytestmark = pytest.mark.django_db


def leshan_case(total, basic_paid, *, location="in_region"):
    case = copy.deepcopy(CASES["ex-5"])
    case["claim"]["total"] = str(total)
    case["claim"]["given"]["employee_basic"]["paid"] = str(basic_paid)
    case["claim"]["hospital"]["location"] = location
    return case


def codes_of(claim):
    return [d.code for d in claim.documents.order_by("seq")]


def test_local_claim_below_threshold_needs_the_settlement_sheet_only(loaded_policies):
    claim = services.claim_settle(claim=claim_for_case(leshan_case(50000, 38000)), acting_user=None)
    assert claim.fund_total == Decimal("47900.00")  # 38000 given + 9900
    assert codes_of(claim) == ["settlement_sheet"]
    assert claim.documents.get().copies == 2


def test_local_claim_paying_10000_needs_id_and_phone_and_blocks_approval(loaded_policies):
    clerk, reviewer = role_staff("jingban_ls", CLERK, ("511100",)), role_staff("shenhe_ls", REVIEWER, ("511100",))
    claim = services.claim_settle(claim=claim_for_case(leshan_case(100000, 80000)), acting_user=clerk)
    supplementary = claim.current_layers().get(scheme_kind="employee_supplementary")
    assert supplementary.paid == Decimal("17100.00")  # (100000 − 1000 − 80000) × 90 %
    assert codes_of(claim) == ["settlement_sheet", "id_copy", "phone"]
    with pytest.raises(ValidationError) as exc:
        services.claim_approve(claim=claim, acting_user=reviewer)
    assert exc.value.error_dict["documents"][0].code == "documents_missing"
    assert "身份证复印件" in exc.value.messages[0]
    docs = list(claim.documents.all())
    services.claim_documents_receive(claim=claim, acting_user=clerk,
                                     received={d.pk: True for d in docs[:2]})
    with pytest.raises(ValidationError, match="联系电话"):
        services.claim_approve(claim=claim, acting_user=reviewer)
    services.claim_documents_receive(claim=claim, acting_user=clerk, received={docs[2].pk: True})
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    assert claim.status == Claim.Status.APPROVED
    assert claim.documents.filter(received_by=clerk).count() == 3


def test_out_of_region_checklist_depends_on_the_total(loaded_policies):
    case = leshan_case(12000, 5000, location="in_province")
    claim = services.claim_settle(claim=claim_for_case(case), acting_user=None)
    assert claim.location == "in_province"
    assert codes_of(claim) == ["agency_settlement", "id_copy", "invoice_copy", "discharge_copy",
                               "itemised_list", "bank_account", "contact_phone"]
    small = services.claim_settle(claim=claim_for_case(leshan_case(8000, 5000, location="in_province")),
                                  acting_user=None)
    assert codes_of(small) == ["agency_settlement", "id_copy", "bank_account", "contact_phone"]


def test_resettlement_keeps_received_items(loaded_policies):
    claim = services.claim_settle(claim=claim_for_case(leshan_case(50000, 38000)), acting_user=None)
    doc = claim.documents.get()
    services.claim_documents_receive(claim=claim, acting_user=None, received={doc.pk: True})
    claim = services.claim_resettle(claim=claim, acting_user=None, reason="复核")
    assert claim.documents.get().received is True


def liaocheng_claim(accepted_on, **fields):
    case = copy.deepcopy(CASES["ex-7"])
    claim = claim_for_case(case)
    return services.claim_update(claim=claim, acting_user=None, offline_review=True,
                                 accepted_on=accepted_on, **fields)


def test_offline_review_deadline_counts_working_days_over_holidays(loaded_policies):
    # accepted Friday 2024-09-27: 9-29 (调休 Sunday), 9-30, [10-01…10-07 国庆], 10-08, 10-09,
    # 10-10, 10-11, 10-12 (调休 Saturday) = the 7th working day
    claim = liaocheng_claim(date(2024, 9, 27))
    assert claim.review_due_date == date(2024, 10, 12)
    # without the calendar the 7th weekday would be 10-08
    assert selectors.add_working_days(date(2024, 9, 27), 7, set(), set()) == date(2024, 10, 8)
    assert list(selectors.overdue_claims(today=date(2024, 10, 12))) == []
    assert list(selectors.overdue_claims(today=date(2024, 10, 14))) == [claim]
    claim = services.claim_settle(claim=claim, acting_user=None)
    assert list(selectors.overdue_claims(today=date(2024, 10, 14))) == [claim]  # not decided yet
    services.claim_approve(claim=claim, acting_user=None)
    assert list(selectors.overdue_claims(today=date(2024, 10, 14))) == []


def test_nightly_job_lists_the_overdue_claims(loaded_policies):
    from openpyxl import load_workbook

    from jobs.models import Job
    from jobs.services import job_start_periodic

    claim = liaocheng_claim(date(2024, 9, 27))  # due 2024-10-12: long overdue today
    job = Job.objects.get(pk=job_start_periodic("overdue_claims").pk)
    assert (job.status, job.counts, job.title) == ("succeeded", {"overdue": 1}, "逾期未审核理赔清单（定时）")
    sheet = load_workbook(job.result_file.path).active
    header, row = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    assert header[:3] == ["统筹区", "结算单号", "参保人"] and row[1] == claim.settlement_no
    assert [line.text for line in job.log_lines.all()] == [f"{claim.region.name}：逾期 1 件"]


def test_deadline_follows_edited_calendar_rows_and_regions(loaded_policies):
    claim = liaocheng_claim(date(2024, 3, 1))  # Friday; 7 working days → Tuesday 3-12
    assert claim.review_due_date == date(2024, 3, 12)
    Holiday.objects.create(region=claim.region, date=date(2024, 3, 11), kind="holiday",
                           name="地方假日")
    Holiday.objects.create(region=hospital("500231").region, date=date(2024, 3, 12),
                           kind="holiday", name="他区假日")  # another region's row: ignored
    claim = services.claim_update(claim=claim, acting_user=None, note="日历已调整")
    assert claim.review_due_date == date(2024, 3, 13)


def test_no_deadline_without_offline_review_or_figure(loaded_policies):
    claim = claim_for_case(copy.deepcopy(CASES["ex-7"]))
    assert claim.review_due_date is None
    dianjiang = claim_for_case(copy.deepcopy(CASES["ex-1"]))
    dianjiang = services.claim_update(claim=dianjiang, acting_user=None, offline_review=True)
    assert dianjiang.review_due_date is None  # 垫江 has no review_working_days figure
