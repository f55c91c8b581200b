"""A county's volume of demo data in the current year for ``manage.py load_demo
--persons N`` (hook ``DEMO_LOADERS``; docs/enrollment.md §演示数据, timings in
docs/benchmarks.md).

Households (1–4 persons: head, spouse, children, a parent; newborns of this year in
垫江) are generated per pooling region with a random generator seeded by (region,
household number), so the data are the same on every run and a larger ``--persons``
only adds households. Everything is entered the way the bureau enters it in bulk —
the spreadsheet imports of ``sheets`` (``run_import``: every row validated by the same
rules as the services, written in bulk by ``sheets/bulk_sql.py``):

1. persons (valid 身份证号: GB 11643 checksum by python-stdnum), identities (低保, 特困,
   低保边缘, 重度残疾 with validity dates), family relations (a newborn's through the
   import, which enrolls it where the plan says so; the others, without side effect,
   checked by the model and written in bulk);
2. the basic insurance that the core system administers (coverage entered directly,
   ``services.coverage_entered_directly``: 长治, 三明, 聊城 基本医保, 乐山 职工基本医保) — no
   spreadsheet kind exists for it, so the rows are checked with ``full_clean`` and
   written with ``bulk_sql.insert_values`` and their history rows;
3. a year of payments inside the current plan year's windows (垫江 居民医保 in every
   缴费期, 三明普惠医联保, 聊惠保, 乐山 补充医保), amounts quoted by the contribution rules
   (``rules.contribution.quote``) and checked again by the import;
4. newborns of the last weeks in 垫江 enrolled but not yet paid (their 新生儿 window is
   open today: “登记缴费” works on the demo), 长治 门诊慢特病/两病 registrations (import),
   decided by the 长治 reviewer through the services in every state.

Idempotent: rows whose person already exists are not generated again.
"""
from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from enrollment.services import registrations as reg_services
from insurance_rules.enrollment.contribution import quote
from insurance_rules.errors import CaseError
from insurance_rules.facts import HeldIdentity, PersonFacts
from policies.models import ChronicDisease, PlanYear
from sheets.bulk_sql import insert_history, insert_values
from sheets.engine import run_import
from sheets.registry import get_kind

from . import selectors, services
from .documents import make_id_number
from .models import Enrollment, FamilyRelation, Person, Registration
from .services.visibility import person_regions_add

# region code, share of the persons (%), area code of the ID numbers, 户籍 region code
REGIONS = [
    ("500231", 40, "500231", "500231"),
    ("140400", 20, "140402", "140400"),
    ("371500", 15, "371502", "371500"),
    ("350400", 15, "350426", "350426"),
    ("511100", 10, "511102", "511100"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华文辉志强春梅海燕雪梅晓东玉梅丹宇浩然子涵欣怡梓轩雨桐"
CHANNELS = [("tax_app", 40), ("wechat", 30), ("service_center", 15), ("bank", 10), ("alipay", 5)]
IDENTITIES = [  # region code, identity, share (‰)
    ("500231", "dibao", 60), ("500231", "tekun", 15), ("500231", "dibao_edge", 20),
    ("500231", "severe_disability", 10), ("140400", "dibao", 50), ("140400", "tekun", 10),
]
BASIC_DIRECT = {"140400", "371500", "350400", "511100"}  # core system's basic coverage
REGISTRATION_STATES = [("submitted", 20), ("in_review", 15), ("approved", 45), ("rejected", 12),
                       ("terminated", 8)]


def pick(rng: random.Random, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


@dataclass
class DemoPerson:
    region: str
    number: str
    name: str
    birth: date
    category: str
    hukou: str
    rng: random.Random
    phone: str = ""
    identities: list = field(default_factory=list)  # (code, valid_from, valid_to)
    relations: list = field(default_factory=list)  # (relation, relative DemoPerson)
    unpaid_newborn: bool = False
    coverage_start: date | None = None

    def facts(self) -> PersonFacts:
        return PersonFacts(birth_date=self.birth, category=self.category,
                           identities=tuple(HeldIdentity(c, f, t) for c, f, t in self.identities))


class Generator:
    """The deterministic households of the county demo (see module docstring)."""

    def __init__(self, year: int, today: date):
        self.year, self.today = year, today
        self.used: set[str] = set()

    def _birth(self, rng, age_from, age_to) -> date:
        start = date(self.year - age_to, 1, 1)
        end = min(date(self.year - age_from, 12, 31), self.today)
        return start + timedelta(days=rng.randint(0, (end - start).days))

    def _number(self, area, birth, rng, male) -> str:
        seq = rng.randrange(1, 999, 2) if male else rng.randrange(2, 999, 2)
        number = make_id_number(area, birth, seq)
        while number in self.used:
            seq = (seq + 2) % 1000 or (1 if male else 2)
            number = make_id_number(area, birth, seq)
        self.used.add(number)
        return number

    def _person(self, region, area, hukou, rng, *, age, surname=None, male=None, category=None,
                birth=None):
        male = rng.random() < 0.5 if male is None else male
        birth = birth or self._birth(rng, *age)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if category is None:
            category = self._category(region, rng, self.year - birth.year)
        return DemoPerson(region=region, number=self._number(area, birth, rng, male),
                          name=(surname or rng.choice(SURNAMES)) + given, birth=birth,
                          category=category, hukou=hukou, rng=rng,
                          phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}")

    def _category(self, region, rng, age) -> str:
        if region == "511100" or (region == "350400" and rng.random() < 0.5):
            return "employee_retired" if age >= 60 else "employee_active"
        return "resident"

    def household(self, region, area, hukou, index) -> list[DemoPerson]:
        rng = random.Random(f"medins-demo:{region}:{index}")
        size = pick(rng, [(1, 25), (2, 30), (3, 25), (4, 20)])
        young = region == "500231" and index % 20 == 1  # a family with a baby of the last weeks
        if young:
            size = 3
        head = self._person(region, area, hukou, rng, age=(24, 34) if young else (24, 72))
        members = [head]
        head_age = self.year - head.birth.year
        if size >= 2:
            spouse_age = max(22, head_age + rng.randint(-4, 4))
            spouse = self._person(region, area, hukou, rng, age=(spouse_age, spouse_age))
            head.relations.append(("spouse", spouse))
            members.append(spouse)
        for _ in range(size - len(members)):
            if head_age < 50 and (len(members) < 3 or rng.random() < 0.5):
                newborn = region == "500231" and (young or rng.random() < 0.12)
                age = (0, 0) if newborn else (1, min(20, head_age - 22))
                recent = self.today - timedelta(days=rng.randint(3, 50))  # window open today
                birth = (recent if newborn and (young or rng.random() < 0.4) and recent.year == self.year
                         else None)
                child = self._person(region, area, hukou, rng, age=age, surname=head.name[0],
                                     category="newborn" if newborn else "resident", birth=birth)
                if newborn and child.birth.year != self.year:
                    child.category = "resident"
                child.unpaid_newborn = (child.category == "newborn"
                                        and (self.today - child.birth).days <= 60)
                head.relations.append(("child", child))
                members.append(child)
            elif head_age < 60:
                parent = self._person(region, area, hukou, rng, age=(head_age + 22, head_age + 32),
                                      surname=head.name[0])
                head.relations.append(("parent", parent))
                members.append(parent)
        for person in members:
            for code_region, identity, share in IDENTITIES:
                if code_region == region and person.rng.random() * 1000 < share:
                    start = date(self.year - person.rng.randint(1, 4), person.rng.randint(1, 9), 1)
                    start = max(start, person.birth)
                    end = None if person.rng.random() < 0.7 else date(self.year + 1, 12, 31)
                    person.identities.append((identity, start, end))
                    break
        return members

    def persons(self, total: int) -> list[DemoPerson]:
        out = []
        for region, share, area, hukou in REGIONS:
            quota = round(total * share / 100)
            index, count = 0, 0
            while True:
                members = self.household(region, area, hukou, index)
                if count + len(members) > quota:
                    break
                out.extend(members)
                count += len(members)
                index += 1
        return out


# --------------------------------------------------------------------------- sheets


def import_rows(kind_name: str, rows: list[dict], *, acting_user, directory: Path):
    """Import ``rows`` (header → value) through the sheet kind ``kind_name``; the demo
    must be valid, so any error stops the load with the import's own messages."""
    if not rows:
        return None
    kind = get_kind(kind_name)
    headers = list(dict.fromkeys(h for row in rows for h in row))
    path = directory / f"{kind_name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=headers)
        writer.writeheader()
        writer.writerows(rows)
    result = run_import(kind, path, user=acting_user, name=f"演示数据·{kind.label}.csv")
    if not result.ok:
        shown = "；".join(f"第 {e.row} 行 {e.column}：{e.message}（{e.value}）" for e in result.errors[:5])
        raise ValidationError(f"演示数据“{kind.label}”导入失败：{shown}")
    return result


def _day(value: date) -> str:
    return value.isoformat()


DEMO_BANKS = {"500231": "中国农业银行垫江支行", "140400": "长治银行", "371500": "聊城农商银行",
              "350400": "中国建设银行三明分行", "511100": "中国工商银行乐山分行"}


def bank_fields(p) -> dict:
    """A demo person's bank account (the payee of payment batches), derived from the ID
    number without drawing on the generator (the other data stay the same); about one in
    twenty has none, so 生成支付批次 shows whom it left out."""
    if int(p.number[14:17]) % 20 == 0:
        return {}
    return {"开户银行": DEMO_BANKS.get(p.region, "中国农业银行"), "账户名": p.name,
            "银行账号": f"6228{p.number[2:17]}"}


def person_rows(persons):
    return [{"证件号码": p.number, "姓名": p.name, "人员类别": p.category, "联系电话": p.phone,
             "户籍所在地": p.hukou, "常住地": p.hukou, **bank_fields(p)} for p in persons]


def identity_rows(persons):
    return [{"证件号码": p.number, "姓名": p.name, "特殊身份": code, "认定起始日": _day(start),
             "认定终止日": _day(end) if end else "", "认定文书编号": f"认定〔{start.year}〕{i:04d}号"}
            for i, p in enumerate(persons, 1) for code, start, end in p.identities]


def relation_rows(persons):
    return [{"参保人证件号码": p.number, "参保人姓名": p.name, "亲属是参保人的": relation,
             "亲属证件号码": r.number, "亲属姓名": r.name}
            for p in persons for relation, r in p.relations]


# --------------------------------------------------------------------------- enrollments


def _plan_years(year):
    return {(py.scheme.region.code, py.scheme.kind): py for py in
            PlanYear.objects.filter(year=year, status=PlanYear.Status.ACTIVE)
            .select_related("scheme__region")}


def basic_coverage(persons, plan_years, *, acting_user, year) -> int:
    """Basic insurance of the core system: an enrollment with the full year's coverage."""
    rows, seen = [], {}
    numbers = {p.number: p for p in persons if p.region in BASIC_DIRECT}
    ids = dict(Person.objects.filter(document_type="id_card", document_number__in=list(numbers))
               .values_list("document_number", "id"))
    for number, p in numbers.items():
        kind = "employee_basic" if p.category.startswith("employee") else "resident_basic"
        plan_year = plan_years.get((p.region, kind))
        skip = kind == "resident_basic" and random.Random(f"medins-demo-basic:{number}").random() < 0.03
        if plan_year is None or number not in ids or skip:
            continue
        seen.setdefault(plan_year.pk, set()).add(ids[number])
        start = max(date(year, 1, 1), p.birth)
        rows.append(Enrollment(person_id=ids[number], plan_year=plan_year, category=p.category, tier=0,
                               coverage_start=start, coverage_end=date(year, 12, 31),
                               basic_confirmed=True, note="核心系统确认的待遇享受期（演示数据）"))
    existing = set(Enrollment.objects.filter(plan_year_id__in=list(seen))
                   .values_list("plan_year_id", "person_id"))
    rows = [e for e in rows if (e.plan_year_id, e.person_id) not in existing]
    written = bulk_write(Enrollment, rows, acting_user=acting_user, reason="演示数据：核心系统参保")
    person_regions_add(person_ids={e.person_id for e in rows})  # the visibility rows
    return written


def bulk_write(model, objs, *, acting_user, reason) -> int:
    """Write new rows that have no spreadsheet kind in bulk (``sheets.bulk_sql``), each
    checked first by its model (field checks and ``clean``), with their history rows."""
    values = []
    for obj in objs:
        obj.clean_fields(exclude=[f.name for f in model._meta.fields if f.many_to_one])
        obj.clean()
        values.append({f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields
                       if not f.primary_key and not getattr(f, "auto_now_add", False)})
    now = timezone.now()
    insert_values(model, values, now=now)
    insert_history(model, values, user=acting_user, reason=reason, when=now, created=True)
    return len(values)


def write_relations(persons, *, acting_user, directory) -> int:
    """Family relations: those making a newborn someone's child go through the import
    (``relation_add`` enrolls the newborn automatically where the plan says so); the
    others, which have no such effect, are written in bulk after the model's checks."""
    through_service = [p for p in persons
                       if any(r.category == "newborn" for _, r in p.relations)]
    import_rows("relations", relation_rows(through_service), acting_user=acting_user,
                directory=directory)
    rest = [(p, relation, r) for p in persons if p not in through_service for relation, r in p.relations]
    numbers = {n for p, _, r in rest for n in (p.number, r.number)}
    ids = dict(Person.objects.filter(document_type="id_card", document_number__in=list(numbers))
               .values_list("document_number", "id"))
    rows = [FamilyRelation(person_id=ids[p.number], relative_id=ids[r.number], relation=relation)
            for p, relation, r in rest]
    return bulk_write(FamilyRelation, rows, acting_user=acting_user, reason="演示数据：家庭关系") + len(
        relation_rows(through_service))


PAYING = {  # region → (scheme kind, share of persons paying, who)
    "500231": ("resident_basic", 95, "all"),
    "350400": ("inclusive_commercial", 55, "all"),
    "371500": ("inclusive_commercial", 60, "all"),
    "511100": ("employee_supplementary", 90, "employee"),
}


def _paid_date(rng, window, today) -> date | None:
    start = window.pay_from or (window.pay_to - timedelta(days=90))
    end = min(window.pay_to or today, today)
    if end < start:
        return None
    return start + timedelta(days=rng.randint(0, (end - start).days))


def payment_rows(persons, plan_years, *, year, today):
    """One payment row per paying person, inside a window of the current plan year."""
    plans = {}
    rows = []
    for p in persons:
        if p.region not in PAYING or p.unpaid_newborn:
            continue
        kind, share, who = PAYING[p.region]
        rng = random.Random(f"medins-demo-pay:{p.number}")
        if rng.randrange(100) >= share or (who == "employee" and not p.category.startswith("employee")):
            continue
        plan_year = plan_years.get((p.region, kind))
        if plan_year is None:
            continue
        if plan_year.pk not in plans:
            plans[plan_year.pk] = selectors.contribution_plan(plan_year)
        plan = plans[plan_year.pk]
        windows = [w for w in plan.windows if w.person_group == "all"]
        if p.category == "newborn":
            windows = [w for w in plan.windows if w.person_group == "newborn"] or windows
        weights = [78 if w.coverage_rule == "fixed" else 8 for w in windows]
        window = rng.choices(windows, weights=weights)[0]
        paid = _paid_date(rng, window, today)
        if p.category == "newborn":
            paid = min(p.birth + timedelta(days=rng.randint(3, 40)), today)
        if paid is None:
            continue
        tier = (2 if rng.random() < 0.2 else 1) if plan.has_tiers else None
        channel = ("personal_account" if kind == "employee_supplementary"
                   or (p.category.startswith("employee") and rng.random() < 0.6)
                   else pick(rng, CHANNELS))
        try:
            q = quote(plan, p.facts(), tier=tier, paid_date=paid, channel=channel, relation="self",
                      holds_employee_basic=p.category.startswith("employee"), local=True)
        except CaseError:
            continue
        p.coverage_start = q.coverage_start
        rows.append({
            "证件号码": p.number, "姓名": p.name, "统筹区": p.region, "险种": kind, "年度": year,
            "档次": q.tier or "", "缴费日期": _day(paid), "应缴金额": str(q.due),
            "资助金额": str(q.subsidy), "个人缴费": str(q.self_pay), "缴费渠道": channel,
            "参保人与缴费人的关系": "self",
            "票据/流水号": f"YS{year}{p.number[6:]}",
            "已核实参加本统筹区基本医保": "是" if kind == "inclusive_commercial" else "",
        })
    return rows


def unpaid_newborns(persons, plan_years, *, acting_user) -> int:
    """Newborns of the last weeks in 垫江: enrolled, to be paid today on “登记缴费”."""
    created = 0
    for p in persons:
        plan_year = plan_years.get((p.region, "resident_basic"))
        if not p.unpaid_newborn or plan_year is None:
            continue
        person = Person.objects.get(document_type="id_card", document_number=p.number)
        if not Enrollment.objects.filter(person=person, plan_year=plan_year).exists():
            services.enrollment_create(person=person, plan_year=plan_year, tier=1,
                                       acting_user=acting_user, note="新生儿，待缴费（演示数据）")
            created += 1
    return created


# --------------------------------------------------------------------------- registrations


def _reviewer(region_code):
    from policies.models import StaffProfile  # noqa: PLC0415 (keep the import local)
    profile = (StaffProfile.objects.filter(regions__code=region_code, user__groups__name="审核员",
                                           user__is_active=True).select_related("user")
               .order_by("user__username").first())
    return profile.user if profile else None


def registration_rows(persons, *, year, today):
    diseases = list(ChronicDisease.objects.filter(region__code="140400", kind="chronic",
                                                  closed_from__isnull=True).order_by("code")
                    .values_list("code", flat=True))
    if not diseases:
        return []
    rows = []
    for p in persons:
        rng = random.Random(f"medins-demo-reg:{p.number}")
        if p.region != "140400" or p.category != "resident" or rng.random() > 0.15:
            continue
        applied = date(year, 1, 5) + timedelta(days=rng.randint(0, max((today - date(year, 1, 5)).days - 10, 0)))
        row = {"证件号码": p.number, "姓名": p.name, "统筹区": "140400", "险种": "resident_basic",
               "申请日期": _day(applied), "受理机构": rng.choice(["长治市人民医院", "长治医学院附属和平医院"]),
               "资料说明": "诊断证明、病历、检查报告"}
        if rng.random() < 0.25:
            row.update({"病种": "DM2", "糖化血红蛋白（%）": str(Decimal(rng.randint(70, 95)) / 10),
                        "空腹血糖（mmol/L）": str(Decimal(rng.randint(72, 120)) / 10)})
        else:
            row["病种"] = rng.choice(diseases)
        rows.append(row)
    return rows


def decide_registrations(numbers, *, reviewer, today) -> dict:
    """Move the demo's new registrations into every state through the services."""
    counts = {}
    regs = (Registration.objects.filter(person__document_number__in=numbers, status="submitted")
            .select_related("person", "disease").order_by("pk"))
    for i, reg in enumerate(regs):
        rng = random.Random(f"medins-demo-decide:{reg.person.document_number}:{reg.disease.code}")
        state = pick(rng, REGISTRATION_STATES)
        if i < len(REGISTRATION_STATES):  # every state shown, however few the registrations
            state = REGISTRATION_STATES[i][0]
        decided = min(reg.application_date + timedelta(days=rng.randint(3, 20)), today)
        try:
            if state != "submitted":
                reg_services.registration_start_review(registration=reg, acting_user=reviewer)
            if state in ("approved", "terminated"):
                reg = reg_services.registration_approve(
                    registration=reg, acting_user=reviewer, decision_date=decided, valid_from=decided)
                if state == "terminated":
                    reg_services.registration_terminate(
                        registration=reg, acting_user=reviewer, reason="参保人死亡或迁出（演示）",
                        end_date=min(decided + timedelta(days=rng.randint(20, 120)), today))
            elif state == "rejected":
                reg_services.registration_reject(
                    registration=reg, acting_user=reviewer, decision_date=decided,
                    reason=rng.choice(["诊断证明不全，请补充二级及以上医院的诊断证明",
                                       "检查报告不符合准入标准", "病历资料与申报病种不符"]))
        except ValidationError:
            state = Registration.objects.get(pk=reg.pk).status
        counts[state] = counts.get(state, 0) + 1
    return counts


# --------------------------------------------------------------------------- entry point


def generate(total: int, *, year: int, today: date) -> list[DemoPerson]:
    return Generator(year, today).persons(total)


@transaction.atomic
def load(*, acting_user, stdout, persons: int = 0, **options):
    today = timezone.localdate()
    year = today.year
    plan_years = _plan_years(year)
    if not persons or not plan_years:
        stdout.write(f"（没有生效的 {year} 年度方案或 --persons 为 0，跳过当年度演示参保数据）")
        return
    everyone = generate(persons, year=year, today=today)
    known = set(Person.objects.filter(document_type="id_card",
                                      document_number__in=[p.number for p in everyone])
                .values_list("document_number", flat=True))
    new = [p for p in everyone if p.number not in known]
    with tempfile.TemporaryDirectory(prefix="medins-demo-") as tmp:
        directory = Path(tmp)
        import_rows("persons", person_rows(new), acting_user=acting_user, directory=directory)
        import_rows("identities", identity_rows(new), acting_user=acting_user, directory=directory)
        write_relations(new, acting_user=acting_user, directory=directory)
        basic = basic_coverage(new, plan_years, acting_user=acting_user, year=year)
        payments = payment_rows(new, plan_years, year=year, today=today)
        import_rows("payments", payments, acting_user=acting_user, directory=directory)
        newborns = unpaid_newborns(new, plan_years, acting_user=acting_user)
        registrations = registration_rows(new, year=year, today=today)
        import_rows("registrations", registrations, acting_user=acting_user, directory=directory)
    reviewer = _reviewer("140400") or acting_user
    decided = decide_registrations([r["证件号码"] for r in registrations], reviewer=reviewer,
                                   today=today)
    stdout.write(f"{year} 年度演示参保数据：新增参保人 {len(new)} 人（共 {len(everyone)} 人），"
                 f"核心系统参保 {basic} 条，缴费 {len(payments)} 笔，待缴费新生儿 {newborns} 人，"
                 f"门诊慢特病登记 {len(registrations)} 条")
    if decided:
        stdout.write("  登记状态：" + "，".join(
            f"{Registration.Status(k).label} {v}" for k, v in sorted(decided.items())))
