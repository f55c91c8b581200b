"""Demo hospitals and claims for ``manage.py load_demo`` (hook ``DEMO_LOADERS``): a few
settlement sheets of the demo persons of ``enrollment.demo``, entered and settled through
the services exactly as staff would (docs/claims.md). Idempotent: an existing hospital
(by code) or claim (by hospital and settlement number) is left as it is.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from enrollment.models import Person
from policies.models import Region

from . import services
from .models import Claim, Hospital

HOSPITALS = [
    # code, name, region, province, level, grade, admin_level, tcm, cdrg (按C-DRG收付费: the
    # 三明 public hospitals of level 2 and 3 do; elsewhere other payment methods)
    ("H500231001", "垫江县人民医院", "500231", "", 2, "A", "county", False, False),
    ("H500231002", "垫江县中医院", "500231", "", 2, "A", "county", True, False),
    ("H511100001", "乐山市人民医院", "511100", "", 3, "A", "city", False, False),
    ("H510100001", "四川大学华西医院", None, "四川省", 3, "A", "province", False, False),
    ("H371500001", "聊城市人民医院", "371500", "", 3, "A", "city", False, False),
    ("H371500101", "聊城市东昌府区道口铺街道社区卫生服务中心", "371500", "", 1, "-", "township", False, False),
    ("H350400001", "三明市第一医院", "350400", "", 3, "A", "city", False, True),
    ("H350400101", "三明市三元区城关街道社区卫生服务中心", "350400", "", 1, "-", "township", False, False),
]

# person name, hospital code, settlement no, claim fields, given layers, settle?
CLAIMS = [
    ("张伟", "H500231001", "DJZY2024-0001",
     {"claim_type": "inpatient", "service_date": date(2024, 5, 10), "discharge_date": date(2024, 5, 18),
      "total": Decimal("30000"), "out_of_catalog": Decimal("1200")}, None, True),
    ("张伟", "H500231001", "DJMZ2024-0002",
     {"claim_type": "outpatient", "service_date": date(2024, 6, 3), "total": Decimal("480")}, None, False),
    ("周杰", "H511100001", "LSZY2024-0001",
     {"claim_type": "inpatient", "service_date": date(2024, 4, 2), "discharge_date": date(2024, 4, 12),
      "total": Decimal("50000")},
     [{"scheme_kind": "employee_basic", "paid": Decimal("38000"), "deductible": Decimal("1000"),
       "over_cap": Decimal("0")}], True),
    ("周杰", "H510100001", "HXZY2024-0107",
     {"claim_type": "inpatient", "service_date": date(2024, 9, 2), "discharge_date": date(2024, 9, 20),
      "total": Decimal("26000"), "out_of_catalog": Decimal("2000")},
     [{"scheme_kind": "employee_basic", "paid": Decimal("15000"), "deductible": Decimal("1000"),
       "over_cap": Decimal("0")}], True),
    ("刘洋", "H371500001", "LCZY2024-0001",
     {"claim_type": "inpatient", "service_date": date(2024, 8, 1), "discharge_date": date(2024, 8, 15),
      "total": Decimal("100000"), "out_of_catalog": Decimal("10000"), "class_b_copay": Decimal("5000"),
      "offline_review": True, "accepted_on": date(2024, 9, 27)},
     [{"scheme_kind": "resident_basic", "paid": Decimal("50000")}], False),
]


def _hospitals(rows=HOSPITALS):
    out = {}
    for code, name, region, province, level, grade, admin_level, tcm, cdrg in rows:
        hospital = Hospital.objects.filter(code=code).first()
        if hospital is None:
            hospital = Hospital(code=code, name=name, province=province, level=level, grade=grade,
                                admin_level=admin_level, tcm=tcm, cdrg=cdrg,
                                region=Region.objects.filter(code=region).first() if region else None)
            hospital.full_clean()
            hospital.save()
        out[code] = hospital
    return out


@transaction.atomic
def load(*, acting_user, stdout):
    hospitals = _hospitals()
    done = []
    for name, code, number, fields, given, settle in CLAIMS:
        person = Person.objects.filter(name=name).order_by("id").first()
        hospital = hospitals[code]
        if person is None or Claim.objects.filter(hospital=hospital, settlement_no=number).exists():
            continue
        try:
            claim = services.claim_create(acting_user=acting_user, person=person, hospital=hospital,
                                          settlement_no=number, given=given, **fields)
            if settle:
                services.claim_settle(claim=claim, acting_user=acting_user)
        except ValidationError as exc:  # demo data must never stop load_demo
            stdout.write(f"（演示理赔 {number} 未录入：{'；'.join(exc.messages)}）")
            continue
        done.append(number)
    stdout.write(f"理赔演示数据：医疗机构 {Hospital.objects.count()} 家，理赔 {Claim.objects.count()} 笔"
                 f"（本次新增 {len(done)} 笔）")
