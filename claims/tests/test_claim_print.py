"""Printing a claim (issue 11 item 8; docs/claims.md §打印): only a settled claim prints as a
结算单 with fund figures; a draft, a returned claim and a trial result are marked 未结算 /
试算 on screen and on paper, with no fund figure presented as final."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from claims import services
from claims.models import Claim
from policies.roles import CLERK
from policies.tests.factories import role_staff

from .factories import dianjiang_person, outpatient

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:claims_claim_{name}", args=args)


@pytest.fixture
def clerk(client, loaded_policies):
    user = role_staff("jingban", CLERK)
    client.force_login(user)
    return user


def tfoot(page):
    return re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)


def test_draft_claim_prints_as_unsettled_without_fund_figures(client, clerk):
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    assert claim.status == Claim.Status.DRAFT
    page = client.get(url("print", claim.pk)).content.decode()
    assert 'class="watermark"' in page and ">未结算</div>" in page
    assert "理赔费用单（未结算）" in page and "医疗费用结算单" not in page
    assert "尚未结算，不是结算结果，不能作为报销或支付凭证" in page
    footer = tfoot(page)
    assert "0.00" not in footer and "400.00" not in footer  # no fund 0.00 / person pays all
    assert "无基金支付结果" in footer
    assert "个人负担" not in footer
    # the change page's button says what will be printed
    buttons = client.get(url("change", claim.pk)).context["claim_buttons"]
    assert [b["label"] for b in buttons if b["name"] == "print"] == ["打印（未结算）"]


def test_trial_result_is_marked_on_screen_and_on_paper(client, clerk):
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    page = client.get(url("trial", claim.pk)).content.decode()
    assert "试算 · 未结算" in page and "不是结算单" in page
    assert 'class="trial-watermark"' in page and "@media print" in page
    assert "基金支付合计（试算）" in page and "240.00" in page
    assert "打印试算结果" in page


def test_settled_claim_prints_as_a_settlement_sheet(client, clerk):
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    services.claim_settle(claim=claim, acting_user=clerk)
    page = client.get(url("print", claim.pk)).content.decode()
    assert "医疗费用结算单" in page and "未结算" not in page and "watermark" not in page.split("</style>")[1]
    footer = tfoot(page)
    assert "240.00" in footer and "160.00" in footer  # fund 240.00, person 160.00
    buttons = client.get(url("change", claim.pk)).context["claim_buttons"]
    assert [b["label"] for b in buttons if b["name"] == "print"] == ["打印结算单"]


def test_returned_claim_prints_its_old_result_as_void(client, clerk):
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    claim = services.claim_settle(claim=claim, acting_user=clerk)
    claim = services.claim_return(claim=claim, acting_user=None, reason="发票缺页")
    page = client.get(url("print", claim.pk)).content.decode()
    assert ">未结算</div>" in page and "退回前的结算结果，已失效" in page
    assert "240.00" not in tfoot(page)


def test_printed_amounts_are_grouped(client, clerk):
    """Every amount of the 结算单 reads 12,345.67 (policies.display.money_text); the
    engine's explanations keep their own text."""
    claim = services.claim_settle(claim=outpatient(dianjiang_person(), "12345.67", acting_user=clerk),
                                  acting_user=clerk)
    page = client.get(url("print", claim.pk)).content.decode()
    assert '<th>医疗总费用</th><td class="num">12,345.67</td>' in page
    fund, personal = claim.fund_total, claim.personal
    assert fund + personal == Decimal("12345.67") and personal >= 1000
    footer = tfoot(page)
    assert f"{fund:,.2f}" in footer and f"{personal:,.2f}" in footer
    assert str(personal) not in footer


def test_claims_list_groups_its_amount_columns(client, clerk):
    claim = services.claim_settle(claim=outpatient(dianjiang_person(), "12345.67", acting_user=clerk),
                                  acting_user=clerk)
    page = client.get(reverse("admin:claims_claim_changelist")).content.decode()
    assert '<td class="field-total_money">12,345.67</td>' in page
    assert f'<td class="field-personal_money">{claim.personal:,.2f}</td>' in page
    assert "医疗总费用（元）" in page and "12345.67" not in page
