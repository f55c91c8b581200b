"""Who may hold a commercial / supplementary scheme (spec trial-calc.md "Person",
sanming.md "Who can enroll").

The rule of every such scheme is the region's basic insurance
(``PersonFacts.basic_insured_in_region``). A formula family may admit others as well
(``insurance_rules.registry.admission``; 三明普惠医联保: 新市民 living in the region
long-term, 港澳台同胞 in the province's basic insurance) and words the refusal in its own
terms. Both the contribution rules (``insurance_rules.enrollment.eligibility``) and the settlement
(``insurance_rules.settle``) ask here, so enrolment and settlement always agree.
"""
from __future__ import annotations

from .facts import PersonFacts
from .registry import ADMISSIONS
from .systems import load_systems


def _admission(formula: str):
    load_systems()  # the families register when their module is imported
    return ADMISSIONS.get(formula or "")


def admission_ground(formula: str, person: PersonFacts) -> str:
    """Why ``person`` is admitted by formula family ``formula``: "本统筹区基本医疗保险参保人员"
    for the region's basic insured, the family's own ground for the others it admits,
    "" when not admitted."""
    if person.basic_insured_in_region:
        return "本统筹区基本医疗保险参保人员"
    rule = _admission(formula)
    return rule.ground(person) if rule is not None else ""


def refusal_text(formula: str, *, region: str, province: str, scheme: str) -> str:
    """The refusal of a person ``admission_ground`` does not admit, in the family's own
    words (else the general rule: “非{region}基本医疗保险参保人员不得购买”)."""
    rule = _admission(formula)
    if rule is None:
        return f"非{region}基本医疗保险参保人员不得购买"
    return rule.refusal.format(region=region, province=province or "本省", scheme=scheme)
