"""Demo persons, enrollments and payments for ``manage.py load_demo`` (hook
``DEMO_LOADERS``): one small family or case per seed system, entered through the
services exactly as staff would, so that every amount and coverage shown in the admin is
computed by the rules (docs/enrollment.md). Idempotent: existing persons (by document
number), enrollments and receipts are left as they are.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from policies.models import PlanYear, PreExistingCondition, Region

from . import services
from .documents import make_id_number
from .models import Enrollment, FamilyRelation, Payment, Person, PersonIdentity, Refund


def _region(code):
    return Region.objects.filter(code=code).first()


def _person(acting_user, *, name, area, birth, seq, category, region, document_type="id_card",
            number=None, **fields):
    number = number or make_id_number(area, birth, seq)
    person = Person.objects.filter(document_type=document_type, document_number=number).first()
    if person is not None:
        return person
    region_obj = _region(region)
    if document_type != "id_card":
        fields.setdefault("birth_date", birth)
    return services.person_create(
        acting_user=acting_user, document_type=document_type, document_number=number, name=name,
        category=category, hukou_region=region_obj, residence_region=region_obj, **fields)


def _identity(acting_user, person, code, valid_from, valid_to=None):
    if not PersonIdentity.objects.filter(person=person, identity__code=code).exists():
        services.identity_add(person=person, identity=code, valid_from=valid_from,
                              valid_to=valid_to, acting_user=acting_user)


def _relation(acting_user, person, relative, relation):
    if not FamilyRelation.objects.filter(person=person, relative=relative).exists():
        services.relation_add(person=person, relative=relative, relation=relation,
                              acting_user=acting_user)


def _enroll(acting_user, person, region, kind, *, tier=0, coverage=None, **kwargs):
    plan_year = PlanYear.objects.filter(scheme__region__code=region, scheme__kind=kind,
                                        year=2024).first()
    if plan_year is None:
        return None
    enrollment = Enrollment.objects.filter(person=person, plan_year=plan_year).first()
    if enrollment is None:
        enrollment = services.enrollment_create(person=person, plan_year=plan_year, tier=tier,
                                                acting_user=acting_user, **kwargs)
    if coverage and enrollment.coverage_start is None and services.coverage_entered_directly(
            plan_year):
        services.enrollment_update(enrollment=enrollment, coverage_start=coverage[0],
                                   coverage_end=coverage[1], acting_user=acting_user)
    return enrollment


def _pay(acting_user, enrollment, paid, receipt, channel="wechat", **kwargs):
    if enrollment is None or Payment.objects.filter(scheme=enrollment.plan_year.scheme,
                                                    receipt_no=receipt).exists():
        return None
    enrollment.refresh_from_db()
    if enrollment.paid_off_date:
        return None
    return services.payment_record(enrollment=enrollment, paid_date=paid, channel=channel,
                                   receipt_no=receipt, acting_user=acting_user, **kwargs)


def _refund(acting_user, receipt, amount, reason, **kwargs):
    """A refund request of the payment ``receipt`` (垫江), unless it has one already."""
    payment = Payment.objects.filter(receipt_no=receipt, scheme__region__code="500231").first()
    if payment is None or payment.refunds.exists():
        return None
    return services.refund_request(payment=payment, amount=Decimal(amount), reason=reason,
                                   acting_user=acting_user, **kwargs)


YEAR = (date(2024, 1, 1), date(2024, 12, 31))


@transaction.atomic
def load(*, acting_user, stdout):
    a = acting_user
    # 垫江县 城乡居民医保: 低保 (ex-3), 3 月缴费 (满 90 日), 特困 就高, 新生儿 90 日内
    zhang = _person(a, name="张伟", area="500231", birth=date(1980, 6, 15), seq=11,
                    category="resident", region="500231", phone="13800000001")
    _identity(a, zhang, "dibao", date(2023, 1, 1))
    _pay(a, _enroll(a, zhang, "500231", "resident_basic", tier=1), date(2023, 11, 20), "DJ2023-0001")
    li = _person(a, name="李娜", area="500231", birth=date(1992, 3, 8), seq=22,
                 category="resident", region="500231")
    _pay(a, _enroll(a, li, "500231", "resident_basic", tier=2), date(2024, 3, 10), "DJ2024-0002",
         channel="tax_app")
    wang = _person(a, name="王芳", area="500231", birth=date(1955, 9, 9), seq=42,
                   category="resident", region="500231")
    _identity(a, wang, "tekun", date(2022, 1, 1))
    _identity(a, wang, "dibao_edge", date(2022, 1, 1))
    _pay(a, _enroll(a, wang, "500231", "resident_basic", tier=1), date(2023, 12, 5), "DJ2023-0003",
         channel="service_center")
    baby = _person(a, name="张小宝", area="500231", birth=date(2024, 6, 15), seq=0,
                   document_type="birth_certificate", number="O500240615", category="newborn",
                   region="500231", sex="male")
    _relation(a, zhang, baby, "child")
    _pay(a, _enroll(a, baby, "500231", "resident_basic", tier=1), date(2024, 9, 13), "DJ2024-0004")

    # 聊城 聊惠保: 夫妻参保 → 新生儿自动参保; 当年退役军人随时参保
    liu = _person(a, name="刘洋", area="371502", birth=date(1988, 5, 5), seq=31,
                  category="resident", region="371500")
    zhao = _person(a, name="赵敏", area="371502", birth=date(1990, 7, 7), seq=32,
                   category="resident", region="371500")
    _relation(a, liu, zhao, "spouse")
    for i, parent in enumerate((liu, zhao), 1):
        _enroll(a, parent, "371500", "resident_basic", coverage=YEAR)
        _pay(a, _enroll(a, parent, "371500", "inclusive_commercial"), date(2023, 12, 20),
             f"LC2023-000{i}")
    newborn = _person(a, name="刘一诺", area="371502", birth=date(2024, 3, 8), seq=0,
                      document_type="birth_certificate", number="Q371240308",
                      category="newborn", region="371500", sex="female")
    _enroll(a, newborn, "371500", "resident_basic", coverage=(date(2024, 3, 8), YEAR[1]))
    _relation(a, liu, newborn, "child")
    _relation(a, zhao, newborn, "child")  # both parents enrolled → 聊惠保 from birth
    sun = _person(a, name="孙涛", area="371502", birth=date(1999, 2, 2), seq=51,
                  category="resident", region="371500")
    _identity(a, sun, "new_veteran", date(2024, 6, 1), date(2024, 12, 31))
    _enroll(a, sun, "371500", "resident_basic", coverage=(date(2024, 7, 1), YEAR[1]))
    _pay(a, _enroll(a, sun, "371500", "inclusive_commercial"), date(2024, 8, 1), "LC2024-0003",
         channel="cash")

    # 三明普惠医联保: 职工个人账户为父亲缴费, 父亲申报特定既往症; 自动续保
    huang = _person(a, name="黄磊", area="350426", birth=date(1975, 4, 4), seq=61,
                    category="employee_active", region="350426")
    father = _person(a, name="黄建国", area="350426", birth=date(1948, 8, 8), seq=71,
                     category="resident", region="350426")
    _relation(a, huang, father, "parent")
    _enroll(a, huang, "350400", "employee_basic", coverage=YEAR)
    _enroll(a, father, "350400", "resident_basic", coverage=YEAR)
    _pay(a, _enroll(a, huang, "350400", "inclusive_commercial", auto_renew=True),
         date(2023, 12, 10), "SM2023-0001", channel="personal_account")
    father_enrollment = _enroll(a, father, "350400", "inclusive_commercial")
    _pay(a, father_enrollment, date(2023, 12, 10), "SM2023-0002", channel="personal_account",
         payer_person=huang, payer_name=huang.name)
    if father_enrollment is not None and not father_enrollment.pre_existing.exists():
        condition = PreExistingCondition.objects.filter(
            plan_year=father_enrollment.plan_year, group="cardio_metabolic").first()
        services.pre_existing_declare(enrollment=father_enrollment, group="cardio_metabolic",
                                      condition=condition,
                                      condition_text="" if condition else "高血压病（III期）",
                                      declared_on=date(2023, 12, 10), acting_user=a)

    # 乐山 职工补充医疗保险: 个人账户自动代扣, 连续参保 6 年
    zhou = _person(a, name="周杰", area="511102", birth=date(1970, 10, 10), seq=81,
                   category="employee_active", region="511100", bank_name="中国工商银行乐山分行",
                   bank_account_name="周杰", bank_account_number="6222020000000000001",
                   bank_place="四川乐山")
    _enroll(a, zhou, "511100", "employee_basic", coverage=YEAR)
    _pay(a, _enroll(a, zhou, "511100", "employee_supplementary", auto_deduct=True,
                    continuous_years=6), date(2024, 1, 10), "LS2024-0001",
         channel="personal_account")

    # 长治 城乡居民医保 (待遇期由核心系统确认)
    wu = _person(a, name="吴刚", area="140402", birth=date(1965, 12, 12), seq=91,
                 category="resident", region="140400")
    _enroll(a, wu, "140400", "resident_basic", tier=0, coverage=YEAR)

    # 退费 (docs/money.md §退费): 李娜 多缴 awaiting review; 张伟's self-paid part refunded
    # (重复缴费), approved and awaiting the bank — his 低保 subsidy stays, so does his coverage
    _refund(a, "DJ2024-0002", "50.00", "overpaid", reason_note="多缴 50 元",
            payee_name="李娜", payee_account="6228480402564890018", payee_bank="中国农业银行垫江支行")
    approved = _refund(a, "DJ2023-0001", "38.00", "duplicate", payee_name="张伟",
                       payee_account="6217003760012345678", payee_bank="中国建设银行垫江支行")
    if approved is not None:
        services.refund_approve(refund=approved, acting_user=None)

    stdout.write(f"参保演示数据：参保人 {Person.objects.count()} 人，参保登记 "
                 f"{Enrollment.objects.count()} 条，缴费记录 {Payment.objects.count()} 笔，"
                 f"退费 {Refund.objects.count()} 笔")
