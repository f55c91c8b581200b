"""Who may pay through which channel — the second check of a contribution
(trial-calc.md ``relation_to_payer``; liaocheng.md 个人账户代缴; sanming.md 个人账户及家庭共济
账户; leshan.md 个人账户代扣).

The plan year's ``PayerRelationRule`` rows are a white list per channel: a channel
without rows is not restricted; otherwise some row must match the person's relation to
the payer (``self`` when the person pays for themself, the default) and, where the row
names one, the person's category.
"""
from __future__ import annotations

from insurance_rules.errors import NotEligible
from insurance_rules.facts import PersonFacts

from .plan import ContributionPlan
from .vocab import CATEGORY_NAMES, CHANNEL_NAMES, RELATION_NAMES


def check_payer(plan: ContributionPlan, person: PersonFacts, channel: str | None,
                relation: str | None) -> None:
    """Raise ``NotEligible`` when the payment may not be made this way."""
    if not channel:
        return
    rows = [r for r in plan.payer_rules if r.channel == channel]
    if not rows:
        return
    relation = relation or "self"
    channel_name = CHANNEL_NAMES.get(channel, channel)
    relation_name = RELATION_NAMES.get(relation, relation)
    matching = [r for r in rows if r.relation == relation]
    if not matching:
        order = list(RELATION_NAMES)
        codes = sorted({r.relation for r in rows},
                       key=lambda c: order.index(c) if c in order else len(order))
        allowed = "、".join(RELATION_NAMES.get(c, c) for c in codes)
        raise NotEligible(
            f"{plan.label}：“{channel_name}”只能为{allowed}缴费；参保人与缴费人的关系为"
            f"“{relation_name}”，不能使用该渠道缴费")
    if not any(r.category in ("", person.category) for r in matching):
        allowed = "、".join(dict.fromkeys(CATEGORY_NAMES.get(r.category, r.category)
                                          for r in matching))
        category = CATEGORY_NAMES.get(person.category, person.category)
        who = "本人缴费" if relation == "self" else f"参保人是缴费人的{relation_name}"
        raise NotEligible(
            f"{plan.label}：“{channel_name}”（{who}）只适用于{allowed}；"
            f"人员类别为“{category}”，不能使用该渠道缴费")
