"""A small hand-countable dataset for the report tests (test data, not policy).

三明市 (350400) with counties 尤溪县 350426 (and a town 350480 under it), 明溪县 350421,
将乐县 350428, 清流县 350423 (no data); a second pooling region 聊城市 371500. The expected
figures are worked out by hand in ``EXPECTED`` and in the tests' comments.

三明 普惠 2024 (target 30, minimum 20):
- 尤溪: basic P1–P6 + P12 (town) = 7 (P7 terminated: no); enrollees P1, P12 = 2
  (P3 suspended, P4 unpaid: no) → 2/7 = 28.5714 → 28.57 (达到底线、未达目标)
- 明溪: basic P8 (employee + resident basic: once), P9 (户籍), P11 (常住地 明溪, 户籍 尤溪)
  = 3; enrollees P8, P9 = 2 → 66.67 (达到目标)
- 将乐: basic Q1–Q10 = 10; enrollee Q1 → 10.00 (低于底线)
- 清流: 0/0 → no rate
- 未划分县区: P10 (no region) 1/1 → 100.00
- city: 6 / 21 = 28.5714 → 28.57
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from enrollment.documents import make_id_number
from enrollment.models import Enrollment, Payment, Person, PersonIdentity
from policies import codes
from policies.models import Identity, PlanFigure, PlanYear, Region, Scheme

SK = codes.SchemeKind
ACTIVE = Enrollment.Status.ACTIVE


class Data:
    """Attribute bag of the objects created."""


def _region(code, name, parent=None):
    return Region.objects.get_or_create(
        code=code, defaults={"name": name, "parent": parent, "is_pooling": parent is None})[0]


def _plan_year(region, kind, order, year=2024, status=PlanYear.Status.ACTIVE, name=None):
    scheme = Scheme.objects.get_or_create(
        region=region, kind=kind,
        defaults={"name": name or SK(kind).label, "settlement_order": order})[0]
    return PlanYear.objects.get_or_create(scheme=scheme, year=year, defaults={"status": status})[0]


def _identity(code, name, department):
    return Identity.objects.get_or_create(code=code, defaults={"name": name,
                                                               "department": department})[0]


class _People:
    def __init__(self):
        self.seq = 0

    def person(self, name, *, residence=None, hukou=None, category="resident"):
        self.seq += 1
        birth = date(1980, 1, 1)
        return Person.objects.create(
            document_number=make_id_number("350426", birth, self.seq), name=name,
            birth_date=birth, sex="male" if self.seq % 2 else "female", category=category,
            residence_region=residence, hukou_region=hukou)


def enroll(person, plan_year, *, status=ACTIVE, paid=True):
    start = date(plan_year.year, 1, 1) if paid else None
    end = date(plan_year.year, 12, 31) if paid else None
    return Enrollment.objects.create(person=person, plan_year=plan_year, status=status,
                                     coverage_start=start, coverage_end=end,
                                     paid_off_date=start)


_receipt = [0]


def pay(enrollment, *, self_paid="0", subsidy="0", payer="", identity=None,
        paid_date=date(2024, 1, 10)):
    _receipt[0] += 1
    self_paid, subsidy = Decimal(self_paid), Decimal(subsidy)
    return Payment.objects.create(
        enrollment=enrollment, amount_due=self_paid + subsidy, self_paid=self_paid,
        subsidy=subsidy, subsidy_payer=payer, subsidy_identity=identity, paid_date=paid_date,
        channel="government" if subsidy and not self_paid else "wechat",
        receipt_no=f"R{_receipt[0]:06d}")


def build() -> Data:
    d = Data()
    d.sanming = _region("350400", "三明市")
    d.youxi = _region("350426", "尤溪县", d.sanming)
    d.town = _region("350480", "测试镇", d.youxi)
    d.mingxi = _region("350421", "明溪县", d.sanming)
    d.jiangle = _region("350428", "将乐县", d.sanming)
    d.qingliu = _region("350423", "清流县", d.sanming)
    d.liaocheng = _region("371500", "聊城市")

    d.sm_resident = _plan_year(d.sanming, SK.RESIDENT_BASIC, 1)
    d.sm_employee = _plan_year(d.sanming, SK.EMPLOYEE_BASIC, 2)
    d.sm_commercial = _plan_year(d.sanming, SK.INCLUSIVE_COMMERCIAL, 5, name="三明普惠医联保")
    d.sm_commercial_2023 = _plan_year(d.sanming, SK.INCLUSIVE_COMMERCIAL, 5, year=2023,
                                      status=PlanYear.Status.CLOSED)
    PlanFigure.objects.create(plan_year=d.sm_commercial, code="participation_target",
                              value=Decimal("30"))
    PlanFigure.objects.create(plan_year=d.sm_commercial, code="participation_minimum",
                              value=Decimal("20"))
    d.lc_resident = _plan_year(d.liaocheng, SK.RESIDENT_BASIC, 1)
    d.lc_commercial = _plan_year(d.liaocheng, SK.INCLUSIVE_COMMERCIAL, 5, name="聊惠保")
    PlanFigure.objects.create(plan_year=d.lc_commercial, code="participation_target",
                              value=Decimal("30"))

    d.dibao = _identity("dibao", "低保对象", "civil_affairs")
    d.unstable = _identity("poverty_unstable", "脱贫不稳定户", "rural_revitalization")
    d.veteran = _identity("old_veteran", "在乡老复员军人", "veterans")

    people = _People()
    p = {i: None for i in range(1, 14)}
    for i in range(1, 8):
        p[i] = people.person(f"尤溪{i}", residence=d.youxi)
    p[8] = people.person("明溪8", hukou=d.mingxi, category="employee_active")
    p[9] = people.person("明溪9", hukou=d.mingxi)
    p[10] = people.person("无地区10")
    p[11] = people.person("明溪11", residence=d.mingxi, hukou=d.youxi)
    p[12] = people.person("镇12", residence=d.town)
    p[13] = people.person("尤溪13", residence=d.youxi)
    q = {i: people.person(f"将乐{i}", residence=d.jiangle) for i in range(1, 11)}
    d.p, d.q = p, q

    # basic coverage (denominator)
    for i in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12):
        enroll(p[i], d.sm_resident)
    enroll(p[7], d.sm_resident, status=Enrollment.Status.TERMINATED)
    enroll(p[8], d.sm_resident)
    enroll(p[8], d.sm_employee)
    for i in q:
        enroll(q[i], d.sm_resident)
    enroll(p[13], d.lc_resident)  # 聊城 basic: not in 三明's denominator

    # commercial enrollments (numerator) and payments
    e = {}
    for i in (1, 8, 9, 10, 12):
        e[i] = enroll(p[i], d.sm_commercial)
    e[3] = enroll(p[3], d.sm_commercial, status=Enrollment.Status.SUSPENDED)
    e[4] = enroll(p[4], d.sm_commercial, paid=False)
    e["q1"] = enroll(q[1], d.sm_commercial)
    d.e = e

    pay(e[1], self_paid="100.00")
    pay(e[12], subsidy="100.00", payer="government", identity=d.dibao)
    pay(e[8], self_paid="40.00", subsidy="60.00", payer="government", identity=d.unstable)
    pay(e[9], self_paid="49.50", subsidy="50.50", payer="charity", identity=d.veteran)
    pay(e["q1"], self_paid="69.75", subsidy="30.25", payer="government", identity=d.dibao)
    pay(e[10], self_paid="50.00")
    pay(e[10], self_paid="50.00", paid_date=date(2024, 2, 1))
    pay(e[3], self_paid="100.00")
    # P12's 低保 was certified by 退役军人事务 only until 2023 (not valid on the payment
    # date); the current certificate names no department → the identity's default (民政).
    PersonIdentity.objects.create(person=p[12], identity=d.dibao, valid_from=date(2020, 1, 1),
                                  valid_to=date(2023, 12, 31), department="veterans")
    PersonIdentity.objects.create(person=p[12], identity=d.dibao, valid_from=date(2024, 1, 1))
    # Q1's 低保 certificate names 乡村振兴 → that department, not the default 民政.
    PersonIdentity.objects.create(person=q[1], identity=d.dibao, valid_from=date(2023, 6, 1),
                                  department="rural_revitalization")

    # 聊城: basic L1, L2, P13 (no county under 聊城) = 3; enrollee L1 → 33.33
    l1, l2 = people.person("聊城1"), people.person("聊城2")
    enroll(l1, d.lc_resident)
    enroll(l2, d.lc_resident)
    d.lc_e1 = enroll(l1, d.lc_commercial)
    pay(d.lc_e1, self_paid="90.00")
    return d
