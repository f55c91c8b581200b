"""Eligibility of a person for a scheme, the first check of a contribution
(trial-calc.md ``contribution``: eligibility, payer, window; README §2).

- ``resident_basic`` (dianjiang.md 参保范围): refuses persons holding ``employee_basic``
  (categories 在职职工/退休人员, or an employee_basic enrollment the caller knows of) and,
  when the caller knows it, persons whose 户籍 and 常住地 are both outside the region.
- ``employee_supplementary`` (leshan.md): only persons insured in the region's
  ``employee_basic`` — categories 在职职工/退休人员/灵活就业人员 and basic-insured in the region.
- ``inclusive_commercial`` (sanming.md, liaocheng.md): persons holding the region's
  basic insurance (``basic_insured_in_region``), and those the scheme's formula family
  also admits (``insurance_rules.admission``: 三明 新市民 and 港澳台同胞), refused in the
  family's own words (三明: “非三明市参保且非在三明市长期居住的新市民……”), else in the
  general words, 聊惠保's: “非聊城市基本医疗保险参保人员不得购买”.
Other kinds have no eligibility condition of their own.
"""
from __future__ import annotations

from insurance_rules.admission import admission_ground, refusal_text
from insurance_rules.errors import NotEligible
from insurance_rules.facts import PersonFacts

from .plan import ContributionPlan
from .vocab import CATEGORY_NAMES, EMPLOYEE_BASIC_CATEGORIES

RESIDENT_REFUSAL = "已参加职工基本医疗保险，不能参加城乡居民医保"


def check_eligibility(plan: ContributionPlan, person: PersonFacts, *,
                      holds_employee_basic: bool = False, local: bool | None = None) -> None:
    """Raise ``NotEligible`` when ``person`` may not enroll in ``plan``'s scheme.

    ``holds_employee_basic``: the person is known to be enrolled in employee_basic for the
    year (besides the categories that imply it). ``local``: False when the person's 户籍
    and 常住地 are both known to be outside the region (None = unknown, not checked).
    """
    kind = plan.kind
    if kind == "resident_basic":
        if person.is_employee or holds_employee_basic:
            raise NotEligible(RESIDENT_REFUSAL)
        if local is False:
            raise NotEligible(f"户籍和常住地均不在{plan.region_name}，不能参加{plan.region_name}"
                              f"{plan.scheme_name}")
    elif kind == "employee_supplementary":
        if person.category not in EMPLOYEE_BASIC_CATEGORIES or not person.basic_insured_in_region:
            category = CATEGORY_NAMES.get(person.category, person.category)
            raise NotEligible(f"未参加{plan.region_name}职工基本医疗保险（人员类别：{category}），"
                              f"不能参加{plan.scheme_name}")
    elif kind == "inclusive_commercial":
        if not admission_ground(plan.formula, person):
            raise NotEligible(refusal_text(plan.formula, region=plan.region_name,
                                           province=plan.province, scheme=plan.scheme_name))
