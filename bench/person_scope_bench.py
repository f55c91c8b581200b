"""Benchmark of the person-side lists at bureau scale (issue 17 deliverable 2:
docs/benchmarks.md §参保人列表：可见范围表、估算计数与索引查找).

``--build N`` fills the database named by ``DATABASE_URL`` (migrated, ``load_policies``
run; its persons, enrollments and payments are replaced) with N persons across the five
regions by ``INSERT … SELECT … generate_series`` — 垫江 30 %, 三明's eleven counties 20 %,
长治 20 %, 乐山 15 %, 聊城 15 %; 5 % live (常住地) in another region; valid 18-digit ID
numbers; Chinese names — 1.85 enrollments and one payment per person, 2 % also enrolled
in another region; then ``rebuild_person_regions`` and ANALYZE.

Without ``--build`` it times, as a superuser and as a 垫江 clerk (经办员), every person-side
list page through ``django.test.Client`` (the whole middleware stack): the median of
``--repeat`` warm requests and the SQL count of one; ``--explain`` prints EXPLAIN ANALYZE of
the clerk's scope the old way (OR + subquery) and the new way (``PersonRegion`` EXISTS).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_hscope_big \\
        .venv/bin/python bench/person_scope_bench.py --build 1000000
    DATABASE_URL=… .venv/bin/python bench/person_scope_bench.py --explain

Never point ``--build`` at a database whose persons you want to keep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文斌辉林云飞鹏浩宇欣怡"
# (pooling region code, area code of the ID numbers, share %, basic kind, second kind)
REGIONS = [("500231", "500231", 30, "resident_basic", "critical_illness"),
           ("350400", "350426", 20, "resident_basic", "inclusive_commercial"),
           ("140400", "140402", 20, "resident_basic", "critical_illness"),
           ("511100", "511102", 15, "employee_basic", "employee_supplementary"),
           ("371500", "371502", 15, "resident_basic", "inclusive_commercial")]

BUILD_SQL = """
CREATE TEMP TABLE bench_region AS
SELECT * FROM (VALUES {values}) v(slot_from, slot_to, region_id, area, basic_py, second_py);
INSERT INTO enrollment_person (document_type, document_number, name, sex, birth_date, phone,
    hukou_region_id, residence_region_id, category, resettled, long_term_resident, hk_macao_taiwan,
    basic_insured_in_province, bank_name, bank_account_name, bank_account_number, bank_place, note,
    created_at, updated_at)
SELECT 'id_card', body || substr('10X98765432', 1 + (
        SELECT sum(substr(body, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i])
        FROM generate_series(1, 17) i)::int %% 11, 1),
    substr(%(surnames)s, 1 + (g * 7) %% length(%(surnames)s), 1)
        || substr(%(given)s, 1 + (g * 13) %% length(%(given)s), 1)
        || CASE WHEN g %% 3 = 0 THEN '' ELSE substr(%(given)s, 1 + (g * 31) %% length(%(given)s), 1) END,
    CASE WHEN (g / 29000) %% 2 = 1 THEN 'male' ELSE 'female' END, birth, '',
    r.region_id, CASE WHEN g %% 20 = 7 THEN (SELECT region_id FROM bench_region o
        WHERE o.region_id <> r.region_id ORDER BY o.slot_from LIMIT 1) ELSE r.region_id END,
    CASE WHEN g %% 4 = 0 THEN 'employee_active' ELSE 'resident' END,
    false, false, false, false, '', '', '', '', '', now(), now()
FROM (SELECT g, DATE '1940-01-01' + (g %% 29000) AS birth FROM generate_series(1, %(n)s) g) s
JOIN bench_region r ON g %% 100 >= r.slot_from AND g %% 100 < r.slot_to
CROSS JOIN LATERAL (SELECT r.area || to_char(birth, 'YYYYMMDD') || lpad(((g / 29000) %% 1000)::text, 3, '0') AS body) b;
INSERT INTO enrollment_enrollment (tier, status, coverage_start, coverage_end, paid_off_date, window_code,
    continuous_years, auto_renew, auto_deduct, basic_confirmed, origin, note, created_at, plan_year_id, person_id)
SELECT 0, 'active', DATE '2024-01-01', DATE '2024-12-31', DATE '2023-12-01', '', 1, false, false, true,
    'manual', '', now(), py, p.id
FROM enrollment_person p JOIN bench_region r ON r.region_id = p.hukou_region_id
CROSS JOIN LATERAL (SELECT r.basic_py AS py UNION ALL SELECT r.second_py WHERE p.id %% 20 < 17
    UNION ALL SELECT (SELECT o.second_py FROM bench_region o WHERE o.region_id <> r.region_id
                      ORDER BY o.slot_from DESC LIMIT 1) WHERE p.id %% 50 = 3) e;
INSERT INTO enrollment_payment (amount_due, subsidy, subsidy_payer, self_paid, paid_date, channel, payer_name,
    relation_to_payer, receipt_no, window_code, completes, created_at, enrollment_id, scheme_id)
SELECT 380, 0, '', 380, DATE '2023-12-01', 'wechat', '', 'self', 'B' || e.id, '', true, now(), e.id, py.scheme_id
FROM enrollment_enrollment e JOIN policies_planyear py ON py.id = e.plan_year_id
WHERE e.plan_year_id IN (SELECT basic_py FROM bench_region);
"""


def setup():
    import django

    django.setup()


def build(n: int) -> None:
    from django.db import connection, transaction

    from enrollment.services.visibility import person_regions_rebuild
    from policies.models import PlanYear, Region

    values, slot = [], 0
    for code, area, share, basic, second in REGIONS:
        region = Region.objects.get(code=code)
        basic_py = PlanYear.objects.get(scheme__region=region, scheme__kind=basic, year=2024).pk
        second_py = PlanYear.objects.get(scheme__region=region, scheme__kind=second, year=2024).pk
        if code == "350400":  # 三明's persons live in its eleven counties
            counties = list(Region.objects.filter(parent=region).order_by("code"))
            step = share / len(counties)
            for i, county in enumerate(counties):
                lo, hi = slot + round(i * step), slot + round((i + 1) * step)
                if hi > lo:
                    values.append(f"({lo}, {hi}, {county.pk}, '{area}', {basic_py}, {second_py})")
        else:
            values.append(f"({slot}, {slot + share}, {region.pk}, '{area}', {basic_py}, {second_py})")
        slot += share
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE enrollment_payment, enrollment_enrollment, enrollment_person, "
                       "enrollment_personregion CASCADE")
        sql = BUILD_SQL.format(values=", ".join(values))
        for statement in [s for s in sql.split(";") if s.strip()]:
            cursor.execute(statement, {"n": n, "surnames": SURNAMES, "given": GIVEN})
        cursor.execute("DROP TABLE bench_region")
        built = time.perf_counter() - started
        deleted, inserted = person_regions_rebuild()
    rebuilt = time.perf_counter() - started - built
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # outside the transaction
        for table in ("enrollment_person", "enrollment_enrollment", "enrollment_payment",
                      "enrollment_personregion"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            print(f"{table:28} {cursor.fetchone()[0]:>10}")
    print(f"built in {built:.1f} s; rebuild_person_regions {rebuilt:.1f} s "
          f"(deleted {deleted}, inserted {inserted})")


def users():
    from policies.models import Region
    from policies.roles import CLERK, roles_sync
    from policies.staff import staff_user_ensure

    roles_sync()
    password = "Bench#2024scope"
    root, _ = staff_user_ensure(username="bench-root", password=password, role=None, regions=[],
                                superuser=True, demo=True)
    clerk, _ = staff_user_ensure(username="bench-clerk-dj", password=password, role=CLERK,
                                 regions=[Region.objects.get(code="500231")], demo=True)
    return {"超级管理员": root, "经办员 垫江": clerk}


def pages():
    from django.urls import reverse

    from enrollment.models import Person
    from policies.models import Region

    person = Person.objects.filter(hukou_region__code="500231").order_by("pk")[1000]
    dj = Region.objects.get(code="500231").pk
    persons = reverse("admin:enrollment_person_changelist")
    return [
        ("参保人 第 1 页", persons),
        ("参保人 第 1000 页", persons + "?p=999"),
        ("参保人 按完整身份证号", persons + "?q=" + person.document_number.lower()),
        ("参保人 按姓名（前缀）", persons + "?q=" + person.name),
        ("参保人 按户籍地筛选", persons + f"?hukou_region__id__exact={dj}"),
        ("参保人 详情页", reverse("admin:enrollment_person_change", args=[person.pk])),
        ("参保登记 第 1 页", reverse("admin:enrollment_enrollment_changelist")),
        ("参保登记 按姓名", reverse("admin:enrollment_enrollment_changelist") + "?q=" + person.name),
        ("缴费记录 第 1 页", reverse("admin:enrollment_payment_changelist")),
        ("缴费记录 按身份证号", reverse("admin:enrollment_payment_changelist") + "?q=" + person.document_number),
        ("慢特病登记 第 1 页", reverse("admin:enrollment_registration_changelist")),
        ("退费 第 1 页", reverse("admin:enrollment_refund_changelist")),
    ]


def time_pages(repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    listed = pages()
    for role, user in users().items():
        client = Client()
        client.force_login(user)
        print(f"\n{role}: median of {repeat} warm requests (ms), SQL per page")
        for label, url in listed:
            client.get(url)  # warm
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            status = response.status_code
            print(f"  {label:24} {statistics.median(times):8.0f} ms  {len(queries):3d} SQL  HTTP {status}")


OLD_SCOPE = """SELECT {cols} FROM enrollment_person WHERE (hukou_region_id IN ({ids}) OR residence_region_id IN ({ids})
 OR id IN (SELECT e.person_id FROM enrollment_enrollment e JOIN policies_planyear py ON py.id = e.plan_year_id
           JOIN policies_scheme s ON s.id = py.scheme_id WHERE s.region_id IN ({ids}))){extra}"""
NEW_SCOPE = """SELECT {cols} FROM enrollment_person WHERE EXISTS (SELECT 1 FROM enrollment_personregion pr
 WHERE pr.person_id = enrollment_person.id AND pr.region_id IN ({ids})){extra}"""


def explain() -> None:
    from django.db import connection

    from enrollment.models import Person
    from policies.access import user_region_ids

    clerk = users()["经办员 垫江"]
    ids = ", ".join(str(i) for i in sorted(user_region_ids(clerk)))
    person = Person.objects.filter(hukou_region__code="500231").order_by("pk")[1000]
    cases = [
        ("count(*)", "count(*)", ""),
        ("page 1", "*", " ORDER BY id DESC LIMIT 100"),
        ("page 1000", "*", " ORDER BY id DESC LIMIT 100 OFFSET 99900"),
        ("filter 户籍=垫江 page 1", "*", f" AND hukou_region_id = {ids.split(',')[0]} ORDER BY id DESC LIMIT 100"),
        ("search full ID (old: UPPER =)", "*",
         f" AND UPPER(document_number) = UPPER('{person.document_number}') ORDER BY id DESC LIMIT 100"),
        ("search name (old: UPPER LIKE %…%)", "*",
         f" AND UPPER(name) LIKE UPPER('%{person.name}%') ORDER BY id DESC LIMIT 100"),
        ("search full ID (new: =)", "*", f" AND document_number = '{person.document_number}' ORDER BY id DESC LIMIT 100"),
        ("search name (new: LIKE …%)", "*", f" AND name LIKE '{person.name}%' ORDER BY id DESC LIMIT 100"),
    ]
    with connection.cursor() as cursor:
        for label, cols, extra in cases:
            for name, template in (("old", OLD_SCOPE), ("new", NEW_SCOPE)):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + template.format(cols=cols, ids=ids, extra=extra))
                plan = [row[0] for row in cursor.fetchall()]
                total = next((line for line in plan if line.startswith("Execution Time")), "")
                print(f"{label:36} {name}: {total}")
                if name == "new":
                    print("    " + "\n    ".join(plan[:12]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=int, default=0, help="fill the database with N persons first")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the scope, old and new")
    parser.add_argument("--no-pages", action="store_true")
    args = parser.parse_args()
    setup()
    if args.build:
        build(args.build)
    if args.explain:
        explain()
    if not args.no_pages:
        time_pages(args.repeat)


if __name__ == "__main__":
    main()
