"""``given_only``: a layer whose rules the seed does not contain (spec README §4.7).

Such a layer is settled only from the hospital's result carried by the claim
(``claim.given[kind]``, taken by ``insurance_rules.settle`` before any formula runs);
reaching the formula means that input is missing, which is a ``missing_rule`` error
naming the scheme, the plan year and the missing parameter.
"""
from __future__ import annotations

from ..common import missing
from ..context import LayerContext
from ..registry import formula
from ..results import LayerResult
from ..vocab import claim_type_name


@formula("given_only", needs=("applicable",))
def given_only(ctx: LayerContext) -> LayerResult:
    raise missing(ctx.plan, f"{claim_type_name(ctx.claim.type)}的本层结算规则未录入（种子文件缺失），"
                            f"须带入医院结算结果 {ctx.claim.ref or 'claim'}.given.{ctx.plan.kind}.paid")
