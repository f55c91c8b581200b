"""年度清算 (docs/money.md §年度清算; issue 16 §7): the statement of a commercial fund's
year from payments recorded through the enrollment services and claims settled, approved
and paid through the claims services; signed by a second person, then frozen."""
from decimal import Decimal as D
from io import BytesIO, StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from openpyxl import load_workbook

from claims import services as claims
from claims.tests.factories import CASES, claim_for_case, enroll, new_person, pay_outstanding, plan_year
from enrollment.models import Payment
from enrollment.services import refunds as refund_services
from finance import services
from finance.checks import ledger_differences
from finance.models import YearEndExpense, YearEndLine, YearEndStatement
from finance.selectors import statement_figures
from policies.models import PlanFigure
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

pytestmark = pytest.mark.django_db

SM, LC, LS = "350400", "371500", "511100"
KIND = "inclusive_commercial"


@pytest.fixture
def staff(loaded_policies):
    """A clerk who prepares and a reviewer who signs, of 三明 and 聊城."""
    return (role_staff("jingban_qs", CLERK, (SM, LC, LS)), role_staff("shenhe_qs", REVIEWER, (SM, LC, LS)))


def _lines(statement) -> dict[str, YearEndLine]:
    return {line.code: line for line in statement.lines.all()}


def _paid_claim(case_id, clerk, reviewer):
    """The spec example settled by the clerk, approved and paid by the reviewer."""
    claim = claims.claim_settle(claim=claim_for_case(CASES[case_id], acting_user=clerk), acting_user=clerk)
    claims.claim_documents_receive(claim=claim, acting_user=reviewer,
                                   received={d.pk: True for d in claim.documents.all()})
    claim = claims.claim_approve(claim=claim, acting_user=reviewer)
    return pay_outstanding(claim)


def _premium_payers(region, n):
    for _ in range(n):
        enroll(new_person(region), region, KIND)


def _expenses(region, *rows):
    py = plan_year(region, KIND)
    for seq, (name, amount, ratio) in enumerate(rows, 1):
        row = YearEndExpense(plan_year=py, seq=seq, name=name,
                             method="ratio" if ratio is not None else "amount", amount=amount, ratio=ratio)
        row.full_clean()
        row.save()


def test_sanming_ex6_claims_by_responsibility_agree_with_the_ledger(staff):
    clerk, reviewer = staff
    claim = _paid_claim("ex-6", clerk, reviewer)
    scheme = plan_year(SM, KIND).scheme
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    lines = _lines(statement)
    # ex-6: R1 (60 000 − 35 000 − 5 000) × 100 % = 20 000.00; the given basic and critical
    # illness layers are the hospital system's and are not this fund's
    assert lines["R1"].amount == D("20000.00") and lines["R1"].count == 1
    assert lines["R1"].label.startswith("责任一")
    assert not {"R2", "R3", "R4A", "R4B", "FLOOR", "unsplit", "other"} & set(lines)
    assert statement.claims_paid == statement.ledger_benefit == D("20000.00")
    assert lines["difference"].amount == 0 and lines["difference"].note == "一致"
    assert (lines["paid"].amount, lines["payable"].amount) == (D("20000.00"), D("0.00"))
    # the person's own 150 元 premium, recorded through payment_record
    assert statement.premium_self == statement.premium_income == D("150.00")
    assert lines["contribution"].label == "缴费到账"
    assert statement.insurer == scheme.operator and statement.status == "draft"
    # no expenses entered: the statement says so, no profit, cannot be signed
    assert statement.expenses is None and statement.profit is None
    assert "经营费用未录入" in statement.notes
    with pytest.raises(ValidationError, match="经营费用未录入"):
        services.statement_sign(statement=statement, acting_user=reviewer)
    _expenses(SM, ("运营服务费", D("1000.00"), None))
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    assert statement.profit == D("150.00") - D("20000.00") - D("1000.00")
    assert statement.health_fund_transfer == D("0.00") and statement.transfer_threshold == D("4.50")
    assert statement.retained == statement.profit
    assert _lines(statement)["transfer"].note == "亏损，无转入"
    assert statement.loss_ratio == D("13333.33")
    statement = services.statement_sign(statement=statement, acting_user=reviewer)
    assert statement.status == "signed" and statement.signed_by == reviewer
    assert claim.status == "paid"
    assert ledger_differences() == []


def test_profit_above_the_threshold_goes_to_the_health_fund_and_signed_figures_are_frozen(staff):
    clerk, reviewer = staff
    _premium_payers(SM, 4)  # 4 × 150 = 600.00
    _expenses(SM, ("运营服务费", None, D("10")), ("宣传推广费", D("40.00"), None))
    scheme = plan_year(SM, KIND).scheme
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    lines = _lines(statement)
    assert statement.premium_income == D("600.00") and statement.claims_paid == 0
    assert [(line.label, line.amount) for line in statement.lines.filter(section="expenses")] == [
        ("运营服务费", D("60.00")), ("宣传推广费", D("40.00")), ("经营费用合计", D("100.00"))]
    # 三明: net profit above 3 % of premium goes to the 健康管理基金 (PlanFigure row, value 3)
    assert statement.transfer_rate == D("3.00")
    assert (statement.profit, statement.transfer_threshold, statement.health_fund_transfer,
            statement.retained) == (D("500.00"), D("18.00"), D("482.00"), D("18.00"))
    assert lines["transfer"].note == "净利润超过起点的部分"

    # a payment after 编制 makes the draft stale: 签认 refused until re-编制
    _premium_payers(SM, 1)
    with pytest.raises(ValidationError, match="请重新编制"):
        services.statement_sign(statement=statement, acting_user=reviewer)
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    assert statement.premium_income == D("750.00")
    signed = services.statement_sign(statement=statement, acting_user=reviewer)

    # later payments and parameter changes do not change a signed statement
    _premium_payers(SM, 2)
    PlanFigure.objects.filter(plan_year=plan_year(SM, KIND), code="profit_transfer_rate").update(value=5)
    signed.refresh_from_db()
    assert (signed.premium_income, signed.health_fund_transfer) == (D("750.00"), D("612.50"))
    assert _lines(signed)["premium_total"].amount == D("750.00")
    with pytest.raises(ValidationError, match="已签认"):
        services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    with pytest.raises(ValidationError, match="已签认"):
        services.statement_sign(statement=signed, acting_user=reviewer)

    # 重新清算: a new version with the figures of now; the signed one unchanged
    with pytest.raises(ValidationError):
        services.statement_reopen(statement=signed, acting_user=clerk, reason=" ")
    v2 = services.statement_reopen(statement=signed, acting_user=clerk, reason="补录12月缴费")
    assert (v2.version, v2.status, v2.previous_id, v2.premium_income) == (2, "draft", signed.pk, D("1050.00"))
    assert v2.transfer_rate == D("5.00")
    signed.refresh_from_db()
    assert signed.premium_income == D("750.00") and signed.status == "signed"
    with pytest.raises(ValidationError, match="最新一版"):
        services.statement_reopen(statement=signed, acting_user=clerk, reason="再次")
    assert ledger_differences() == []


def test_the_preparer_cannot_sign(staff):
    clerk, reviewer = staff
    both = role_staff("jingban_shenhe_qs", CLERK, (SM,))
    both.groups.add(*reviewer.groups.all())
    both = type(both).objects.get(pk=both.pk)
    _premium_payers(SM, 1)
    _expenses(SM, ("运营服务费", D("10.00"), None))
    statement = services.statement_prepare(scheme=plan_year(SM, KIND).scheme, year=2024, acting_user=both)
    with pytest.raises(ValidationError, match="岗位分离：年度清算表的签认不能由编制该表的同一人员办理") as caught:
        services.statement_sign(statement=statement, acting_user=both)
    assert caught.value.code == "duty_separation"
    statement.refresh_from_db()
    assert statement.status == "draft" and statement.signed_by is None
    # the database refuses it too
    with pytest.raises(IntegrityError), transaction.atomic():
        YearEndStatement.objects.filter(pk=statement.pk).update(
            status="signed", signed_by=both, signed_at=statement.prepared_at)
    assert services.statement_sign(statement=statement, acting_user=reviewer).status == "signed"
    assert ledger_differences() == []


def test_liaocheng_ex7_has_no_health_fund_row_and_flags_the_loss_ratio(staff):
    clerk, reviewer = staff
    _paid_claim("ex-7", clerk, reviewer)
    scheme = plan_year(LC, KIND).scheme
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    lines = _lines(statement)
    assert lines["R1"].amount == D("7200.00") and "R2" not in lines  # R2 0.00: below its deductible
    assert statement.claims_paid == statement.ledger_benefit == D("7200.00")
    assert statement.premium_income == D("89.00")
    assert statement.transfer_rate is None and statement.health_fund_transfer is None
    assert "健康管理基金：该险种年度方案未设置" in statement.notes
    assert lines["transfer"].note == "年度方案未设置转入起点，不计算"
    assert statement.loss_ratio_target == D("80.00")
    assert "达到底线" in lines["loss_ratio"].note
    assert ledger_differences() == []


def test_leshan_ex5_employee_supplementary_by_band(staff):
    clerk, reviewer = staff
    _paid_claim("ex-5", clerk, reviewer)
    scheme = plan_year(LS, "employee_supplementary").scheme
    statement = services.statement_prepare(scheme=scheme, year=2024, acting_user=clerk)
    lines = _lines(statement)
    # ex-5: (50 000 − 1 000 − 38 000) × 90 % = 9 900.00, the in-region band
    assert lines["BAND_LOCAL"].amount == D("9900.00") and lines["BAND_LOCAL"].label.startswith("住院费赔付")
    assert statement.claims_paid == statement.ledger_benefit == D("9900.00")
    assert statement.premium_income == D("265.00") and statement.insurer.startswith("中华联合")
    assert statement.transfer_rate is None and "未设置" in lines["transfer"].note
    assert ledger_differences() == []


def test_refunds_and_reversals_are_netted_and_a_returned_claim_leaves_the_statement(staff):
    clerk, reviewer = staff
    _premium_payers(SM, 2)
    scheme = plan_year(SM, KIND).scheme
    # a 退费 of one payer's 150.00, recorded and approved through the refund services
    payment = Payment.objects.filter(scheme=scheme).order_by("pk").first()
    refund = refund_services.refund_request(
        payment=payment, amount=D("150.00"), reason="duplicate", acting_user=clerk,
        payee_name="测试", payee_account="6228480000000000001", payee_bank="农业银行三明分行")
    refund_services.refund_approve(refund=refund, acting_user=reviewer)
    claim = claims.claim_settle(claim=claim_for_case(CASES["ex-6"], acting_user=clerk), acting_user=clerk)
    claims.claim_documents_receive(claim=claim, acting_user=reviewer,
                                   received={d.pk: True for d in claim.documents.all()})
    claim = claims.claim_approve(claim=claim, acting_user=reviewer)
    figures = statement_figures(scheme, 2024)
    assert figures.claims_paid == figures.ledger_benefit == D("20000.00")
    payable = {line.code: line.amount for line in figures.lines}
    assert (payable["paid"], payable["payable"]) == (D("0.00"), D("20000.00"))
    claims.claim_return(claim=claim, acting_user=reviewer, reason="发票金额有误")
    figures = statement_figures(scheme, 2024)
    amounts = {line.code: line.amount for line in figures.lines}
    assert figures.premium_income == D("450.00") - D("150.00")  # 3 payers − the refund
    assert amounts["contribution"] == D("450.00") and amounts["refund"] == D("-150.00")
    assert figures.claims_paid == figures.ledger_benefit == D("0.00")
    assert figures.check_agrees
    assert ledger_differences() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the freeze trigger is PostgreSQL's")
def test_the_database_refuses_to_change_a_signed_statement(staff):
    clerk, reviewer = staff
    _premium_payers(SM, 1)
    _expenses(SM, ("运营服务费", D("10.00"), None))
    statement = services.statement_prepare(scheme=plan_year(SM, KIND).scheme, year=2024, acting_user=clerk)
    statement = services.statement_sign(statement=statement, acting_user=reviewer)
    for write in (lambda: YearEndStatement.objects.filter(pk=statement.pk).update(premium_income=0),
                  lambda: YearEndStatement.objects.filter(pk=statement.pk).delete(),
                  lambda: YearEndLine.objects.filter(statement=statement).update(amount=0),
                  lambda: YearEndLine.objects.create(statement=statement, section="result", seq=99,
                                                     label="追加", amount=1)):
        with pytest.raises(DatabaseError, match="已签认"), transaction.atomic():
            write()
    assert ledger_differences() == []


def test_expense_rows_are_validated(loaded_policies):
    py = plan_year(SM, KIND)
    with pytest.raises(ValidationError) as caught:
        YearEndExpense(plan_year=py, name="运营服务费", method="amount", ratio=D("5")).full_clean()
    assert set(caught.value.message_dict) == {"amount", "ratio"}
    with pytest.raises(ValidationError) as caught:
        YearEndExpense(plan_year=py, name="运营服务费", method="ratio", ratio=D("120")).full_clean()
    assert set(caught.value.message_dict) == {"ratio"}
    basic = plan_year(SM, "resident_basic")
    with pytest.raises(ValidationError, match="只能录入商业保险"):
        YearEndExpense(plan_year=basic, name="运营服务费", method="amount", amount=D("1")).full_clean()


def test_command_prints_prepares_and_exports(staff, tmp_path):
    clerk, reviewer = staff
    _premium_payers(SM, 2)
    out = StringIO()
    call_command("year_end_statement", "--scheme", SM, "--year", "2024", stdout=out)
    assert "尚未编制" in out.getvalue() and "保费收入合计：300.00" in out.getvalue()
    assert not YearEndStatement.objects.exists()
    target = tmp_path / "qs.xlsx"
    out = StringIO()
    call_command("year_end_statement", "--scheme", SM, "--year", "2024", "--prepare", "--user",
                 clerk.username, "--xlsx", str(target), stdout=out)
    assert "第1版）：草稿" in out.getvalue()
    ws = load_workbook(BytesIO(target.read_bytes())).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=7, values_only=True) if r[1]}
    assert rows["保费收入合计"][2] == 300
    assert "三明" in ws["A1"].value and "草稿" in ws["A3"].value
    assert ledger_differences() == []


def test_admin_prepare_page_sign_and_export(staff, client):
    clerk, reviewer = staff
    _premium_payers(SM, 1)
    _expenses(SM, ("运营服务费", D("10.00"), None))
    scheme = plan_year(SM, KIND).scheme
    base = "/admin/finance/yearendstatement/"
    client.force_login(clerk)
    assert "编制年度清算表" in client.get(f"{base}add/").content.decode()
    response = client.post(f"{base}add/", {"scheme": scheme.pk, "year": 2024})
    statement = YearEndStatement.objects.get()
    assert response.status_code == 302 and response.url == f"{base}{statement.pk}/change/"
    page = client.get(response.url).content.decode()
    for text in ("保费收入合计", "150.00", "草稿", "责任", "经营费用合计", "转入健康管理基金", "重新编制"):
        assert text in page, text
    assert "btn-sign" not in page  # a clerk holds no 签认 permission
    listing = client.get(base).content.decode()
    assert "三明" in listing and "150.00" in listing
    client.force_login(reviewer)
    page = client.get(f"{base}{statement.pk}/change/").content.decode()
    assert "btn-sign" in page and "btn-prepare" not in page
    client.post(f"{base}{statement.pk}/act/sign/")
    statement.refresh_from_db()
    assert statement.status == "signed" and statement.signed_by == reviewer
    page = client.get(f"{base}{statement.pk}/change/").content.decode()
    assert "已签认" in page and "btn-sign" not in page
    download = client.get(f"{base}{statement.pk}/xlsx/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    ws = load_workbook(BytesIO(download.content)).active
    assert "已签认" in ws["A3"].value
    client.force_login(role_staff("shenhe_ls_qs", REVIEWER, ("511100",)))
    assert client.get(f"{base}{statement.pk}/change/").status_code == 302  # another region: 不存在
    assert client.post(f"{base}{statement.pk}/act/prepare/").status_code == 302
    assert "三明" not in client.get(base).content.decode()
    assert ledger_differences() == []


def test_demo_loader_prepares_a_draft_per_commercial_product_once(loaded_policies):
    from finance import demo

    admin = role_staff("admin_qs", None, superuser=True)
    _premium_payers(SM, 1)
    for _ in range(2):
        demo.load(acting_user=admin, stdout=StringIO())
    statements = YearEndStatement.objects.order_by("scheme__region__code")
    assert [s.scheme.region.code for s in statements] == ["350400", "371500", "511100"]
    assert {s.status for s in statements} == {"draft"} and YearEndExpense.objects.count() == 3
    sanming = statements[0]
    assert sanming.premium_income == D("150.00") and sanming.expenses == D("12.00")
    assert ledger_differences() == []
