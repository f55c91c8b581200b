"""Payment batches (docs/money.md §支付批次与银行回盘): approved claims → a batch per fund
and bank → the bank file → the returned file (成功/失败) → the claim 已支付 or back to
待支付 with the bank's reason; the ledger agrees after every step."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from audit.models import AuditEntry
from claims import services as claims
from claims.models import Claim
from finance.checks import ledger_differences
from finance.models import PaymentBatch, PaymentLine
from finance.services import batches as services
from finance.tests.factories import approved_claim, fund_of, payee_fields
from ledger import selectors as ledger
from ledger.models import Account, Journal, SourceKind
from policies.duties import ensure_default_rows
from policies.models import DutySeparation
from policies.roles import FUND_FINANCE, REVIEWER
from policies.tests.factories import role_staff
from sheets.tests.helpers import write_csv, write_xlsx

pytestmark = pytest.mark.django_db

BANK = "中国农业银行垫江支行"
RETURN_HEADER = ["序号", "户名", "账号", "开户行", "金额", "用途", "处理结果", "失败原因", "银行流水号"]


def bank_balance(scheme) -> Decimal:
    return ledger.balance(account=Account.BANK, scheme=scheme)


@pytest.fixture
def staff(loaded_policies):
    ensure_default_rows()
    return {"reviewer": role_staff("shenhe_b", REVIEWER), "finance": role_staff("caiwu_b", FUND_FINANCE)}


def returned(tmp_path, batch, answers: dict[int, tuple], *, fmt="xlsx", name="回盘"):
    """The returned file of ``batch``: the bank file's rows with ``{seq: (结果, 原因, 流水号)}``."""
    rows = []
    for line in batch.lines.order_by("seq"):
        if line.seq in answers:
            rows.append([line.seq, line.payee_name, line.account_number, line.bank_name,
                         str(line.amount), line.purpose, *answers[line.seq]])
    path = tmp_path / f"{name}.{fmt}"
    return (write_xlsx if fmt == "xlsx" else write_csv)(path, RETURN_HEADER, rows)


def _import(batch, path, user):
    return services.batch_return_import(batch=batch, path=path, name=path.name, acting_user=user)


def test_batch_export_and_returned_file_pay_one_claim_and_hand_back_the_other(staff, tmp_path):
    reviewer, finance = staff["reviewer"], staff["finance"]
    c1 = approved_claim(reviewer, payee=payee_fields(1))
    c2 = approved_claim(reviewer, payee=payee_fields(2))
    c3 = approved_claim(reviewer)  # no bank account: left out and named
    scheme = fund_of(c1)
    created = services.batch_create(scheme=scheme, bank=BANK, acting_user=reviewer)
    batch = created.batch
    assert batch.status == PaymentBatch.Status.DRAFT and batch.created_by == reviewer
    assert [line.source_id for line in batch.lines.order_by("seq")] == [c1.pk, c2.pk]
    assert f"理赔“{c3.settlement_no}”" in created.message and "缺少账户名、银行账号、开户银行" in created.message
    owed = {c.pk: -ledger.balance(source=(SourceKind.CLAIM, c.pk), account=Account.PAYABLE) for c in (c1, c2)}
    assert {line.source_id: line.amount for line in batch.lines.all()} == owed
    # a second batch finds nothing new while these claims wait for the bank
    with pytest.raises(ValidationError, match="没有可支付的理赔"):
        services.batch_create(scheme=scheme, bank=BANK, acting_user=reviewer)
    with pytest.raises(ValidationError, match="等待银行回盘，不能退回或冲正"):
        claims.claim_return(claim=c1, acting_user=reviewer, reason="重新核对")
    with pytest.raises(ValidationError, match="等待银行回盘，不能退回或冲正"):
        claims.claim_reverse(claim=c1, acting_user=reviewer, reason="发票重复")
    with pytest.raises(ValidationError, match="尚未导出"):
        _import(batch, returned(tmp_path, batch, {1: ("成功", "", "B1")}), finance)

    name, content = services.batch_export(batch=batch, fmt="xlsx", acting_user=finance)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "户名", "账号", "开户行", "金额", "用途"]
    assert rows[1][:4] == (1, "收款人1", payee_fields(1)["bank_account_number"], payee_fields(1)["bank_name"])
    assert Decimal(str(rows[1][4])) == owed[c1.pk] and c1.settlement_no in rows[1][5]
    _name, csv_content = services.batch_export(batch=batch, fmt="csv", acting_user=finance)
    assert payee_fields(2)["bank_account_number"] in csv_content.decode("utf-8-sig")
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.EXPORTED and batch.exported_by == finance
    downloads = AuditEntry.objects.filter(action="download", object_id=str(batch.pk))
    assert downloads.count() == 2 and downloads.first().details["rows"] == 2
    assert ledger_differences() == []

    before = bank_balance(scheme)
    path = returned(tmp_path, batch, {1: ("成功", "", "B0001"), 2: ("失败", "账户已销户", "B0002")})
    result = _import(batch, path, finance)
    assert (result.succeeded, result.failed, result.unchanged) == (1, 1, 0)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.PARTLY_FAILED and batch.returned_by == finance
    c1, c2 = Claim.objects.get(pk=c1.pk), Claim.objects.get(pk=c2.pk)
    assert c1.status == Claim.Status.PAID and c1.paid_by == finance
    assert c2.status == Claim.Status.APPROVED and "账户已销户" in c2.status_reason
    line1, line2 = batch.lines.order_by("seq")
    assert (line1.status, line1.bank_reference) == (PaymentLine.Status.SUCCESS, "B0001")
    assert (line2.status, line2.failure_reason) == (PaymentLine.Status.FAILED, "账户已销户")
    assert bank_balance(scheme) == before - owed[c1.pk]  # exactly the success left the fund
    paid = Journal.objects.get(source_kind=SourceKind.CLAIM, source_id=c1.pk, kind=Journal.Kind.CLAIM_PAID)
    assert paid.reference == f"{batch.number}/1"
    assert ledger_differences() == []

    # the same file again: nothing changes, and the message says so
    journals = Journal.objects.count()
    again = _import(batch, path, finance)
    assert again.changed == 0 and again.unchanged == 2 and "未作任何修改" in again.message
    assert Journal.objects.count() == journals
    # the failed claim is free for the next batch
    nxt = services.batch_create(scheme=scheme, bank=BANK, acting_user=reviewer).batch
    assert [line.source_id for line in nxt.lines.all()] == [c2.pk]
    assert ledger_differences() == []


def test_a_bad_returned_file_changes_nothing_and_names_each_row(staff, tmp_path):
    reviewer, finance = staff["reviewer"], staff["finance"]
    c1 = approved_claim(reviewer, payee=payee_fields(3))
    approved_claim(reviewer, payee=payee_fields(4))
    batch = services.batch_create(scheme=fund_of(c1), bank=BANK, acting_user=reviewer).batch
    services.batch_export(batch=batch, fmt="csv", acting_user=finance)
    line1 = batch.lines.get(seq=1)
    rows = [[1, line1.payee_name, line1.account_number, line1.bank_name, str(line1.amount + 1), "", "成功", "", ""],
            [7, "某人", "6228480000000000000", "某行", "10.00", "", "成功", "", ""],
            [2, "", batch.lines.get(seq=2).account_number, "", str(batch.lines.get(seq=2).amount), "",
             "失败", "", ""]]
    path = write_csv(tmp_path / "bad.csv", RETURN_HEADER, rows, encoding="gb18030")
    journals = Journal.objects.count()
    with pytest.raises(ValidationError) as caught:
        _import(batch, path, finance)
    text = "\n".join(caught.value.messages)
    assert "第 2 行：金额" in text and "不符" in text
    assert "第 3 行：序号 7 不是本批次的明细" in text
    assert "第 4 行：处理结果为失败时须填写失败原因" in text
    assert Journal.objects.count() == journals
    assert set(batch.lines.values_list("status", flat=True)) == {PaymentLine.Status.PENDING}
    assert Claim.objects.get(pk=c1.pk).status == Claim.Status.APPROVED
    missing = write_csv(tmp_path / "missing.csv", ["序号", "户名", "金额"], [[1, "x", "1"]])
    with pytest.raises(ValidationError, match="回盘文件缺少列：账号、处理结果"):
        _import(batch, missing, finance)
    # a later file may not change an answer already imported
    _import(batch, returned(tmp_path, batch, {1: ("成功", "", "B1")}), finance)
    with pytest.raises(ValidationError, match="已于.*回盘为“成功”，不能改为“失败”"):
        _import(batch, returned(tmp_path, batch, {1: ("失败", "户名不符", "")}, name="b"), finance)
    assert batch.lines.get(seq=2).status == PaymentLine.Status.PENDING
    assert ledger_differences() == []


def test_whoever_generated_the_batch_cannot_import_its_returned_file(staff, tmp_path):
    both = role_staff("shenhe_caiwu", REVIEWER)
    both.groups.add(*role_staff("caiwu_x", FUND_FINANCE).groups.all())
    both = type(both).objects.get(pk=both.pk)
    claim = approved_claim(staff["reviewer"], payee=payee_fields(5))
    batch = services.batch_create(scheme=fund_of(claim), bank=BANK, acting_user=both).batch
    services.batch_export(batch=batch, fmt="xlsx", acting_user=both)
    path = returned(tmp_path, batch, {1: ("成功", "", "B9")})
    with pytest.raises(ValidationError, match="岗位分离：导入银行回盘不能由生成支付批次的同一人员办理"):
        _import(batch, path, both)
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.APPROVED
    DutySeparation.objects.filter(act="bank_return_import", prior="batch_create").update(enforced=False)
    assert _import(batch, path, both).succeeded == 1
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PAID
    assert ledger_differences() == []


def test_a_draft_batch_can_be_cancelled_and_frees_its_claims(staff):
    reviewer = staff["reviewer"]
    claim = approved_claim(reviewer, payee=payee_fields(6))
    scheme = fund_of(claim)
    batch = services.batch_create(scheme=scheme, bank=BANK, acting_user=reviewer).batch
    with pytest.raises(Exception, match="权限"):
        services.batch_cancel(batch=batch, acting_user=reviewer, reason="银行有误")
    batch = services.batch_cancel(batch=batch, acting_user=staff["finance"], reason="银行有误")
    assert batch.status == PaymentBatch.Status.CANCELLED
    assert set(batch.lines.values_list("status", flat=True)) == {PaymentLine.Status.CANCELLED}
    claims.claim_return(claim=claim, acting_user=reviewer, reason="重新核对")
    assert ledger_differences() == []


def test_the_database_refuses_a_second_open_line_and_a_non_positive_amount(staff):
    from django.db import IntegrityError, transaction

    claim = approved_claim(staff["reviewer"], payee=payee_fields(7))
    batch = services.batch_create(scheme=fund_of(claim), bank=BANK, acting_user=staff["reviewer"]).batch
    line = batch.lines.get()
    for changes in ({"seq": 2}, {"seq": 3, "amount": Decimal("0")}):
        copy = PaymentLine(**{**{f.attname: getattr(line, f.attname) for f in PaymentLine._meta.concrete_fields
                                 if f.attname != "id"}, **changes})
        if "amount" in changes:
            copy.source_id += 1000000  # not the same document: only the amount is wrong
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()


def test_admin_create_export_upload_and_the_page_masks_accounts(staff, client, tmp_path):
    from django.urls import reverse

    reviewer, finance = staff["reviewer"], staff["finance"]
    c1 = approved_claim(reviewer, payee=payee_fields(8))
    c2 = approved_claim(reviewer, payee=payee_fields(9))
    scheme = fund_of(c1)
    client.force_login(reviewer)
    page = client.get(reverse("admin:finance_paymentbatch_add"))
    assert page.status_code == 200 and str(scheme) in page.content.decode()
    answer = client.post(reverse("admin:finance_paymentbatch_add"), {"scheme": scheme.pk, "bank": BANK}, follow=True)
    batch = PaymentBatch.objects.get()
    assert "已生成支付批次" in answer.content.decode() and batch.created_by == reviewer
    refused = client.get(reverse("admin:finance_paymentbatch_export", args=[batch.pk, "xlsx"]), follow=True)
    assert "未导出：您没有执行此操作的权限" in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.DRAFT

    client.force_login(finance)
    change = reverse("admin:finance_paymentbatch_change", args=[batch.pk])
    html = client.get(change).content.decode()
    account = payee_fields(8)["bank_account_number"]
    assert account not in html and f"{account[:6]}" in html and "导出银行文件（Excel）" in html
    download = client.get(reverse("admin:finance_paymentbatch_export", args=[batch.pk, "csv"]))
    assert download.status_code == 200 and account in download.content.decode("utf-8-sig")
    assert AuditEntry.objects.filter(action="download", user=finance).exists()
    path = returned(tmp_path, batch, {1: ("成功", "", "B1"), 2: ("失败", "户名与账号不符", "B2")})
    with open(path, "rb") as handle:
        done = client.post(reverse("admin:finance_paymentbatch_return", args=[batch.pk]), {"file": handle},
                           follow=True)
    html = done.content.decode()
    assert "成功 1 笔，失败 1 笔" in html and "户名与账号不符" in html and "部分失败" in html
    assert Claim.objects.get(pk=c1.pk).status == Claim.Status.PAID
    assert Claim.objects.get(pk=c2.pk).status == Claim.Status.APPROVED
    bad = write_csv(tmp_path / "bad.csv", RETURN_HEADER, [[5, "", "1", "", "1", "", "成功", "", ""]])
    with open(bad, "rb") as handle:
        refused = client.post(reverse("admin:finance_paymentbatch_return", args=[batch.pk]), {"file": handle})
    assert "第 2 行：序号 5 不是本批次的明细" in refused.content.decode()
    claim_page = client.get(reverse("admin:claims_claim_change", args=[c2.pk])).content.decode()
    assert "待支付：银行支付失败" in claim_page
    assert ledger_differences() == []


def test_batch_page_shows_line_amounts_grouped():
    """支付明细's 金额（元） reads as the batch's 合计 does (1,234.56), not ``40370.90``."""
    from django.contrib import admin as django_admin

    from finance.admin.batches import PaymentLineInline

    inline = PaymentLineInline(PaymentBatch, django_admin.site)
    assert "amount_text" in inline.fields and "amount" not in inline.fields
    assert inline.amount_text(PaymentLine(amount=Decimal("40370.90"))) == "40,370.90"
    assert inline.amount_text.short_description == "金额（元）"
