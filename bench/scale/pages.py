"""The users of the bureau-scale benchmark and the pages of each role's day.

The users are made as ``load_demo`` makes its staff (``policies.staff.staff_user_ensure``:
the role group synchronised by ``roles_sync``, the regions of their StaffProfile) and
marked as demo accounts (one factor); the superuser logs in with one factor through
``OTP_REQUIRED_FOR_SUPERUSERS=false`` (set by bench/bureau_scale.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from django.urls import reverse

PASSWORD = "Yibao#2024bench"
DIANJIANG = "500231"
# role key → (username, role group, superuser)
ROLES = {
    "admin": ("bench_admin", None, True),
    "clerk": ("bench_jingban_dj", "经办员", False),
    "reviewer": ("bench_shenhe_dj", "审核员", False),
    "finance": ("bench_caiwu_dj", "基金财务", False),
}
LABELS = {"admin": "superuser", "clerk": "经办员 垫江", "reviewer": "审核员 垫江", "finance": "基金财务 垫江"}
ALL = ("admin", "clerk", "reviewer", "finance")
CASES = ALL  # persons, enrollments, claims: every role reads them
LEDGER = ("admin", "reviewer", "finance")


def users() -> dict:
    """The bench's users, created or updated (idempotent)."""
    from policies.models import Region
    from policies.roles import roles_sync
    from policies.staff import staff_user_ensure

    roles_sync()
    dianjiang = Region.objects.get(code=DIANJIANG)
    out = {}
    for key, (username, role, superuser) in ROLES.items():
        user, _created = staff_user_ensure(username=username, password=PASSWORD, role=role,
                                           regions=[] if superuser else [dianjiang], superuser=superuser,
                                           demo=True)
        out[key] = user
    return out


@dataclass
class Page:
    label: str
    url: str
    roles: tuple = ALL
    filters_of: str = ""  # the label of the list page whose filter links are added as pages


def samples() -> dict:
    """The objects the pages open: a 垫江 person (ID number, name), claim, plan year."""
    from claims.models import Claim
    from enrollment.models import Person
    from policies.models import PlanYear

    person = Person.objects.filter(hukou_region__code=DIANJIANG).order_by("id").first()
    claim = Claim.objects.filter(region__code=DIANJIANG).order_by("id").first()
    plan_year = PlanYear.objects.filter(scheme__region__code=DIANJIANG, scheme__kind="resident_basic") \
        .order_by("-year").first()
    return {"person": person, "claim": claim, "plan_year": plan_year}


def day() -> list[Page]:
    """Every page of the roles' day (the filter and deep pages are found on the list pages:
    ``filters_of``)."""
    s = samples()
    person, claim, plan_year = s["person"], s["claim"], s["plan_year"]
    persons = reverse("admin:enrollment_person_changelist")
    claims = reverse("admin:claims_claim_changelist")
    return [
        Page("首页（统计看板）", reverse("admin:index")),
        Page("参保人 第 1 页", persons, filters_of="参保人"),
        Page("参保人 按完整身份证号查找", f"{persons}?q={person.document_number}"),
        Page("参保人 按姓名查找", f"{persons}?q={person.name}"),
        Page("参保人 修改页", reverse("admin:enrollment_person_change", args=[person.pk])),
        Page("参保登记 列表", reverse("admin:enrollment_enrollment_changelist"), filters_of="参保登记"),
        Page("参保登记 按身份证号查找",
             f"{reverse('admin:enrollment_enrollment_changelist')}?q={person.document_number}"),
        Page("缴费记录 列表", reverse("admin:enrollment_payment_changelist"), filters_of="缴费记录"),
        Page("慢特病登记 列表", reverse("admin:enrollment_registration_changelist")),
        Page("待审核登记 列表", reverse("admin:enrollment_pendingregistration_changelist"), ("admin", "reviewer")),
        Page("退费 列表", reverse("admin:enrollment_refund_changelist")),
        Page("理赔 第 1 页", claims, filters_of="理赔"),
        Page("理赔 按身份证号查找", f"{claims}?q={person.document_number}"),
        Page("理赔 按姓名查找", f"{claims}?q={person.name}"),
        Page("理赔 修改页", reverse("admin:claims_claim_change", args=[claim.pk])),
        Page("年度方案 修改页", reverse("admin:policies_planyear_change", args=[plan_year.pk])),
        Page("记账凭证 列表", reverse("admin:ledger_journal_changelist"), LEDGER),
        Page("基金余额表", reverse("admin:ledger_journal_balances"), LEDGER),
        Page("支付批次 列表", reverse("admin:finance_paymentbatch_changelist"), LEDGER),
        Page("审计日志", reverse("admin:audit_auditentry_changelist"), ("admin",)),
        Page("我的任务", reverse("admin:jobs_myjob_changelist")),
        Page("全部任务", reverse("admin:jobs_job_changelist"), ("admin", "reviewer")),  # not 基金财务 (docs/jobs.md)
        Page("政策模拟", reverse("reports:simulate"), ("admin",)),
    ]


FILTER_BLOCK = re.compile(r'<details data-filter-title="([^"]*)"[^>]*>(.*?)</details>', re.S)
LINK = re.compile(r'<a href="(\?[^"]+)"')


def filter_links(html: str) -> list[tuple[str, str]]:
    """(filter title, query) of each list filter's first choice other than 全部."""
    out = []
    for title, block in FILTER_BLOCK.findall(html):
        for query in LINK.findall(block):
            query = unescape(query)
            if query not in ("?", "?e=1"):
                out.append((unescape(title), query))
                break
    return out
