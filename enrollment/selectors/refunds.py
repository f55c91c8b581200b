"""Reads of refunds (退费; docs/money.md §退费): what a payment can still refund, the
checks of a refund request (one function for the service, the admin form and the sheet),
the benefits booked for the enrollment's period, the refunds waiting to be paid."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from enrollment.models import Enrollment, Payment, Person, Refund
from ledger import selectors as ledger
from ledger.models import Account
from ledger.postings import money
from policies.access import scope_queryset

ZERO = Decimal("0.00")
REFUND_REGION = "payment__scheme__region"
BENEFITS_FIRST = "该参保人在本参保年度已有结算的理赔（待遇支出{amount}元），请先冲正该期间已结算的理赔，再办理退费"


def with_refunded(payments):
    """``payments`` with ``counted_refunds`` (Σ of each payment's refunds but 已驳回) read in
    the same query: a list page asks ``refundable`` of every row without a query per row."""
    counted = (Refund.objects.filter(payment=OuterRef("pk"), status__in=Refund.COUNTED)
               .order_by().values("payment").annotate(s=Sum("amount")).values("s"))
    return payments.annotate(counted_refunds=Coalesce(
        Subquery(counted, output_field=DecimalField(max_digits=12, decimal_places=2)),
        Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2)))


def refunded(payment: Payment, *, statuses=Refund.COUNTED, exclude_pk=None) -> Decimal:
    """Σ the payment's refunds in ``statuses`` (default: all but 已驳回); read from
    ``with_refunded``'s annotation when the payment carries it."""
    if statuses is Refund.COUNTED and exclude_pk is None and hasattr(payment, "counted_refunds"):
        return payment.counted_refunds
    qs = Refund.objects.filter(payment=payment, status__in=statuses)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.aggregate(s=Sum("amount"))["s"] or ZERO


def refundable(payment: Payment) -> Decimal:
    """What can still be refunded of the payment: its self-paid part less the refunds
    not rejected (a subsidy is never refunded)."""
    return max(ZERO, payment.self_paid - refunded(payment))


def payee_defaults(person: Person) -> dict[str, str]:
    """The payee of a refund by default: the person's bank fields."""
    return {"payee_name": person.bank_account_name or person.name,
            "payee_account": person.bank_account_number, "payee_bank": person.bank_name}


def benefits_booked(enrollment: Enrollment) -> Decimal:
    """待遇支出 booked for the person in the enrollment's region and plan year (claims
    approved and not reversed), read from the ledger."""
    scheme = enrollment.plan_year.scheme
    return ledger.balance(account=Account.BENEFIT, person=enrollment.person_id,
                          year=enrollment.plan_year.year, region_ids=[scheme.region_id])


def benefits_refusal(enrollment: Enrollment) -> str | None:
    """The refusal of a refund while benefits of the period are booked, or ``None``."""
    booked = benefits_booked(enrollment)
    if booked > 0:
        return BENEFITS_FIRST.format(amount=f"{booked:,.2f}")
    return None


def refund_refusals(*, payment: Payment, amount, reason: str, reason_note: str = "",
                    terminate_on: date | None = None, payee_name: str = "",
                    payee_account: str = "", payee_bank: str = "") -> dict[str, str]:
    """The Chinese refusals of a refund request, by field (empty when it may be recorded).
    Read under the enrollment's lock by ``services.refund_request``; without lock by the
    admin form to show the errors next to the fields."""
    out: dict[str, str] = {}
    try:
        value = money(amount) if amount is not None and amount != "" else None
    except (InvalidOperation, TypeError, ValueError):
        value = None
        out["amount"] = "退费金额必须是数字（元，最多两位小数）"
    if value is None and "amount" not in out:
        out["amount"] = "请填写退费金额"
    elif value is not None and value <= 0:
        out["amount"] = "退费金额必须大于零"
    elif value is not None:
        left = refundable(payment)
        if payment.self_paid <= 0:
            out["amount"] = (f"缴费记录“{payment.receipt_no}”没有个人缴费（资助金额"
                             f"{payment.subsidy:,.2f}元不退），不能退费")
        elif value > left:
            out["amount"] = (f"退费金额{value:,.2f}元超过可退金额{left:,.2f}元（个人缴费"
                             f"{payment.self_paid:,.2f}元，已申请或已退{payment.self_paid - left:,.2f}元；"
                             f"资助金额不退）")
    if reason not in Refund.Reason.values:
        out["reason"] = "请选择退费原因"
    elif reason == Refund.Reason.OTHER and not (reason_note or "").strip():
        out["reason_note"] = "退费原因为“其他”时请填写原因说明"
    if reason in Refund.ENDING_REASONS and terminate_on is None:
        out["terminate_on"] = f"退费原因为“{Refund.Reason(reason).label}”时请填写终止参保日期"
    payee = {"payee_name": ("收款户名", payee_name), "payee_account": ("收款银行账号", payee_account),
             "payee_bank": ("开户银行", payee_bank)}
    for field, (label, value) in payee.items():
        if not (value or "").strip():
            out[field] = f"请填写{label}（参保人未登记银行信息时须在此填写）"
    account = (payee_account or "").strip()
    if account and not account.isdigit():
        out["payee_account"] = "收款银行账号只能包含数字"
    if "amount" not in out:
        refusal = benefits_refusal(payment.enrollment)
        if refusal:
            out["amount"] = refusal
    return out


def ends_coverage(enrollment: Enrollment, refund: Refund) -> bool:
    """Whether approving ``refund`` ends the enrollment's coverage: its reason is 死亡,
    转出 or 参军, or the refunds booked (this one included) reach the enrollment's whole
    self-paid amount and it received no subsidy (a subsidy is never refunded, so a
    subsidised enrollment stays paid for by it)."""
    if refund.reason in Refund.ENDING_REASONS:
        return True
    totals = Payment.objects.filter(enrollment=enrollment).aggregate(
        self_paid=Sum("self_paid"), subsidy=Sum("subsidy"))
    if totals["subsidy"] or not totals["self_paid"]:
        return False
    booked = (Refund.objects.filter(payment__enrollment=enrollment, status__in=Refund.BOOKED)
              .exclude(pk=refund.pk).aggregate(s=Sum("amount"))["s"] or ZERO)
    return booked + refund.amount >= totals["self_paid"]


def refunds_visible_to(user):
    """The refunds of ``user``'s regions (all for a user who sees every region)."""
    qs = Refund.objects.select_related("payment__enrollment__person", "payment__scheme__region")
    return qs if user is None else scope_queryset(qs, user, REFUND_REGION)


def refunds_payable(*, acting_user=None, region_ids=None, scheme=None):
    """待支付 refunds (for the payment batches), oldest approval first, limited to
    ``acting_user``'s regions and to ``region_ids`` / ``scheme`` when given."""
    qs = refunds_visible_to(acting_user).filter(status=Refund.Status.PAYABLE)
    if region_ids is not None:
        qs = qs.filter(payment__scheme__region_id__in=region_ids)
    if scheme is not None:
        qs = qs.filter(payment__scheme=scheme)
    return qs.order_by("approved_at", "pk")
