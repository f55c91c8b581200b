"""Sheet kind ``refunds`` (退费申请: one row = one refund request of a recorded payment;
docs/money.md §退费). Each row is checked by ``selectors.refund_refusals`` — the check of
``services.refund_request`` and of the admin form — and the rows of one payment together
may not exceed what it can still refund; the whole file is written, through
``refund_request``, only when no row is bad. A row equal to a refund already recorded
(same payment, amount, reason and note, not rejected) is 无变化, so a file imported twice
records nothing twice. Import permission: ``enrollment.import_refund``; the export lists
the refunds with their status (the account masked as the user's rule says)."""
from __future__ import annotations

from collections import defaultdict

from enrollment import selectors, services
from enrollment.models import Payment, Refund
from enrollment.sheet_kinds.columns import ID_ALIASES, SCHEME_KINDS, document_number_cell
from enrollment.sheet_kinds.rows import PersonRowsMixin, written
from policies.masking import masked_bank_account, masked_id
from sheets.parsing import CodeTable, number_text, parse_date, parse_decimal, text
from sheets.registry import Column, SheetKind, register

REASONS = CodeTable("退费原因", Refund.Reason.choices, {"重复": "duplicate", "多缴费": "overpaid",
                                                    "转移": "transfer", "转出统筹区": "transfer",
                                                    "入伍": "military"})
STATUS_NAMES = dict(Refund.Status.choices)
ZERO = selectors.refunds.ZERO


@register
class RefundSheet(PersonRowsMixin, SheetKind):
    """退费申请: key = (证件号码, 票据/流水号[, 险种]) names the payment refunded."""

    name = "refunds"
    model = Refund
    writes = ("enrollment.Refund",)
    label = "退费"
    import_permission = "enrollment.import_refund"

    def __init__(self):
        self.columns = [
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
                   description="须为已登记的参保人", attribute="payment__enrollment__person__document_number",
                   mask=masked_id),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致",
                   attribute="payment__enrollment__person__name"),
            Column("receipt_no", "票据/流水号", lambda v: number_text(v, "票据/流水号"), required=True,
                   aliases=("票据号", "流水号", "缴费票据号"), description="退费所对应的缴费记录",
                   attribute="payment__receipt_no"),
            Column("scheme", "险种", SCHEME_KINDS, default="",
                   description="该参保人有多笔同号缴费时必填：" + SCHEME_KINDS.describe(),
                   attribute="payment__scheme__kind"),
            Column("amount", "退费金额", parse_decimal, required=True, aliases=("退费金额（元）",),
                   description="元，两位小数；只退个人缴费部分（资助金额不退）"),
            Column("reason", "退费原因", REASONS, required=True, description=REASONS.describe()),
            Column("reason_note", "原因说明", text, default="", description="退费原因为“其他”时必填"),
            Column("terminate_on", "终止参保日期", parse_date,
                   description="退费原因为死亡、转出、参军时必填"),
            Column("payee_name", "收款户名", text, default="", description="空 = 参保人登记的银行信息"),
            Column("payee_account", "收款银行账号", lambda v: number_text(v, "收款银行账号"), default="",
                   description="空 = 参保人登记的银行账号", mask=masked_bank_account),
            Column("payee_bank", "开户银行", text, default="", description="空 = 参保人登记的开户银行"),
            Column("number", "退费单号", export_only=True, export=lambda obj, _r: str(obj)),
            Column("status", "退费状态", export_only=True, render=lambda s: STATUS_NAMES.get(s, s)),
            Column("recorded_at", "登记时间", export_only=True),
            Column("approved_at", "复核通过时间", export_only=True),
            Column("paid_on", "支付日期", export_only=True),
            Column("paid_reference", "支付流水号", export_only=True),
            Column("failure_reason", "支付失败原因", export_only=True),
            Column("reject_reason", "驳回原因", export_only=True),
        ]

    def start(self, ctx):
        ctx.state["claimed"] = defaultdict(lambda: ZERO)  # payment id → Σ amounts of the file

    def _payment(self, ctx, row, person, payments):
        found = [p for p in payments.get(person.pk, []) if p.receipt_no == row["receipt_no"]]
        if row["scheme"]:
            found = [p for p in found if p.scheme.kind == row["scheme"]]
        if not found:
            ctx.error(row, "receipt_no", f"{person.name}没有票据/流水号为“{row['receipt_no']}”的缴费记录")
            return None
        if len(found) > 1:
            ctx.error(row, "scheme", "该参保人在多个险种有此票据/流水号，请填写险种")
            return None
        if not ctx.in_scope(found[0].scheme.region_id):
            ctx.error(row, "receipt_no", "该缴费记录不属于您负责的统筹区")
            return None
        return found[0]

    def check(self, rows, ctx):
        data = dict(zip(("persons", "visible"), self._persons(ctx, {r["document_number"] for r in rows}),
                        strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name")
            if person is not None:
                work.append((row, person))
        payments = defaultdict(list)
        for payment in (Payment.objects.filter(enrollment__person_id__in={p.pk for _r, p in work},
                                               receipt_no__in={r["receipt_no"] for r, _p in work})
                        .select_related("scheme", "enrollment__person", "enrollment__plan_year__scheme")):
            payments[payment.enrollment.person_id].append(payment)
        planned = []
        for row, person in work:
            payment = self._payment(ctx, row, person, payments)
            if payment is None:
                continue
            defaults = selectors.payee_defaults(person)
            values = {
                "reason_note": row["reason_note"], "terminate_on": row["terminate_on"],
                **{k: (row[k] or "").strip() or defaults[k] for k in ("payee_name", "payee_account",
                                                                    "payee_bank")}}
            if Refund.objects.filter(payment=payment, amount=row["amount"], reason=row["reason"],
                                     reason_note=values["reason_note"],
                                     status__in=Refund.COUNTED).exists():
                ctx.count("unchanged")
                continue
            refusals = selectors.refund_refusals(payment=payment, amount=row["amount"],
                                                 reason=row["reason"], **values)
            for key, message in refusals.items():
                ctx.error(row, key, message)
            if refusals:
                continue
            claimed = ctx.state["claimed"][payment.pk] + row["amount"]
            left = selectors.refundable(payment)
            if claimed > left:
                ctx.error(row, "amount", f"本文件中缴费记录“{payment.receipt_no}”的退费合计{claimed:,.2f}元"
                                         f"超过可退金额{left:,.2f}元")
                continue
            ctx.state["claimed"][payment.pk] = claimed
            ctx.count("created")
            planned.append((row.number, payment, row["amount"], row["reason"], values))
        return planned

    def write(self, planned, ctx):
        for number, payment, amount, reason, values in planned:
            written(services.refund_request, number, payment=payment, amount=amount, reason=reason,
                    acting_user=ctx.user, **values)

    def export_queryset(self, user, *, region=None, year=None):
        qs = selectors.refunds_visible_to(user)
        if region is not None:
            qs = qs.filter(payment__scheme__region=region)
        if year is not None:
            qs = qs.filter(payment__enrollment__plan_year__year=year)
        return qs.order_by("pk")

