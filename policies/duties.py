"""不相容岗位分离 (issue 16 §6; docs/money.md §岗位分离): whoever entered or settled a
claim cannot approve it, whoever recorded a refund cannot approve it, whoever created a
payment batch cannot import the bank's returned file — as the ``DutySeparation`` rows say
(a pair without a row is enforced). Services call ``separation_refusal`` and raise its
message; work done without a user (commands, demo loading) is not checked."""
from __future__ import annotations

from .history import create_with_history
from .models import DutySeparation

Act, Prior = DutySeparation.Act, DutySeparation.Prior

DEFAULT_PAIRS = (
    (Act.CLAIM_APPROVE, Prior.CLAIM_ENTER),
    (Act.CLAIM_APPROVE, Prior.CLAIM_SETTLE),
    (Act.REFUND_APPROVE, Prior.REFUND_RECORD),
    (Act.BANK_RETURN_IMPORT, Prior.BATCH_CREATE),
)
"""The rows ``roles_sync`` creates when missing (enforced)."""


def _relaxed(act: str) -> set[str]:
    return set(DutySeparation.objects.filter(act=act, enforced=False).values_list("prior", flat=True))


def separation_refusal(act: str, acting_user, done_by: dict[str, object]) -> str | None:
    """The Chinese refusal when ``acting_user`` did one of the earlier acts ``done_by``
    (``{Prior: user or user id or None}``) that ``act`` must be separated from."""
    user_id = getattr(acting_user, "pk", None)
    if user_id is None:
        return None
    same = [prior for prior, who in done_by.items()
            if who is not None and getattr(who, "pk", who) == user_id]
    if not same:
        return None
    relaxed = _relaxed(act)
    same = [prior for prior in same if prior not in relaxed]
    if not same:
        return None
    names = "、".join(Prior(p).label for p in same)
    return (f"岗位分离：{Act(act).label}不能由{names}的同一人员办理，请由其他人员办理"
            f"（规则见“岗位分离规则”）")


def ensure_default_rows() -> None:
    """Create the default rows that are missing (never overwrite an edited row)."""
    present = set(DutySeparation.objects.values_list("act", "prior"))
    create_with_history(DutySeparation, [DutySeparation(act=act, prior=prior)
                                         for act, prior in DEFAULT_PAIRS if (act, prior) not in present])
