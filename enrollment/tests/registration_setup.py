"""Minimal 长治 rows for the registration tests that must not depend on the fixtures
(the workflow tests); the trial-calc tests use the real fixtures (``loaded_policies``).
Values as in changzhi.md."""
from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

from django.contrib.auth.models import Permission, User

from enrollment.documents import make_id_number
from enrollment.models import Person
from policies import models as pm


def changzhi(year=2024, status="active"):
    region = pm.Region.objects.create(code="140400", name="长治市", province="山西省")
    resident = pm.Scheme.objects.create(region=region, kind="resident_basic",
                                        name="城乡居民基本医疗保险", settlement_order=1)
    employee = pm.Scheme.objects.create(region=region, kind="employee_basic",
                                        name="职工基本医疗保险", settlement_order=2)
    plan = pm.PlanYear.objects.create(scheme=resident, year=year, status=status)
    emp_plan = pm.PlanYear.objects.create(scheme=employee, year=year, status=status)

    def disease(code, name, kind="chronic", cls=2, closed=None, excluded_by=None, sort=0):
        return pm.ChronicDisease.objects.create(region=region, code=code, name=name, kind=kind,
                                                disease_class=cls, closed_from=closed,
                                                excluded_by=excluded_by, sort=sort)

    cz18 = disease("CZ18", "高血压3级（极高危）", sort=18)
    cz35 = disease("CZ35", "糖尿病（合并严重并发症）", sort=35)
    cz46 = disease("CZ46", "碘缺乏症", cls=3, closed=date(2021, 4, 1), sort=46)
    hbp = disease("HBP", "高血压", "two_diseases", 0, excluded_by=cz18, sort=52)
    dm1 = disease("DM1", "Ⅰ型糖尿病", "two_diseases", 0, excluded_by=cz35, sort=53)
    dm2 = disease("DM2", "其他类型糖尿病", "two_diseases", 0, excluded_by=cz35, sort=54)
    for d, res, emp in ((cz18, "260", "340"), (cz35, "290", "400")):
        pm.ChronicBenefit.objects.create(plan_year=plan, disease=d, monthly_limit=D(res), ratio=70)
        pm.ChronicBenefit.objects.create(plan_year=emp_plan, disease=d, monthly_limit=D(emp),
                                         ratio=75)
    pm.ChronicBenefit.objects.create(plan_year=plan, disease=cz46, monthly_limit=D("45"), ratio=70)
    for d, limit in ((hbp, "260"), (dm1, "480"), (dm2, "360")):
        pm.TwoDiseaseBenefit.objects.create(plan_year=plan, disease=d, ratio_class_a=60,
                                            ratio_class_b=50, annual_limit=D(limit))
    for d, code, value in ((hbp, "bp_days", "3"), (hbp, "bp_systolic", "140"),
                           (hbp, "bp_diastolic", "90"), (dm2, "hba1c", "7.0"),
                           (dm2, "random_glucose", "11.1"), (dm2, "fasting_glucose", "7.0"),
                           (dm2, "ogtt_2h", "11.1")):
        pm.AdmissionCriterion.objects.create(plan_year=plan, disease=d, code=code, value=D(value))
    return SimpleNamespace(region=region, resident=resident, employee=employee, plan=plan,
                           emp_plan=emp_plan, CZ18=cz18, CZ35=cz35, CZ46=cz46, HBP=hbp, DM1=dm1,
                           DM2=dm2)


def person(seq=1, category="resident", region=None):
    birth = date(1960, 5, 1)
    return Person.objects.create(document_number=make_id_number("140402", birth, seq),
                                 name=f"测试{seq}", sex="male" if seq % 2 else "female",
                                 birth_date=birth, category=category, residence_region=region,
                                 hukou_region=region)


def user(name, *, reviewer=False):
    u = User.objects.create_user(name, password="x", is_staff=True)
    if reviewer:
        u.user_permissions.add(Permission.objects.get(codename="approve_registration"))
        u = User.objects.get(pk=u.pk)  # reset the permission cache
    return u
