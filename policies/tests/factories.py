"""Small test-data builders for the policies tests (plain functions, no factory library).

The numbers used here are test data, not policy: the real 2024 rows come from
``load_policies`` (fixture ``loaded_policies``).
"""
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from policies import codes
from policies.models import (
    BenefitRule,
    ChronicDisease,
    Holiday,
    PlanFigure,
    PlanYear,
    Region,
    Scheme,
    StaffProfile,
)
from policies.roles import roles_sync
from policies.staff import staff_user_ensure

FIVE_REGIONS = [
    ("511100", "乐山市", "四川省"),
    ("500231", "垫江县", "重庆市"),
    ("350400", "三明市", "福建省"),
    ("140400", "长治市", "山西省"),
    ("371500", "聊城市", "山东省"),
]


def region(code, name=None, parent=None, is_pooling=True, province=""):
    obj, _ = Region.objects.get_or_create(
        code=code, defaults={"name": name or f"区域{code}", "parent": parent,
                             "is_pooling": is_pooling, "province": province})
    return obj


def five_regions():
    return {code: region(code, name, province=province) for code, name, province in FIVE_REGIONS}


def scheme(reg, kind=codes.SchemeKind.RESIDENT_BASIC, order=1, name=None):
    obj, _ = Scheme.objects.get_or_create(
        region=reg, kind=kind,
        defaults={"name": name or codes.SchemeKind(kind).label, "settlement_order": order})
    return obj


def plan_year(sch, year=2024, status=PlanYear.Status.DRAFT):
    obj, _ = PlanYear.objects.get_or_create(scheme=sch, year=year, defaults={"status": status})
    return obj


def figure(py, value, code=PlanFigure.Code.FISCAL_SUBSIDY):
    return PlanFigure.objects.create(plan_year=py, code=code, value=Decimal(value))


def benefit(py, deductible, ratio, level=3, claim_type=codes.ClaimType.INPATIENT, tier=0):
    return BenefitRule.objects.create(plan_year=py, claim_type=claim_type, level=level, tier=tier,
                                      deductible=Decimal(deductible), ratio=Decimal(ratio))


def disease(reg, code, name):
    return ChronicDisease.objects.create(region=reg, code=code, name=name)


def holiday(date, reg=None, name="节日"):
    return Holiday.objects.create(region=reg, date=date, kind=Holiday.Kind.HOLIDAY, name=name)


def staff_user(username, regions=(), perms=(), groups=(), superuser=False, profile=True):
    """A staff user bound to ``regions`` holding ``perms`` ("app.codename") and ``groups``."""
    user = get_user_model().objects.create_user(username=username, password=None, is_staff=True,
                                                is_superuser=superuser)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    for group in groups:
        user.groups.add(group)
    if profile:
        StaffProfile.objects.create(user=user).regions.set(regions)
    return user


PASSWORD = "Yibao#2024demo"


def role_staff(username: str, role: str | None, regions=("500231",), superuser=False):
    """A staff account with a role (``roles_sync`` first) bound to ``regions``, password
    ``PASSWORD``: how ``load_demo`` creates its accounts (policies.staff)."""
    roles_sync()
    user, _ = staff_user_ensure(username=username, password=PASSWORD, role=role,
                                regions=list(Region.objects.filter(code__in=regions)),
                                superuser=superuser)
    return type(user).objects.get(pk=user.pk)  # fresh object: no cached permissions


def policy_perms(*models, verbs=("view", "add", "change", "delete")):
    return [f"policies.{verb}_{m}" for m in models for verb in verbs]


def two_systems():
    """Two regions with a resident-basic 2024 plan year each (A = 垫江, B = 长治)."""
    regions = five_regions()
    a, b = regions["500231"], regions["140400"]
    py_a = plan_year(scheme(a), status=PlanYear.Status.ACTIVE)
    py_b = plan_year(scheme(b), status=PlanYear.Status.ACTIVE)
    return {
        "a": a, "b": b, "py_a": py_a, "py_b": py_b,
        "fig_a": figure(py_a, "670.00"), "fig_b": figure(py_b, "640.00"),
        "ben_a": benefit(py_a, "800.00", "55.00"), "ben_b": benefit(py_b, "1000.00", "60.00"),
    }
