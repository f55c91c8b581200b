"""The resolved rows of one plan year that the contribution rules read (no Django).

``enrollment.selectors.contribution_plan`` builds a ``ContributionPlan`` from the
database; tests build them by hand. Windows, standards, subsidies and figures are the
engine's dataclasses of ``insurance_rules.params`` (same fields as the models plus the row
id); the payer and auto-enrollment rows are this app's (``policies.models.
PayerRelationRule`` / ``AutoEnrollmentRule``). Each row dataclass declares the table it is
read from (``source``), as ``insurance_rules.params`` describes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from insurance_rules.params import Figure, Row, Source, Standard, Subsidy, Window


@dataclass(frozen=True)
class PayerRule(Row):
    source = Source("PayerRelationRule")

    channel: str
    relation: str
    category: str = ""  # blank = any category


@dataclass(frozen=True)
class AutoEnrollRule(Row):
    source = Source("AutoEnrollmentRule")

    trigger: str  # newborn_parents
    parents_required: int
    coverage_rule: str  # from_birth / as_basic


@dataclass(frozen=True)
class ContributionPlan:
    """One plan year of one scheme, as far as enrollment and contribution need it."""

    region: str  # pooling region code
    region_name: str
    kind: str  # scheme kind code
    scheme_name: str
    year: int
    has_tiers: bool
    plan_year_id: int | None = None
    status: str = "active"
    formula: str = ""  # the scheme's formula family (who it admits: insurance_rules.admission)
    province: str = ""  # the region's province, e.g. 福建省
    windows: tuple[Window, ...] = ()
    standards: tuple[Standard, ...] = ()
    subsidies: tuple[Subsidy, ...] = ()
    figures: tuple[Figure, ...] = ()
    payer_rules: tuple[PayerRule, ...] = ()
    auto_rules: tuple[AutoEnrollRule, ...] = ()

    @property
    def label(self) -> str:
        """E.g. “垫江县城乡居民基本医疗保险 2024 年度”."""
        return f"{self.region_name}{self.scheme_name} {self.year} 年度"

    @property
    def year_start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def year_end(self) -> date:
        return date(self.year, 12, 31)

    def figure(self, code: str) -> Figure | None:
        for f in self.figures:
            if f.code == code:
                return f
        return None
