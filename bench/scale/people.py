"""The insured of the bureau-scale database: persons, enrollments, payments and their
contribution journals, each written by one COPY statement.

Every pass walks the same deterministic sequence (``walk``: one seeded generator per
region), so the enrollments, payments and journals find their persons' ids without
reading them back. Names and 身份证号 as the county demo makes them
(``enrollment.demo_county``: surnames, given names; ``make_id_number``: GB 11643 check digit).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from enrollment.demo_county import GIVEN, SURNAMES
from enrollment.documents import make_id_number
from enrollment.models import Enrollment, Payment, Person
from ledger.models import Account, Entry, Journal, SourceKind

from .copying import copy_rows, reserve_ids

# pooling region, share of the persons, area code of the ID numbers, share of residents
# (the others employees), optional plan years beside basic (kind, share of the eligible)
REGIONS = [
    ("500231", 0.30, ["500231"], 1.0, [("critical_illness", 1.0)]),
    ("140400", 0.25, ["140402", "140411", "140425"], 0.7, [("critical_illness", 1.0), ("employee_large", 1.0)]),
    ("371500", 0.20, ["371502", "371521", "371581"], 0.7, [("critical_illness", 1.0),
                                                          ("inclusive_commercial", 0.15)]),
    ("350400", 0.15, None, 0.5, [("critical_illness", 1.0), ("inclusive_commercial", 0.3)]),
    ("511100", 0.10, ["511102", "511111", "511112"], 0.0, [("employee_supplementary", 0.5)]),
]
MOVED = 0.04  # share living in another region than their 户籍 (visible to both regions' clerks)
CHANNELS = ["tax_app", "tax_app", "wechat", "wechat", "service_center", "bank", "alipay"]
EPOCH = date(1940, 1, 1)
BIRTH_DAYS = 29_000  # 1940 … 2019


@dataclass(slots=True)
class Insured:
    pk: int
    index: int  # 0 … n-1 in walk order
    region: str  # pooling region code
    number: str
    name: str
    sex: str
    birth: date
    category: str
    hukou_id: int
    residence_id: int
    plans: list  # [(enrollment id, plan year)], basic first


class Plan:
    """How many persons per region, their ids, the plan years they join."""

    def __init__(self, persons: int, year: int, first_person: int, first_enrollment: int):
        from policies.models import PlanYear, Region

        self.year, self.persons = year, persons
        self.regions = {r.code: r for r in Region.objects.all()}
        self.counties = {code: [r for r in self.regions.values() if r.parent_id == reg.pk]
                         for code, reg in self.regions.items() if reg.parent_id is None}
        self.plan_years = {(py.scheme.region.code, py.scheme.kind): py for py in
                           PlanYear.objects.filter(year=year).select_related("scheme__region")}
        counts = [int(persons * share) for _c, share, *_ in REGIONS]
        counts[0] += persons - sum(counts)
        self.counts = dict(zip([r[0] for r in REGIONS], counts, strict=True))
        self.first_person, self.first_enrollment = first_person, first_enrollment
        self.enrollments = sum(1 for _ in self._enrollment_counter())

    def _enrollment_counter(self):
        for person in self.walk(count_only=True):
            yield from person.plans

    def walk(self, *, count_only: bool = False):
        """The persons in the same order every time (and their enrollments' ids)."""
        pk, enrollment_pk, index = self.first_person, getattr(self, "first_enrollment", 0), 0
        others = [code for code, *_ in REGIONS]
        for code, _share, areas, residents, optional in REGIONS:
            rng = random.Random(f"bureau-scale:{code}")
            region = self.regions[code]
            counties = self.counties.get(code) or []
            # employees only (乐山: no resident insurance): adults
            span = BIRTH_DAYS if (code, "resident_basic") in self.plan_years else BIRTH_DAYS - 20 * 366
            for i in range(self.counts[code]):
                hukou = rng.choice(counties) if counties else region
                area = hukou.code if areas is None else areas[i % len(areas)]
                if rng.random() < MOVED:
                    residence = self.regions[rng.choice(others)]
                else:
                    residence = hukou
                k = (i * 7_919) % self.counts[code]  # birth dates not in id order
                birth = EPOCH + timedelta(days=k % span)
                seq = k // span + 1
                age = self.year - birth.year
                if rng.random() < residents or age < 18:
                    category = "student" if 6 <= age < 18 else "resident"
                    basic = "resident_basic"
                else:
                    category = "employee_retired" if age >= 60 else "employee_active"
                    basic = "employee_basic"
                kinds = [basic]
                for kind, share in optional:
                    if (code, kind) not in self.plan_years:
                        continue
                    if kind == "employee_large" and basic != "employee_basic":
                        continue
                    if kind == "critical_illness" and basic != "resident_basic" and code != "500231":
                        continue
                    if rng.random() < share:
                        kinds.append(kind)
                plans = []
                for kind in kinds:
                    plans.append((enrollment_pk, self.plan_years[(code, kind)]))
                    enrollment_pk += 1
                # the same draws in every pass (the sequence must not depend on count_only)
                given = "".join(rng.choice(GIVEN) for _ in range(1 + (rng.random() < 0.7)))
                surname = rng.choice(SURNAMES)
                yield Insured(pk, index, code, "" if count_only else make_id_number(area, birth, seq),
                              surname + given, "male" if seq % 2 else "female", birth,
                              category, hukou.pk, residence.pk, plans)
                pk += 1
                index += 1


def new_plan(cursor, persons: int, year: int) -> Plan:
    plan = Plan(persons, year, 0, 0)
    plan.first_person = reserve_ids(cursor, Person, persons)
    plan.first_enrollment = reserve_ids(cursor, Enrollment, plan.enrollments)
    return plan


def copy_persons(cursor, plan: Plan) -> int:
    with copy_rows(cursor, Person) as table:
        for p in plan.walk():
            table.write(id=p.pk, document_type="id_card", document_number=p.number, name=p.name, sex=p.sex,
                        birth_date=p.birth, phone=f"13{(p.pk * 7_919) % 10**9:09d}", category=p.category,
                        hukou_region_id=p.hukou_id, residence_region_id=p.residence_id)
    return table.rows


def copy_enrollments(cursor, plan: Plan) -> int:
    start, end = date(plan.year, 1, 1), date(plan.year, 12, 31)
    with copy_rows(cursor, Enrollment) as table:
        for p in plan.walk(count_only=True):
            for pk, plan_year in p.plans:
                tier = 1 if plan_year.scheme.kind == "resident_basic" and p.region == "500231" else 0
                table.write(id=pk, person_id=p.pk, plan_year_id=plan_year.pk, category=p.category,
                            tier=tier, status="active",
                            coverage_start=start, coverage_end=end, paid_off_date=date(plan.year - 1, 12, 20),
                            window_code="central", continuous_years=1 + p.index % 9, origin="manual")
    return table.rows


def _payment(plan: Plan, p: Insured):
    """(amount due, subsidy, self-paid, paid date) of the person's basic enrollment."""
    if p.category in ("resident", "student"):
        due = Decimal("380.00")
        subsidy = Decimal("200.00") if p.index % 13 == 0 else Decimal("0.00")
    else:
        due = Decimal(1_800 + (p.index * 37) % 2_400).quantize(Decimal("0.01"))
        subsidy = Decimal("0.00")
    paid = date(plan.year - 1, 9, 1) + timedelta(days=p.index % 110)
    return due, subsidy, due - subsidy, paid


def copy_payments(cursor, plan: Plan) -> tuple[int, int, int]:
    """One payment per person (their basic enrollment), then its 缴费到账 journal, then the
    journal's entries — three COPY statements (the entries' one balances every journal)."""
    first_payment = reserve_ids(cursor, Payment, plan.persons)
    first_journal = reserve_ids(cursor, Journal, plan.persons)
    with copy_rows(cursor, Payment) as table:
        for p in plan.walk(count_only=True):
            due, subsidy, self_paid, paid = _payment(plan, p)
            enrollment_pk, plan_year = p.plans[0]
            table.write(id=first_payment + p.index, enrollment_id=enrollment_pk, scheme_id=plan_year.scheme_id,
                        amount_due=due, subsidy=subsidy, subsidy_payer="government" if subsidy else "",
                        self_paid=self_paid, paid_date=paid, channel=CHANNELS[p.index % len(CHANNELS)],
                        receipt_no=f"S{plan.year}{p.pk:010d}", window_code="central", completes=True)
    payments = table.rows
    with copy_rows(cursor, Journal) as table:
        for p in plan.walk(count_only=True):
            _due, _subsidy, _self, paid = _payment(plan, p)
            plan_year = p.plans[0][1]
            table.write(id=first_journal + p.index, kind=Journal.Kind.CONTRIBUTION, scheme_id=plan_year.scheme_id,
                        region_id=plan_year.scheme.region_id, year=plan.year, person_id=p.pk,
                        source_kind=SourceKind.PAYMENT, source_id=first_payment + p.index, booked_on=paid,
                        memo="缴费到账", reference=f"S{plan.year}{p.pk:010d}")
    journals = table.rows
    with copy_rows(cursor, Entry, ids=False) as table:
        for p in plan.walk(count_only=True):
            _due, subsidy, self_paid, _paid = _payment(plan, p)
            journal = first_journal + p.index
            lines = [(Account.BANK, self_paid + subsidy), (Account.CONTRIBUTION, -self_paid)]
            if subsidy:
                lines.append((Account.SUBSIDY, -subsidy))
            for account, amount in lines:
                table.write(journal_id=journal, account=account, amount=amount)
    return payments, journals, table.rows
