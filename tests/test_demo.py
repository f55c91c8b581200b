"""``load_demo --persons N``: the current year's demo (policies/demo.py,
enrollment/demo_county.py, claims/demo_county.py; docs/enrollment.md §演示数据)."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from stdnum.cn import ric

from claims.models import Claim
from enrollment import services
from enrollment.models import Enrollment, FamilyRelation, Payment, Person, PersonIdentity, Registration
from policies.models import EnrollmentWindow, PlanYear, Region

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PERSONS = 240
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker, policies_loader):
    """load_policies + load_demo --persons 240 once for the class (rolled back after)."""
    from django.conf import settings
    hashers = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = FAST_HASHERS
    with django_db_blocker.unblock():
        with transaction.atomic():
            policies_loader()
            out = StringIO()
            call_command("load_demo", "--persons", str(PERSONS), stdout=out)
            yield out.getvalue()
            transaction.set_rollback(True)
    settings.PASSWORD_HASHERS = hashers


def counts():
    return {model.__name__: model.objects.count()
            for model in (Person, PersonIdentity, FamilyRelation, Enrollment, Payment, Registration,
                          Claim, PlanYear)}


@pytest.mark.usefixtures("demo")
class TestDemo:
    def test_every_region_has_an_active_current_year_plan_year_marked_demo(self):
        year = timezone.localdate().year
        regions = Region.objects.filter(is_pooling=True, parent__isnull=True)
        assert regions.count() == 5
        for region in regions:
            current = PlanYear.objects.filter(scheme__region=region, year=year)
            seed = PlanYear.objects.filter(scheme__region=region, year=2024)
            assert current.count() == seed.count() > 0, region.name
            assert set(current.values_list("status", flat=True)) == {"active"}
            assert all(current.values_list("is_demo", flat=True))
        window = EnrollmentWindow.objects.get(plan_year__scheme__region__code="500231",
                                              plan_year__scheme__kind="resident_basic",
                                              plan_year__year=year, code="central")
        assert window.pay_to.year == year - 1 and str(year) in window.name and "2024" not in window.name
        # the dates written in a window's name and note move with its dates (三明's 投保期:
        # “2024 年度投保期（截至 2023-12-31）”, “投保截止 2023-12-31，保障期 2024-01-01 至 …”)
        for window in EnrollmentWindow.objects.filter(plan_year__scheme__region__code="350400",
                                                      plan_year__year=year, code="annual"):
            assert window.name == f"{year} 年度投保期（截至 {window.pay_to.isoformat()}）"
            assert f"投保截止 {window.pay_to.isoformat()}，保障期 {year}-01-01 至 {year}-12-31" in window.note

    def test_volume_families_identities_and_valid_id_numbers(self):
        year = timezone.localdate().year
        demo_persons = Person.objects.filter(enrollments__plan_year__year=year).distinct()
        assert demo_persons.count() >= PERSONS * 0.8
        numbers = Person.objects.filter(document_type="id_card").values_list("document_number", flat=True)
        assert all(ric.calc_check_digit(n) == n[17] for n in numbers)  # GB 11643 checksum
        assert FamilyRelation.objects.filter(relation="spouse").count() >= PERSONS // 10
        assert FamilyRelation.objects.filter(relation="child").exists()
        assert PersonIdentity.objects.filter(identity__code="dibao").exists()
        payments = Payment.objects.filter(enrollment__plan_year__year=year)
        assert payments.count() >= PERSONS // 3
        # every payment inside a window of its plan year (shifted with the rollover)
        windows = {(w.plan_year_id, w.code): w for w in EnrollmentWindow.objects.filter(plan_year__year=year)}
        for payment in payments.select_related("enrollment"):
            window = windows[(payment.enrollment.plan_year_id, payment.window_code)]
            assert (window.pay_from is None or window.pay_from <= payment.paid_date) and (
                window.pay_to is None or payment.paid_date <= window.pay_to)
        assert payments.filter(subsidy__gt=0).exists()  # 低保/特困 资助

    def test_registrations_and_claims_in_every_state(self):
        year = timezone.localdate().year
        states = set(Registration.objects.values_list("status", flat=True))
        assert {"submitted", "in_review", "approved", "rejected"} <= states
        claims = Claim.objects.filter(year=year)
        by_status = dict(claims.values_list("status").annotate(n=Count("id")))
        assert set(by_status) == {"draft", "settled", "approved", "paid", "returned", "void"}, by_status
        # settled through the engine: result lines stored, fund total computed
        paid = claims.filter(status="paid").first()
        assert paid.fund_total is not None and paid.layers.filter(is_current=True).exists()
        regions = set(claims.values_list("region__code", flat=True))
        assert regions == {"500231", "140400", "371500", "350400", "511100"}

    def test_the_ledger_books_the_demo_and_agrees_with_it(self):
        from finance.checks import ledger_differences
        from ledger.models import Journal

        kinds = set(Journal.objects.values_list("kind", flat=True))
        assert {"contribution", "claim_payable", "claim_paid"} <= kinds
        assert ledger_differences() == []

    def test_reviewer_for_every_region_with_claims(self, demo):
        User = get_user_model()
        for code in Claim.objects.values_list("region__code", flat=True).distinct():
            assert User.objects.filter(groups__name="审核员", staff_profile__regions__code=code).exists(), code
        assert "shenhe_cz" in demo and "shenhe_lc" in demo

    def test_a_payment_recorded_today_succeeds(self):
        today = timezone.localdate()
        enrollment = (Enrollment.objects.filter(plan_year__year=today.year, paid_off_date__isnull=True,
                                                plan_year__scheme__region__code="500231",
                                                person__category="newborn")
                      .select_related("person").first())
        assert enrollment is not None, "demo has an unpaid newborn of this year"
        assert today - enrollment.person.birth_date <= timedelta(days=90)
        clerk = get_user_model().objects.get(username="jingban_dj")
        payment = services.payment_record(enrollment=enrollment, paid_date=today, channel="wechat",
                                          receipt_no="TODAY-0001", acting_user=clerk)
        assert payment.completes and payment.paid_date == today

    def test_dashboard_summaries_equal_the_direct_figures(self, django_capture_on_commit_callbacks):
        """The dashboard reads summary tables (docs/reports.md §汇总表): on the loaded demo
        (every system's payments, subsidies, settled claims) each figure from the
        summaries equals the one computed from the rows, also after a payment recorded
        through the service, which refreshes them through the hook after its commit."""
        from reports import figures
        from reports.services import dashboard_refresh

        def tables(source=None):
            plan_years = list(PlanYear.objects.select_related("scheme__region").order_by(
                "scheme__region__code", "scheme__settlement_order", "year"))
            return [(f.key, f.rows, f.chart) for f in figures.build_figures(plan_years, source)]

        dashboard_refresh()
        direct = tables(figures.DIRECT)
        assert {key for key, rows, _ in direct if rows} >= {
            "participation", "participation_county", "contributions", "subsidy_payer",
            "claims_by_type", "loss_ratio"}
        assert tables() == direct
        enrollment = (Enrollment.objects.filter(plan_year__year=timezone.localdate().year,
                                                paid_off_date__isnull=True,
                                                plan_year__scheme__region__code="500231",
                                                person__category="newborn").first())
        clerk = get_user_model().objects.get(username="jingban_dj")
        # load_demo's pairs wait on the class's transaction, which never commits: start
        # this test's own pending refresh (policies.dashboard), as a new transaction would
        connection._dashboard_pending = None
        with django_capture_on_commit_callbacks(execute=True):
            services.payment_record(enrollment=enrollment, paid_date=timezone.localdate(),
                                    channel="wechat", receipt_no="SUMMARY-0001", acting_user=clerk)
        after = tables(figures.DIRECT)
        assert after != direct
        assert tables() == after

    def test_running_again_adds_nothing(self):
        before = counts()
        out = StringIO()
        call_command("load_demo", "--persons", str(PERSONS), stdout=out)
        assert counts() == before
        assert "新增参保人 0 人" in out.getvalue()

    def test_more_persons_only_adds(self):
        before = counts()
        call_command("load_demo", "--persons", str(PERSONS + 40), stdout=StringIO())
        after = counts()
        assert after["Person"] > before["Person"] and after["PlanYear"] == before["PlanYear"]

    def test_next_years_contribution_is_recorded_today(self, demo):
        """In the last months of a year the bureau collects next year's contributions: the
        demo's next-year plan years are active, and a payment inside one of their windows
        is recorded today."""
        today = timezone.localdate()
        nxt = PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic",
                                   year=today.year + 1)
        assert nxt.status == "active" and nxt.is_demo
        assert f"{today.year + 1} 年度方案" in demo
        open_now = [w for w in EnrollmentWindow.objects.filter(plan_year=nxt, person_group="all")
                    if (w.pay_from is None or w.pay_from <= today) and (w.pay_to is None or today <= w.pay_to)]
        if not open_now:
            pytest.skip(f"{today} 不在 {nxt.year} 年度的缴费期内")
        person = (Person.objects.filter(category="resident", hukou_region__code="500231")
                  .exclude(enrollments__plan_year=nxt).first())
        clerk = get_user_model().objects.get(username="jingban_dj")
        enrollment = services.enrollment_create(person=person, plan_year=nxt, tier=1, acting_user=clerk)
        payment = services.payment_record(enrollment=enrollment, paid_date=today, channel="wechat",
                                          receipt_no="NEXT-0001", acting_user=clerk)
        assert payment.window_code == open_now[0].code or payment.window_code in {w.code for w in open_now}
