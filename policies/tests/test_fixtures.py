"""The seed systems' 2024 fixtures (spec README §5; codes.md; dianjiang.md, changzhi.md,
leshan.md, sanming.md, liaocheng.md): every table of every system holds the spec's
numbers, the code tables are complete, and ``load_policies`` is idempotent."""
from __future__ import annotations

import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from simple_history.models import HistoricalChanges

from policies import models as pm
from policies.loading import NATURAL_KEYS, RULE_TABLES, natural_key_constraints
from policies.services import policies_load

from .seed_db import attr, plan_rows, same

pytestmark = pytest.mark.django_db

LS, DJ, SM, CZ, LC = "511100", "500231", "350400", "140400", "371500"

# (region, kind, table, lookup, expected field values) — at least one row of every table
# each system uses (checked by test_every_table_of_every_system_is_covered).
CASES = [
    # ---------------------------------------------------------------- 乐山 leshan.md
    (LS, "employee_basic", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": False}),
    (LS, "employee_supplementary", "PlanFigure", {"code": "participation_target"}, {"value": 95}),
    (LS, "employee_supplementary", "EnrollmentWindow", {"code": "annual"},
     {"pay_from": "2023-12-15", "pay_to": "2024-03-31", "coverage_rule": "fixed",
      "coverage_start": "2024-01-01", "coverage_end": "2024-12-31", "waiting_days": 0}),
    (LS, "employee_supplementary", "ContributionStandard", {"window__code": "annual", "tier": 0},
     {"amount": 265, "plus_figure": ""}),
    (LS, "employee_supplementary", "PayerRelationRule",
     {"channel": "personal_account", "category": "employee_retired"}, {"relation": "self"}),
    (LS, "employee_supplementary", "AnnualLimit", {"pool": "scheme_total", "identity": None},
     {"amount": 300000, "tier": 0}),
    (LS, "employee_supplementary", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"special_b_only": True, "rules_in_seed": True}),
    (LS, "employee_supplementary", "RatioAdjustment",
     {"code": "major_disease", "claim_type": "inpatient"}, {"points": 5}),
    (LS, "employee_supplementary", "RatioAdjustment",
     {"code": "major_disease", "claim_type": "chronic_outpatient"}, {"points": 5}),
    (LS, "employee_supplementary", "Responsibility", {"code": "BAND_LOCAL"},
     {"basis": "band", "location": "in_region", "ratio_healthy": 90, "claim_type": "inpatient"}),
    (LS, "employee_supplementary", "Responsibility", {"code": "BAND_AWAY"},
     {"basis": "band", "location": "not_in_region", "ratio_healthy": 78}),
    (LS, "employee_supplementary", "Responsibility", {"code": "HIGH"},
     {"basis": "over_cap", "location": "", "ratio_healthy": 90}),
    (LS, "employee_supplementary", "IncentiveRule", {"responsibility__code": "HIGH", "min_years": 6},
     {"ratio": 92}),
    (LS, "employee_supplementary", "IncentiveRule", {"responsibility__code": "HIGH", "min_years": 10},
     {"ratio": 93}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "local", "code": "settlement_sheet"},
     {"condition": "always", "copies": 2, "threshold": None}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "local", "code": "id_copy"},
     {"condition": "paid_gte", "threshold": 10000}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "local", "code": "phone"},
     {"condition": "paid_gte", "threshold": 10000}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "out_of_region", "code": "agency_settlement"},
     {"condition": "always"}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "out_of_region", "code": "itemised_list"},
     {"condition": "total_gte", "threshold": 10000}),
    (LS, "employee_supplementary", "DocumentRule", {"scope": "out_of_region", "code": "bank_account"},
     {"condition": "always"}),
    # ---------------------------------------------------------------- 垫江 dianjiang.md
    (DJ, "resident_basic", "PlanFigure", {"code": "fiscal_subsidy"}, {"value": 670}),
    (DJ, "resident_basic", "PlanFigure", {"code": "minor_age"}, {"value": 18}),
    (DJ, "resident_basic", "EnrollmentWindow", {"code": "central"},
     {"pay_from": "2023-10-11", "pay_to": "2023-12-31", "coverage_rule": "fixed",
      "coverage_start": "2024-01-01"}),
    (DJ, "resident_basic", "EnrollmentWindow", {"code": "jan_feb"},
     {"pay_from": "2024-01-01", "pay_to": "2024-02-29", "coverage_rule": "next_day"}),
    (DJ, "resident_basic", "EnrollmentWindow", {"code": "mar_jun"},
     {"pay_to": "2024-06-30", "coverage_rule": "after_days", "waiting_days": 90}),
    (DJ, "resident_basic", "EnrollmentWindow", {"code": "jul_sep"},
     {"pay_from": "2024-07-01", "pay_to": "2024-09-30", "coverage_rule": "after_days",
      "waiting_days": 90}),
    (DJ, "resident_basic", "EnrollmentWindow", {"code": "newborn"},
     {"person_group": "newborn", "newborn_max_days": 90, "coverage_rule": "from_birth",
      "priority": 10, "coverage_end": "2024-12-31"}),
    (DJ, "resident_basic", "ContributionStandard", {"window__code": "central", "tier": 1},
     {"amount": 380, "plus_figure": ""}),
    (DJ, "resident_basic", "ContributionStandard", {"window__code": "mar_jun", "tier": 2},
     {"amount": 755, "plus_figure": ""}),
    (DJ, "resident_basic", "ContributionStandard", {"window__code": "jul_sep", "tier": 2},
     {"amount": 755, "plus_figure": "fiscal_subsidy"}),
    (DJ, "resident_basic", "ContributionStandard", {"window__code": "newborn", "tier": 1},
     {"amount": 380, "plus_figure": ""}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "sanshu", "tier": 2}, {"amount": 755}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "old_veteran", "tier": 2}, {"amount": 755}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "disabled_veteran", "tier": 1},
     {"amount": 380}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "tekun", "tier": 2}, {"amount": 380}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "dibao", "tier": 1}, {"amount": 342}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "severe_disability", "tier": 1},
     {"amount": 266}),
    (DJ, "resident_basic", "SubsidyRule", {"identity__code": "sudden_hardship", "tier": 2},
     {"amount": 380}),
    (DJ, "resident_basic", "AnnualLimit", {"pool": "outpatient", "tier": 1}, {"amount": 300}),
    (DJ, "resident_basic", "AnnualLimit", {"pool": "outpatient", "tier": 2}, {"amount": 500}),
    (DJ, "resident_basic", "AnnualLimit", {"pool": "basic_fund", "tier": 1}, {"amount": 80000}),
    (DJ, "resident_basic", "AnnualLimit", {"pool": "basic_fund", "tier": 2}, {"amount": 120000}),
    (DJ, "resident_basic", "AnnualLimit", {"pool": "prenatal", "tier": 0}, {"amount": 300}),
    (DJ, "resident_basic", "ApplicableClaimType", {"claim_type": "delivery"}, {"rules_in_seed": True}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "outpatient", "level": 1, "tier": 2},
     {"deductible": 0, "ratio": 60, "deductible_mode": "annual", "limit_pool": "outpatient"}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "outpatient", "level": 2, "tier": 1},
     {"deductible": 200, "ratio": 40, "deductible_mode": "annual", "limit_pool": "outpatient"}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "level": 1, "tier": 1},
     {"deductible": 100, "ratio": 80, "deductible_mode": "per_claim", "limit_pool": "basic_fund"}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "level": 2, "tier": 2},
     {"deductible": 300, "ratio": 75}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "level": 3, "tier": 1},
     {"deductible": 800, "ratio": 50}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "level": 3, "tier": 2},
     {"deductible": 800, "ratio": 55}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "prenatal"},
     {"ratio": 100, "limit_pool": "prenatal", "deductible": 0}),
    (DJ, "resident_basic", "BenefitRule", {"claim_type": "delivery", "delivery_mode": "vaginal"},
     {"fixed_amount": 600, "ratio": None}),
    (DJ, "resident_basic", "BenefitRule",
     {"claim_type": "delivery", "delivery_mode": "cesarean", "level": 3, "tier": 2},
     {"deductible": 800, "ratio": 55, "floor_amount": 600, "limit_pool": "basic_fund"}),
    (DJ, "resident_basic", "LevelSubstitution", {"claim_type": "outpatient", "from_level": 3},
     {"to_level": 2, "children_hospital_only": True, "max_age": 18}),
    (DJ, "resident_basic", "RatioAdjustment", {"code": "minor", "claim_type": "inpatient"},
     {"points": 5, "max_age": 18}),
    (DJ, "resident_basic", "RatioAdjustment",
     {"code": "minor", "claim_type": "delivery", "delivery_mode": "cesarean"},
     {"points": 5, "max_age": 18}),
    (DJ, "resident_basic", "RatioAdjustment", {"code": "tcm", "claim_type": "inpatient"},
     {"points": 10, "deductible_level_shift": 1, "min_level": 0, "location": "",
      "deductible_shift_location": "within_province"}),   # 我市 = 重庆 (issue 12 item 4)
    (DJ, "resident_basic", "RatioAdjustment",
     {"code": "tcm", "claim_type": "delivery", "delivery_mode": "cesarean"},
     {"points": 10, "deductible_level_shift": 1, "location": "",
      "deductible_shift_location": "within_province"}),
    (DJ, "critical_illness", "CumulativeSegment", {"identity": None, "seq": 1},
     {"threshold": 17833, "ratio": 60, "base": "cumulative"}),
    (DJ, "critical_illness", "CumulativeSegment", {"identity__code": "tekun", "seq": 1},
     {"threshold": "8916.50", "ratio": 65}),
    (DJ, "critical_illness", "CumulativeSegment", {"identity__code": "poverty_return", "seq": 1},
     {"threshold": "8916.50", "ratio": 65}),
    (DJ, "critical_illness", "AnnualLimit", {"pool": "scheme_total", "identity": None},
     {"amount": 200000}),
    (DJ, "critical_illness", "AnnualLimit", {"pool": "scheme_total", "identity__code": "dibao"},
     {"amount": None}),
    (DJ, "critical_illness", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": True}),
    (DJ, "critical_illness", "ApplicableClaimType",   # 剖宫产 settled as inpatient (issue 12 item 5)
     {"claim_type": "delivery", "delivery_mode": "cesarean"}, {"rules_in_seed": True}),
    # ---------------------------------------------------------------- 三明 sanming.md
    (SM, "employee_basic", "ApplicableClaimType", {"claim_type": "two_diseases"}, {"rules_in_seed": False}),
    (SM, "resident_basic", "ApplicableClaimType", {"claim_type": "special_drug"}, {"rules_in_seed": False}),
    (SM, "critical_illness", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"rules_in_seed": False}),
    (SM, "medical_assistance", "ApplicableClaimType", {"claim_type": "special_drug"},
     {"rules_in_seed": False}),
    (SM, "inclusive_commercial", "PlanFigure", {"code": "participation_minimum"}, {"value": 20}),
    (SM, "inclusive_commercial", "PlanFigure", {"code": "participation_target"}, {"value": 30}),
    (SM, "inclusive_commercial", "PlanFigure", {"code": "profit_transfer_rate"}, {"value": 3}),
    (SM, "inclusive_commercial", "EnrollmentWindow", {"code": "annual"},
     {"pay_from": None, "pay_to": "2023-12-31", "coverage_rule": "fixed",
      "coverage_start": "2024-01-01", "coverage_end": "2024-12-31"}),
    (SM, "inclusive_commercial", "ContributionStandard", {"window__code": "annual"}, {"amount": 150}),
    (SM, "inclusive_commercial", "SubsidyRule", {"identity__code": "wulao"},
     {"full": True, "amount": None, "tier": 0}),
    (SM, "inclusive_commercial", "SubsidyRule", {"identity__code": "de_facto_orphan"}, {"full": True}),
    (SM, "inclusive_commercial", "PayerRelationRule",
     {"channel": "family_account", "relation": "spouse_parent"}, {"category": ""}),
    (SM, "inclusive_commercial", "ApplicableClaimType", {"claim_type": "special_drug"},
     {"rules_in_seed": True}),
    (SM, "inclusive_commercial", "PreExistingCondition", {"name": "恶性肿瘤（含白血病、淋巴瘤）"},
     {"group": "tumor"}),
    (SM, "inclusive_commercial", "PreExistingCondition", {"name": "高血压病（III期）"},
     {"group": "cardio_metabolic"}),
    (SM, "inclusive_commercial", "PreExistingCondition", {"name": "溃疡性结肠炎"}, {"group": "other"}),
    (SM, "inclusive_commercial", "Responsibility", {"code": "R1"},
     {"claim_type": "inpatient", "location": "in_region", "min_level": 2, "public_only": True,
      "basis": "total_after_upstream", "deductible": 5000, "ratio_healthy": 100,
      "ratio_pre_existing": 50, "sum_insured": 1500000, "sum_insured_pre_existing": 1500000}),
    (SM, "inclusive_commercial", "Responsibility", {"code": "R2"},
     {"claim_type": "inpatient", "location": "not_in_region", "min_level": 2, "public_only": True,
      "basis": "compliant_after_upstream", "deductible": 20000, "ratio_healthy": 70,
      "ratio_pre_existing": 30, "sum_insured": 1500000, "sum_insured_pre_existing": 1500000}),
    (SM, "inclusive_commercial", "Responsibility", {"code": "R3"},
     {"claim_type": "chronic_outpatient", "location": "in_region", "basis": "compliant_after_upstream",
      "deductible": 5000, "ratio_healthy": 70, "pre_existing_covered": False, "sum_insured": 30000,
      "sum_insured_pre_existing": None}),
    (SM, "inclusive_commercial", "Responsibility", {"code": "R4A"},
     {"claim_type": "special_drug", "drug_list": "sm_cancer", "basis": "total_after_upstream",
      "deductible": 20000, "ratio_healthy": None, "pre_existing_covered": True,
      "sum_insured": 1000000, "sum_insured_pre_existing": 4500}),
    (SM, "inclusive_commercial", "Responsibility", {"code": "R4B"},
     {"claim_type": "special_drug", "drug_list": "sm_rare", "basis": "total_after_upstream",
      "deductible": 20000, "ratio_healthy": 50, "pre_existing_covered": False, "sum_insured": 500000}),
    (SM, "inclusive_commercial", "ResponsibilityDrugRatio", {"responsibility__code": "R4A", "drug_class": "A"},
     {"ratio": 70}),
    (SM, "inclusive_commercial", "ResponsibilityDrugRatio", {"responsibility__code": "R4A", "drug_class": "B"},
     {"ratio": 50}),
    (SM, "inclusive_commercial", "ResponsibilityDrugRatio", {"responsibility__code": "R4A", "drug_class": "C"},
     {"ratio": 30}),
    (SM, "inclusive_commercial", "ResponsibilityIdentityRatio",
     {"responsibility__code": "R1", "identity__code": "tekun"}, {"ratio_pre_existing": 100}),
    (SM, "inclusive_commercial", "ResponsibilityIdentityRatio",
     {"responsibility__code": "R2", "identity__code": "sudden_hardship"}, {"ratio_pre_existing": 80}),
    (SM, "inclusive_commercial", "OutOfPocketCap", {"min_participation_rate": 20},
     {"personal_cap": 120000, "claim_type": "inpatient", "location": "in_region"}),
    (SM, "inclusive_commercial", "OutOfPocketCap", {"min_participation_rate": 30},
     {"personal_cap": 100000, "claim_type": "inpatient", "location": "in_region"}),
    # ---------------------------------------------------------------- 长治 changzhi.md
    (CZ, "employee_basic", "AnnualLimit", {"pool": "basic_fund"}, {"amount": 80000}),
    (CZ, "employee_basic", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": False}),
    (CZ, "employee_basic", "ApplicableClaimType", {"claim_type": "outpatient"}, {"rules_in_seed": False}),
    (CZ, "employee_basic", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"rules_in_seed": True}),
    (CZ, "employee_basic", "RatioAdjustment", {"code": "not_filed", "claim_type": "inpatient"},
     {"points": -15, "location": "not_in_region"}),
    (CZ, "employee_basic", "ChronicBenefit", {"disease__code": "CZ01"},
     {"monthly_limit": None, "ratio": 85, "deductible": 0, "shares_pool": "basic_fund"}),
    (CZ, "employee_basic", "ChronicBenefit", {"disease__code": "CZ11"},
     {"monthly_limit": 1000, "ratio": 75, "shares_pool": ""}),
    (CZ, "resident_basic", "PlanFigure", {"code": "class_b_copay_rate"}, {"value": 5}),
    (CZ, "resident_basic", "AnnualLimit", {"pool": "outpatient"}, {"amount": 300}),
    (CZ, "resident_basic", "AnnualLimit", {"pool": "basic_fund"}, {"amount": 70000}),
    (CZ, "resident_basic", "ApplicableClaimType", {"claim_type": "two_diseases"}, {"rules_in_seed": True}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 3, "grade": "A"}, {"fee_class": 1}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 3, "grade": "B"}, {"fee_class": 2}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 3, "grade": "-"}, {"fee_class": 2}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 2, "grade": "A"}, {"fee_class": 2}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 2, "grade": "-"}, {"fee_class": 3}),
    (CZ, "resident_basic", "HospitalFeeClass", {"level": 1, "grade": "A"}, {"fee_class": 3}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "outpatient", "level": 3},
     {"deductible": 80, "deductible_mode": "annual", "ratio": 45, "limit_pool": "outpatient"}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "outpatient", "level": 2},
     {"deductible": 0, "ratio": 55, "limit_pool": "outpatient"}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "outpatient", "level": 1},
     {"deductible": 0, "ratio": 60, "limit_pool": "outpatient"}),
    (CZ, "resident_basic", "BenefitRule",
     {"claim_type": "inpatient", "fee_class": 3, "admin_level": "county"},
     {"deductible": 100, "ratio": 85, "limit_pool": "basic_fund"}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "fee_class": 3, "admin_level": ""},
     {"deductible": 400, "ratio": 75}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "fee_class": 2},
     {"deductible": 500, "ratio": 70}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "fee_class": 1},
     {"deductible": 1000, "ratio": 60}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "inpatient", "location": "out_of_province"},
     {"deductible": 1500, "ratio": 55, "fee_class": 0, "limit_pool": "basic_fund"}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "delivery", "delivery_mode": "vaginal"},
     {"fixed_amount": 1500, "ratio": None}),
    (CZ, "resident_basic", "BenefitRule", {"claim_type": "delivery", "delivery_mode": "cesarean"},
     {"fixed_amount": 3000, "ratio": None}),
    (CZ, "resident_basic", "RatioAdjustment", {"code": "cross_province", "claim_type": "outpatient"},
     {"points": -10, "location": "out_of_province"}),
    (CZ, "resident_basic", "RatioAdjustment", {"code": "not_filed", "claim_type": "inpatient"},
     {"points": -10, "location": "not_in_region"}),
    (CZ, "resident_basic", "ChronicBenefit", {"disease__code": "CZ09"},
     {"monthly_limit": None, "ratio": 70, "shares_pool": "basic_fund"}),
    (CZ, "resident_basic", "ChronicBenefit", {"disease__code": "CZ46"}, {"monthly_limit": 45, "ratio": 70}),
    (CZ, "resident_basic", "TwoDiseaseBenefit", {"disease__code": "HBP"},
     {"deductible": 0, "ratio_class_a": 60, "ratio_class_b": 50, "annual_limit": 260}),
    (CZ, "resident_basic", "TwoDiseaseBenefit", {"disease__code": "DM1"},
     {"ratio_class_a": 60, "ratio_class_b": 50, "annual_limit": 480}),
    (CZ, "resident_basic", "TwoDiseaseBenefit", {"disease__code": "DM2"},
     {"ratio_class_a": 60, "ratio_class_b": 50, "annual_limit": 360}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "HBP", "code": "bp_days"}, {"value": 3}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "HBP", "code": "bp_systolic"},
     {"value": 140}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "HBP", "code": "bp_diastolic"},
     {"value": 90}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "DM2", "code": "hba1c"},
     {"value": "7.0"}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "DM2", "code": "random_glucose"},
     {"value": "11.1"}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "DM2", "code": "fasting_glucose"},
     {"value": "7.0"}),
    (CZ, "resident_basic", "AdmissionCriterion", {"disease__code": "DM2", "code": "ogtt_2h"},
     {"value": "11.1"}),
    (CZ, "critical_illness", "CumulativeSegment", {"identity": None, "seq": 1},
     {"threshold": 10000, "ratio": 75, "base": "cumulative"}),
    (CZ, "critical_illness", "CumulativeSegment", {"identity": None, "seq": 2},
     {"threshold": 50000, "ratio": 50, "base": "after_previous"}),
    (CZ, "critical_illness", "CumulativeSegment", {"identity__code": "dibao", "seq": 1},
     {"threshold": 5000, "ratio": 80, "base": "cumulative"}),
    (CZ, "critical_illness", "CumulativeSegment", {"identity__code": "tekun", "seq": 2},
     {"threshold": 50000, "ratio": 50, "base": "after_previous"}),
    (CZ, "critical_illness", "AnnualLimit", {"pool": "scheme_total", "identity": None}, {"amount": 400000}),
    (CZ, "critical_illness", "AnnualLimit", {"pool": "scheme_total", "identity__code": "poverty_return"},
     {"amount": None}),
    (CZ, "critical_illness", "RatioAdjustment",
     {"code": "referral_not_approved", "claim_type": "inpatient"}, {"points": -10}),
    (CZ, "critical_illness", "RatioAdjustment",
     {"code": "referral_not_approved", "claim_type": "chronic_outpatient"}, {"points": -10}),
    (CZ, "critical_illness", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"rules_in_seed": True}),
    (CZ, "employee_large", "AnnualLimit", {"pool": "scheme_total"}, {"amount": 500000}),
    (CZ, "employee_large", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": False}),
    (CZ, "employee_large", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"chronic_class": 1, "rules_in_seed": False}),
    (CZ, "medical_assistance", "PlanFigure", {"code": "province_income"}, {"value": 30920}),
    (CZ, "medical_assistance", "PlanFigure", {"code": "ooc_control_level1"}, {"value": 30}),
    (CZ, "medical_assistance", "PlanFigure", {"code": "ooc_control_level2"}, {"value": 20}),
    (CZ, "medical_assistance", "PlanFigure", {"code": "ooc_control_level3"}, {"value": 15}),
    (CZ, "medical_assistance", "ApplicableClaimType", {"claim_type": "special_drug"}, {"rules_in_seed": True}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "tekun", "kind": "inpatient"},
     {"ratio": 100, "threshold": 0, "annual_limit": None}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "tekun", "kind": "chronic_outpatient"},
     {"ratio": 60}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "tekun", "kind": "special_drug"},
     {"ratio": 20}),
    *((CZ, "medical_assistance", "AssistanceRule", {"identity__code": who, "kind": kind},
       {"ratio": ratio, "threshold": 0, "annual_limit": None, "top_up_ratio": None})
      for who in ("orphan", "de_facto_orphan")   # the 特困 row (issue 12 item 6)
      for kind, ratio in (("inpatient", 100), ("chronic_outpatient", 60), ("special_drug", 20))),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "dibao", "kind": "inpatient"},
     {"ratio": 70, "annual_limit": 60000}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "dibao", "kind": "chronic_outpatient"},
     {"ratio": 30}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "dibao", "kind": "special_drug"},
     {"ratio": 10}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "poverty_return", "kind": "inpatient"},
     {"ratio": 70, "top_up_ratio": 90, "top_up_location": "within_province", "ooc_controlled_ratio": 85}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "poverty_unstable", "kind": "inpatient"},
     {"threshold": 3092, "ratio": 70, "annual_limit": 60000}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "sudden_hardship", "kind": "inpatient"},
     {"threshold": 3092, "ratio": 70, "annual_limit": 60000}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "dibao_edge", "kind": "inpatient"},
     {"threshold": 3092, "ratio": 60, "annual_limit": 40000}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity__code": "illness_poverty", "kind": "inpatient"},
     {"threshold": 7731, "ratio": 60, "annual_limit": 40000}),
    (CZ, "medical_assistance", "AssistanceRule", {"identity": None, "kind": "tilt"},
     {"threshold": 15460, "ratio": 70, "annual_limit": 30000, "requires_filed": True,
      "location": "within_province"}),
    # ---------------------------------------------------------------- 聊城 liaocheng.md
    (LC, "employee_basic", "ApplicableClaimType", {"claim_type": "prenatal"}, {"rules_in_seed": False}),
    (LC, "resident_basic", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": False}),
    (LC, "critical_illness", "ApplicableClaimType", {"claim_type": "inpatient"}, {"rules_in_seed": False}),
    (LC, "employee_large", "ApplicableClaimType", {"claim_type": "chronic_outpatient"},
     {"rules_in_seed": False}),
    (LC, "medical_assistance", "ApplicableClaimType", {"claim_type": "special_drug"},
     {"rules_in_seed": False}),
    (LC, "inclusive_commercial", "PlanFigure", {"code": "participation_target"}, {"value": 30}),
    (LC, "inclusive_commercial", "PlanFigure", {"code": "loss_ratio_target"}, {"value": 80}),
    (LC, "inclusive_commercial", "PlanFigure", {"code": "review_working_days"}, {"value": 7}),
    (LC, "inclusive_commercial", "PlanFigure", {"code": "charity_donation"}, {"value": 100000}),
    (LC, "inclusive_commercial", "EnrollmentWindow", {"code": "annual"},
     {"pay_from": None, "pay_to": "2023-12-31", "coverage_rule": "fixed", "coverage_start": "2024-01-01",
      "coverage_end": "2024-12-31"}),
    (LC, "inclusive_commercial", "EnrollmentWindow", {"code": "new_veteran"},
     {"person_group": "identity", "identity": "new_veteran", "pay_from": "2024-01-01",
      "pay_to": "2024-12-31", "coverage_rule": "as_basic"}),
    (LC, "inclusive_commercial", "ContributionStandard", {"window__code": "annual"}, {"amount": 89}),
    (LC, "inclusive_commercial", "ContributionStandard", {"window__code": "new_veteran"}, {"amount": 89}),
    (LC, "inclusive_commercial", "PayerRelationRule",
     {"channel": "personal_account", "relation": "spouse_parent"}, {"category": ""}),
    (LC, "inclusive_commercial", "AutoEnrollmentRule", {"trigger": "newborn_parents"},
     {"parents_required": 2, "coverage_rule": "as_basic"}),
    (LC, "inclusive_commercial", "ApplicableClaimType", {"claim_type": "special_drug"},
     {"rules_in_seed": True}),
    (LC, "inclusive_commercial", "Responsibility", {"code": "R1"},
     {"claim_type": "inpatient", "basis": "compliant_after_upstream", "deductible": 16000,
      "ratio_healthy": 80, "sum_insured": 1000000}),
    (LC, "inclusive_commercial", "Responsibility", {"code": "R2"},
     {"claim_type": "inpatient", "basis": "out_of_scope", "deductible": 16000, "ratio_healthy": 10,
      "sum_insured": 1000000}),
    (LC, "inclusive_commercial", "Responsibility", {"code": "R3"},
     {"claim_type": "special_drug", "drug_list": "lc_high_cost", "min_admin_level": "county",
      "basis": "total_after_upstream", "deductible": 16000, "ratio_healthy": 80, "sum_insured": 1000000}),
    (LC, "inclusive_commercial", "Responsibility", {"code": "R4"},
     {"claim_type": "special_drug", "drug_list": "lc_special_efficacy", "basis": "total_after_upstream",
      "deductible": 10000, "ratio_healthy": 80, "sum_insured": 300000}),
]

# Row counts of every plan year: every table not listed must be empty.
EXPECTED_COUNTS = {
    (LS, "employee_basic"): {"ApplicableClaimType": 3},
    (LS, "employee_supplementary"): {
        "PlanFigure": 1, "EnrollmentWindow": 1, "ContributionStandard": 1, "PayerRelationRule": 2,
        "AnnualLimit": 1, "ApplicableClaimType": 2, "RatioAdjustment": 2, "Responsibility": 3,
        "IncentiveRule": 2, "DocumentRule": 10},
    (DJ, "resident_basic"): {
        "PlanFigure": 2, "EnrollmentWindow": 5, "ContributionStandard": 10, "SubsidyRule": 28,
        "AnnualLimit": 5, "ApplicableClaimType": 4, "BenefitRule": 18, "LevelSubstitution": 1,
        "RatioAdjustment": 4},
    (DJ, "critical_illness"): {"AnnualLimit": 4, "ApplicableClaimType": 2, "CumulativeSegment": 4},
    (SM, "employee_basic"): {"ApplicableClaimType": 7},
    (SM, "resident_basic"): {"ApplicableClaimType": 7},
    (SM, "critical_illness"): {"ApplicableClaimType": 2},
    (SM, "medical_assistance"): {"ApplicableClaimType": 3},
    (SM, "inclusive_commercial"): {
        "PlanFigure": 3, "EnrollmentWindow": 1, "ContributionStandard": 1, "SubsidyRule": 5,
        "PayerRelationRule": 10, "ApplicableClaimType": 3, "PreExistingCondition": 13,
        "Responsibility": 5, "ResponsibilityDrugRatio": 3, "ResponsibilityIdentityRatio": 20,
        "OutOfPocketCap": 2},
    (CZ, "employee_basic"): {"AnnualLimit": 1, "ApplicableClaimType": 4, "RatioAdjustment": 1,
                             "ChronicBenefit": 47},
    (CZ, "resident_basic"): {
        "PlanFigure": 1, "AnnualLimit": 2, "ApplicableClaimType": 6, "HospitalFeeClass": 9,
        "BenefitRule": 10, "RatioAdjustment": 2, "ChronicBenefit": 53, "TwoDiseaseBenefit": 3,
        "AdmissionCriterion": 7},
    (CZ, "critical_illness"): {"AnnualLimit": 4, "ApplicableClaimType": 2, "RatioAdjustment": 2,
                               "CumulativeSegment": 8},
    (CZ, "employee_large"): {"AnnualLimit": 1, "ApplicableClaimType": 2},
    (CZ, "medical_assistance"): {"PlanFigure": 4, "ApplicableClaimType": 3, "AssistanceRule": 19},
    (LC, "employee_basic"): {"ApplicableClaimType": 7},
    (LC, "resident_basic"): {"ApplicableClaimType": 7},
    (LC, "critical_illness"): {"ApplicableClaimType": 2},
    (LC, "employee_large"): {"ApplicableClaimType": 2},
    (LC, "medical_assistance"): {"ApplicableClaimType": 3},
    (LC, "inclusive_commercial"): {
        "PlanFigure": 4, "EnrollmentWindow": 2, "ContributionStandard": 2, "PayerRelationRule": 5,
        "AutoEnrollmentRule": 1, "ApplicableClaimType": 2, "Responsibility": 4},
}

# (region, kind, name, formula, settlement order)
SCHEMES = [
    (LS, "employee_basic", "职工基本医疗保险", "given_only", 10),
    (LS, "employee_supplementary", "职工补充医疗保险", "leshan_supplementary", 40),
    (DJ, "resident_basic", "城乡居民基本医疗保险", "chongqing_resident", 11),
    (DJ, "critical_illness", "城乡居民大病保险", "chongqing_critical", 20),
    (SM, "employee_basic", "职工基本医疗保险", "given_only", 10),
    (SM, "resident_basic", "城乡居民基本医疗保险", "given_only", 11),
    (SM, "critical_illness", "城乡居民大病保险", "given_only", 20),
    (SM, "medical_assistance", "城乡医疗救助", "given_only", 30),
    (SM, "inclusive_commercial", "三明普惠医联保", "sanming_inclusive", 40),
    (CZ, "employee_basic", "职工基本医疗保险", "changzhi_employee_basic", 10),
    (CZ, "resident_basic", "城乡居民基本医疗保险", "changzhi_resident", 11),
    (CZ, "critical_illness", "城乡居民大病保险", "changzhi_critical", 20),
    (CZ, "employee_large", "职工大额医疗费用补助", "changzhi_employee_large", 21),
    (CZ, "medical_assistance", "城乡医疗救助", "changzhi_assistance", 40),
    (LC, "employee_basic", "职工基本医疗保险", "given_only", 10),
    (LC, "resident_basic", "城乡居民基本医疗保险", "given_only", 11),
    (LC, "critical_illness", "城乡居民大病保险", "given_only", 20),
    (LC, "employee_large", "职工大额医疗费用补助", "given_only", 21),
    (LC, "medical_assistance", "城乡医疗救助", "given_only", 30),
    (LC, "inclusive_commercial", "聊惠保", "liaocheng_inclusive", 40),
]

# changzhi.md, 二类 table verbatim: code, disease, employee limit, resident limit (元/月)
CHANGZHI_CLASS2 = """
| CZ10 | 肾病综合症（原发性） | 520 | 460 |
| CZ11 | 慢性肾功能不全 | 1000 | 440 |
| CZ12 | 肺源性心脏病 | 330 | 300 |
| CZ13 | 心脏瓣膜病（器质性） | 210 | 190 |
| CZ14 | 慢性心力衰竭 | 270 | 240 |
| CZ15 | 慢性阻塞性肺疾病 | 400 | 400 |
| CZ16 | 冠心病 | 430 | 280 |
| CZ16S | 冠心病（血管支架植入） | 640 | 640 |
| CZ17 | 股骨头坏死 | 250 | 250 |
| CZ18 | 高血压3级（极高危） | 340 | 260 |
| CZ19 | 中枢神经系统脱髓鞘疾病 | 510 | 460 |
| CZ20 | 支气管哮喘 | 240 | 210 |
| CZ21 | 膝关节骨性关节炎 | 220 | 200 |
| CZ22 | 慢性骨髓炎（化脓性） | 320 | 290 |
| CZ23 | 强直性脊柱炎 | 300 | 225 |
| CZ24 | 白癜风 | 390 | 350 |
| CZ25 | 银屑病 | 380 | 340 |
| CZ26 | 脉管炎 | 220 | 200 |
| CZ27 | 病毒性肝炎（慢性） | 700 | 270 |
| CZ28 | 肝硬化（失代偿期） | 530 | 480 |
| CZ29 | 类风湿性关节炎 | 440 | 400 |
| CZ30 | 炎症性肠病 | 650 | 590 |
| CZ31 | 重性精神疾病 | 330 | 300 |
| CZ32 | 脑血管病后遗症 | 300 | 250 |
| CZ33 | 帕金森病 | 450 | 260 |
| CZ34 | 癫痫 | 280 | 250 |
| CZ35 | 糖尿病（合并严重并发症） | 400 | 290 |
| CZ36 | 甲状腺功能减退症或甲状腺功能亢进症 | 110 | 100 |
| CZ37 | 免疫性血小板减少症（原发性） | 500 | 450 |
| CZ38 | 重症肌无力 | 410 | 410 |
| CZ39 | 结核（活动性） | 300 | 200 |
| CZ39M | 耐多药肺结核 | 4200 | 4200 |
| CZ40 | 阿尔茨海默症 | 495 | 495 |
| CZ41 | 系统性红斑狼疮 | 610 | 550 |
| CZ42 | 原发性骨髓纤维化 | 380 | 340 |
| CZ43 | 氟骨症 | 190 | 170 |
| CZ44 | 大骨节病 | 170 | 150 |
| CZ45 | 克山病 | 330 | 300 |
"""
CLASS1 = {"CZ01": "恶性肿瘤门诊治疗", "CZ02": "器官移植抗排异治疗", "CZ03": "尿毒症透析",
          "CZ04": "血友病", "CZ05": "再生障碍性贫血（慢性）", "CZ06": "真性红细胞增多症",
          "CZ07": "原发性血小板增多症", "CZ08": "系统性硬化症", "CZ09": "干燥综合征（舍格伦）"}
CLASS3 = {"CZ46": ("碘缺乏症", 45), "CZ47": ("布鲁氏杆菌病", 300), "CZ48": ("终末期肾病", 440),
          "CZ49": ("风湿性心脏病", 280), "CZ50": ("心脏病并发心功能不全", 280),
          "CZ51": ("血管支架植入术后", 280)}


def class2_rows():
    return [(c, n, int(e), int(r)) for c, n, e, r in
            re.findall(r"\| (CZ\w+) \| (.+?) \| (\d+) \| (\d+) \|", CHANGZHI_CLASS2)]


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


HOLIDAYS = [d for a, b in [
    ("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
    ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
    ("2024-10-01", "2024-10-07"), ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"),
    ("2025-04-04", "2025-04-06"), ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"),
    ("2025-10-01", "2025-10-08")] for d in _days(a, b)]
WORKDAYS = [date.fromisoformat(d) for d in (
    "2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
    "2024-09-29", "2024-10-12", "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28",
    "2025-10-11")]

IDENTITIES = {
    "tekun": "civil_affairs", "orphan": "civil_affairs", "de_facto_orphan": "civil_affairs",
    "dibao": "civil_affairs", "dibao_edge": "civil_affairs", "illness_poverty": "civil_affairs",
    "poverty_return": "rural_revitalization", "poverty_unstable": "rural_revitalization",
    "edge_poverty": "rural_revitalization", "sudden_hardship": "rural_revitalization",
    "severe_disability": "disabled_federation", "sanshu": "veterans", "old_veteran": "veterans",
    "rural_veteran_60": "veterans", "disabled_veteran": "veterans", "wulao": "veterans",
    "new_veteran": "veterans",
}

SANMING_COUNTIES = {"350404": "三元区", "350405": "沙县区", "350421": "明溪县", "350423": "清流县",
                    "350424": "宁化县", "350425": "大田县", "350426": "尤溪县", "350428": "将乐县",
                    "350429": "泰宁县", "350430": "建宁县", "350481": "永安市"}


def _case_id(case):
    region, kind, table, lookup, _ = case
    return f"{region}-{kind}-{table}-" + "-".join(f"{v}" for v in lookup.values())


@pytest.mark.usefixtures("loaded_policies")
class TestSeedRows:
    @pytest.mark.parametrize("region, kind, table, lookup, expected",
                             [pytest.param(*case, id=_case_id(case)) for case in CASES])
    def test_row_holds_the_spec_values(self, region, kind, table, lookup, expected):
        row = plan_rows(region, kind, table).get(**lookup)
        wrong = {name: attr(row, name) for name, value in expected.items()
                 if not same(attr(row, name), value)}
        assert not wrong, f"{region} {kind} {table} {lookup}: {wrong} ≠ {expected}"

    @pytest.mark.parametrize("region, kind", list(EXPECTED_COUNTS))
    def test_row_counts_of_every_table(self, region, kind):
        counts = {name: plan_rows(region, kind, name).count() for name in RULE_TABLES}
        expected = {name: EXPECTED_COUNTS[(region, kind)].get(name, 0) for name in RULE_TABLES}
        assert counts == expected

    def test_every_table_of_every_system_is_covered(self):
        used = {(py.scheme.region.code, py.scheme.kind, model.__name__)
                for py in pm.PlanYear.objects.select_related("scheme__region")
                for model in pm.RULE_MODELS if model.objects.filter(plan_year=py).exists()}
        covered = {(region, kind, table) for region, kind, table, _, _ in CASES}
        assert used - covered == set()
        assert covered <= used

    def test_schemes_orders_and_formulas(self):
        found = {(s.region.code, s.kind, s.name, s.formula, s.settlement_order)
                 for s in pm.Scheme.objects.select_related("region")}
        assert found == set(SCHEMES)

    def test_every_plan_year_is_2024_active_without_official_rate(self):
        years = pm.PlanYear.objects.all()
        assert years.count() == len(SCHEMES)
        assert {(py.year, py.status, py.official_participation_rate) for py in years} == {
            (2024, "active", None)}
        assert all(py.source for py in years)

    def test_missing_rules_are_noted_on_the_plan_year(self):
        cz_emp = pm.PlanYear.objects.get(scheme__region__code=CZ, scheme__kind="employee_basic")
        assert "图片" in cz_emp.note and "带入本层结算结果" in cz_emp.note
        for region, kind, _, formula, _ in SCHEMES:
            if formula == "given_only":
                py = pm.PlanYear.objects.get(scheme__region__code=region, scheme__kind=kind)
                assert "不含本险种的报销规则" in py.note
                assert not py.applicableclaimtype_rows.filter(rules_in_seed=True).exists()

    def test_given_only_basic_schemes_apply_to_every_claim_type(self):
        all_types = {c for c, _ in pm.codes.ClaimType.choices}
        for region in (SM, LC):
            for kind in ("employee_basic", "resident_basic"):
                types = set(plan_rows(region, kind, "ApplicableClaimType")
                            .values_list("claim_type", flat=True))
                assert types == all_types

    def test_leshan_underwriters_and_dianjiang_contacts(self):
        operator = pm.Scheme.objects.get(region__code=LS, kind="employee_supplementary").operator
        for insurer in ("中华联合财产保险", "中国人寿财产保险", "中国人民健康保险"):
            assert insurer in operator
        contacts = pm.Region.objects.get(code=DJ).contacts
        for phone in ("74612366", "74508536", "74521779", "74661922"):
            assert phone in contacts

    def test_dianjiang_no_tier_one_subsidy_for_sanshu_and_old_veteran(self):
        rows = plan_rows(DJ, "resident_basic", "SubsidyRule")
        assert not rows.filter(identity__code__in=["sanshu", "old_veteran"], tier=1).exists()
        assert set(rows.values_list("identity__code", flat=True)) == set(IDENTITIES) - {
            "wulao", "new_veteran"}

    def test_dianjiang_fiscal_subsidy_cites_the_national_minimum(self):
        figure = plan_rows(DJ, "resident_basic", "PlanFigure").get(code="fiscal_subsidy")
        assert "国家" in figure.note and "670" in figure.note

    def test_changzhi_special_drug_basic_layers_are_given_only(self):
        # changzhi.md 门诊特药: the basic layers' benefit is not in the seed (issue 12 item 7)
        for kind in ("employee_basic", "resident_basic"):
            row = plan_rows(CZ, kind, "ApplicableClaimType").get(claim_type="special_drug")
            assert (row.rules_in_seed, row.delivery_mode, row.chronic_class) == (False, "", 0)
        for kind in ("critical_illness", "employee_large"):   # 大病/大额 do not pay special drugs
            assert not plan_rows(CZ, kind, "ApplicableClaimType").filter(claim_type="special_drug").exists()

    def test_changzhi_orphans_assistance_rows_equal_the_tekun_rows(self):
        rows = plan_rows(CZ, "medical_assistance", "AssistanceRule")
        fields = ("kind", "threshold", "ratio", "annual_limit", "top_up_ratio", "top_up_location",
                  "ooc_controlled_ratio", "requires_filed", "location")
        tekun = set(rows.filter(identity__code="tekun").values_list(*fields))
        for who in ("orphan", "de_facto_orphan"):
            assert set(rows.filter(identity__code=who).values_list(*fields)) == tekun

    def test_dianjiang_cesarean_rows_mirror_inpatient_rows_with_floor(self):
        rules = plan_rows(DJ, "resident_basic", "BenefitRule")
        inpatient = {(r.level, r.tier): (r.deductible, r.ratio)
                     for r in rules.filter(claim_type="inpatient")}
        cesarean = {(r.level, r.tier): (r.deductible, r.ratio)
                    for r in rules.filter(claim_type="delivery", delivery_mode="cesarean")}
        assert cesarean == inpatient and len(inpatient) == 6
        assert set(rules.filter(delivery_mode="cesarean").values_list("floor_amount", flat=True)) == {600}

    def test_sanming_assistance_targets_and_pre_existing_list(self):
        targets = {"tekun", "orphan", "de_facto_orphan", "dibao", "dibao_edge", "illness_poverty",
                   "poverty_return", "poverty_unstable", "edge_poverty", "sudden_hardship"}
        ratios = plan_rows(SM, "inclusive_commercial", "ResponsibilityIdentityRatio")
        for code, ratio in (("R1", 100), ("R2", 80)):
            rows = ratios.filter(responsibility__code=code)
            assert set(rows.values_list("identity__code", flat=True)) == targets
            assert set(rows.values_list("ratio_pre_existing", flat=True)) == {ratio}
        groups = {}
        for row in plan_rows(SM, "inclusive_commercial", "PreExistingCondition"):
            groups.setdefault(row.group, []).append(row.name)
        assert {g: len(names) for g, names in groups.items()} == {
            "tumor": 1, "liver_kidney": 2, "cardio_metabolic": 5, "lung": 1, "other": 4}

    def test_changzhi_chronic_catalogue_is_complete(self):
        diseases = {d.code: d for d in pm.ChronicDisease.objects.filter(region__code=CZ)}
        assert len(diseases) == 9 + 38 + 6 + 3
        for code, name in CLASS1.items():
            assert (diseases[code].name, diseases[code].disease_class) == (name, 1)
        for code, name, _, _ in class2_rows():
            assert (diseases[code].name, diseases[code].disease_class) == (name, 2)
        for code, (name, _) in CLASS3.items():
            d = diseases[code]
            assert (d.name, d.disease_class, d.closed_from) == (name, 3, date(2021, 4, 1))
        assert {c for c, d in diseases.items() if d.closed_from} == set(CLASS3)
        for code in list(CLASS1) + [c for c, *_ in class2_rows()] + list(CLASS3):
            assert diseases[code].sort == int(code[2:4]) and diseases[code].kind == "chronic"
        two = {c: (d.kind, d.excluded_by.code) for c, d in diseases.items() if d.kind == "two_diseases"}
        assert two == {"HBP": ("two_diseases", "CZ18"), "DM1": ("two_diseases", "CZ35"),
                       "DM2": ("two_diseases", "CZ35")}

    def test_changzhi_chronic_benefits_match_the_spec_table(self):
        emp = {r.disease.code: r for r in plan_rows(CZ, "employee_basic", "ChronicBenefit")
               .select_related("disease")}
        res = {r.disease.code: r for r in plan_rows(CZ, "resident_basic", "ChronicBenefit")
               .select_related("disease")}
        for code, _, employee, resident in class2_rows():
            assert (emp[code].monthly_limit, emp[code].ratio) == (employee, 75), code
            assert (res[code].monthly_limit, res[code].ratio) == (resident, 70), code
        for code in CLASS1:
            assert (emp[code].monthly_limit, emp[code].ratio, emp[code].shares_pool) == (
                None, 85, "basic_fund")
            assert (res[code].monthly_limit, res[code].ratio, res[code].shares_pool) == (
                None, 70, "basic_fund")
        for code, (_, limit) in CLASS3.items():
            assert code not in emp
            assert (res[code].monthly_limit, res[code].ratio) == (limit, 70)

    def test_code_tables(self):
        assert {i.code: i.department for i in pm.Identity.objects.all()} == IDENTITIES
        regions = {r.code: r for r in pm.Region.objects.select_related("parent")}
        assert {c: (r.name, r.province, r.is_pooling) for c, r in regions.items()
                if r.parent is None} == {
            LS: ("乐山市", "四川省", True), DJ: ("垫江县", "重庆市", True),
            SM: ("三明市", "福建省", True), CZ: ("长治市", "山西省", True),
            LC: ("聊城市", "山东省", True)}
        children = {c: r.name for c, r in regions.items() if r.parent is not None}
        assert children == SANMING_COUNTIES
        assert all(regions[c].parent.code == SM and not regions[c].is_pooling for c in children)

    def test_holiday_calendar(self):
        rows = pm.Holiday.objects.all()
        assert all(r.region_id is None for r in rows)
        assert sorted(r.date for r in rows if r.kind == "holiday") == sorted(HOLIDAYS)
        assert sorted(r.date for r in rows if r.kind == "workday") == sorted(WORKDAYS)
        assert pm.Holiday.objects.get(date=date(2025, 1, 29)).name == "春节"

    def test_second_run_changes_nothing(self):
        history_models = [m for m in apps.get_app_config("policies").get_models()
                          if issubclass(m, HistoricalChanges)]
        counted = [*NATURAL_KEYS]
        before = ({m: m.objects.count() for m in counted}, {h: h.objects.count() for h in history_models})
        out = StringIO()
        call_command("load_policies", stdout=out)
        after = ({m: m.objects.count() for m in counted}, {h: h.objects.count() for h in history_models})
        assert after == before
        lines = out.getvalue().splitlines()
        assert len(lines) == 1 + len(SCHEMES) + 1
        assert all("新增 0 行，更新 0 行" in line for line in lines)
        assert "乐山市 职工补充医疗保险 2024：新增 0 行，更新 0 行，未变 27 行" in lines

    def test_a_changed_row_is_updated_and_recorded_in_history(self, tmp_path):
        row = plan_rows(DJ, "resident_basic", "PlanFigure").get(code="fiscal_subsidy")
        row.value = 640
        row.save()
        history = row.history.count()
        report = policies_load(region_code=DJ)
        row.refresh_from_db()
        assert row.value == 670
        assert report.total("updated") == 1 and report.total("created") == 0
        assert row.history.count() == history + 1


def test_natural_keys_are_the_unique_constraints():
    for model, key in NATURAL_KEYS.items():
        unique_field = len(key) == 1 and model._meta.get_field(key[0]).unique
        assert unique_field or len(natural_key_constraints(model)) == 1, model.__name__
    assert set(pm.RULE_MODELS) <= set(NATURAL_KEYS)


def test_first_load_reports_per_system_in_chinese():
    out = StringIO()
    call_command("load_policies", stdout=out)
    text = out.getvalue()
    assert "编码表（fixtures/codes.json）：新增 158 行，更新 0 行，未变 0 行" in text
    # 23 rule rows + the scheme + the plan year
    assert "乐山市 职工补充医疗保险 2024：新增 27 行，更新 0 行，未变 0 行" in text
    assert "垫江县 城乡居民基本医疗保险 2024：新增 79 行" in text
    assert text.strip().splitlines()[-1].startswith("合计：新增 ")


def test_region_option_loads_one_region_only():
    out = StringIO()
    call_command("load_policies", region=DJ, stdout=out)
    assert set(pm.Scheme.objects.values_list("region__code", flat=True)) == {DJ}
    assert pm.PlanYear.objects.count() == 2
    assert pm.Region.objects.count() == 16  # the code tables are always loaded
    lines = out.getvalue().splitlines()
    assert [line.split("：")[0] for line in lines[1:-1]] == [
        "垫江县 城乡居民基本医疗保险 2024", "垫江县 城乡居民大病保险 2024"]
    call_command("load_policies", region=CZ, verbosity=0)
    assert set(pm.Scheme.objects.values_list("region__code", flat=True)) == {DJ, CZ}


def test_acting_user_is_recorded_in_history(django_user_model):
    user = django_user_model.objects.create_user("officer", password="x")
    policies_load(region_code=LS, acting_user=user)
    scheme = pm.Scheme.objects.get(region__code=LS, kind="employee_supplementary")
    assert scheme.history.first().history_user == user
    window = plan_rows(LS, "employee_supplementary", "EnrollmentWindow").get()
    assert window.history.first().history_user == user
