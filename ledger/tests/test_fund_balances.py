"""基金余额表's summary (docs/money.md §基金余额表): ``FundBalance`` up to the watermark plus
the entries after it equals the direct sum of the entries — on the demo data, after
postings and reversals, after a rebuild, and while postings run concurrently and commit
out of id order (PostgreSQL)."""
import threading
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from ledger import postings, selectors, services
from ledger.models import Account, BalanceWatermark, Entry, FundBalance, SourceKind
from policies.models import Scheme

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _scheme(code="500231"):
    return Scheme.objects.filter(region__code=code, kind="resident_basic").first()


def _contribution(scheme, payment_id, self_paid="380.00", subsidy="120.00", year=2024):
    return postings.contribution(payment_id=payment_id, scheme_id=scheme.pk,
                                 region_id=scheme.region_id, year=year, person_id=None,
                                 self_paid=Decimal(self_paid), subsidy=Decimal(subsidy),
                                 paid_date=date(2023, 11, 20))


def _claim(scheme, claim_id, paid, year=2024):
    return postings.claim_payable(claim_id=claim_id, paid=Decimal(paid), scheme_id=scheme.pk,
                                  region_id=scheme.region_id, year=year, person_id=None,
                                  booked_on=date(2024, 3, 1))


def _page_rows(**filters):
    return [{k: v for k, v in r.items() if k != "live"} for r in selectors.fund_balances(**filters)]


def _assert_exact(**filters):
    direct = selectors.fund_balances_direct(**filters)
    assert _page_rows(**filters) == direct
    return direct


def test_summary_plus_live_entries_equal_the_direct_sum_through_postings_and_reversals(loaded_policies):
    dj, other = _scheme("500231"), Scheme.objects.exclude(region__code="500231").first()
    assert FundBalance.objects.count() == 0 and _assert_exact() == []
    services.journals_write([_contribution(dj, 1), _contribution(dj, 2, "0.01", "0"),
                             _contribution(other, 3, year=2025), _claim(dj, 4, "1234.56")],
                            acting_user=None)
    _assert_exact()  # all live: nothing summarised yet
    upto = services.fund_balances_advance()
    assert upto == Entry.objects.order_by("-id").values_list("id", flat=True).first()
    assert BalanceWatermark.objects.get().entry_id == upto
    assert FundBalance.objects.get(scheme=dj, year=2024, account=Account.BANK).amount == Decimal("500.01")
    assert all(r["live"] == 0 for r in selectors.fund_balances())  # read from the summary
    direct = _assert_exact()
    # a reversal and new postings after the watermark: summary + live
    services.source_reverse(source_kind=SourceKind.PAYMENT, source_id=1, acting_user=None)
    services.journals_write([_contribution(dj, 5, "200.00", "0"), _claim(other, 6, "99.99", year=2025)],
                            acting_user=None)
    assert sum(r["live"] for r in selectors.fund_balances()) == 3 + 2 + 2  # the reversal, contribution 5, claim 6
    after = _assert_exact()
    assert after != direct
    _assert_exact(region_ids=[dj.region_id])
    _assert_exact(year=2025)
    _assert_exact(region_ids=[dj.region_id], year=2024)
    services.fund_balances_advance()
    assert all(r["live"] == 0 for r in selectors.fund_balances())
    assert _assert_exact() == after
    # a fully reversed key keeps its row at zero, as the direct sum keeps its group
    services.source_reverse(source_kind=SourceKind.CLAIM, source_id=6, acting_user=None)
    services.fund_balances_advance()
    zero = [r for r in _assert_exact() if r["scheme"] == other.pk and r["account"] == Account.PAYABLE]
    assert [r["total"] for r in zero] == [Decimal("0.00")]
    assert services.fund_balances_advance() == BalanceWatermark.objects.get().entry_id  # nothing new


def test_rebuild_command_recomputes_and_check_finds_a_wrong_summary(loaded_policies):
    dj = _scheme()
    services.journals_write([_contribution(dj, 1), _claim(dj, 2, "10.00")], acting_user=None)
    services.fund_balances_advance()
    FundBalance.objects.filter(account=Account.BANK).update(amount=Decimal("1.00"))  # corrupted
    out = StringIO()
    with pytest.raises(Exception, match="不一致"):
        call_command("rebuild_fund_balances", "--check", stdout=out)
    call_command("rebuild_fund_balances", stdout=out)
    assert "已重建" in out.getvalue()
    call_command("rebuild_fund_balances", "--check", stdout=out)
    assert "一致" in out.getvalue()
    assert all(r["live"] == 0 for r in selectors.fund_balances())
    _assert_exact()


def test_the_page_shows_the_summary_and_the_live_entries(loaded_policies, admin_client):
    dj = _scheme()
    services.journals_write([_contribution(dj, 1)], acting_user=None)
    services.fund_balances_advance()
    services.journals_write([_contribution(dj, 2, "0.50", "0")], acting_user=None)
    page = admin_client.get(reverse("admin:ledger_journal_balances")).content.decode()
    assert "借 500.50" in page and "贷 380.50" in page and "贷 120.00" in page
    page = admin_client.get(reverse("admin:ledger_journal_balances") + "?year=2023").content.decode()
    assert "尚无记账凭证" in page


@pytest.fixture
def demo(django_db_setup, django_db_blocker, policies_loader):
    """load_policies + load_demo --persons 120 (rolled back after)."""
    from django.conf import settings
    hashers = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = FAST_HASHERS
    with django_db_blocker.unblock(), transaction.atomic():
        policies_loader()
        call_command("load_demo", "--persons", "120", stdout=StringIO())
        yield
        transaction.set_rollback(True)
    settings.PASSWORD_HASHERS = hashers


def test_on_the_demo_data_summary_equals_direct_sum(demo):
    with transaction.atomic():
        direct = selectors.fund_balances_direct()
        assert len(direct) > 10 and {r["account"] for r in direct} >= {Account.BANK, Account.PAYABLE}
        _assert_exact()
        services.fund_balances_rebuild()
        assert all(r["live"] == 0 for r in selectors.fund_balances())
        assert _assert_exact() == direct
        for region_id in {r["region"] for r in direct}:
            _assert_exact(region_ids=[region_id])
        transaction.set_rollback(True)


# ------------------------------------------------------------------ PostgreSQL concurrency

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="并发测试需要 PostgreSQL")
def test_an_entry_committing_after_a_higher_id_is_not_skipped(loaded_policies):
    """Posting A takes its entry ids first but commits last: no watermark may pass A's ids
    while A is open (a plain ``max(id)`` would, and A's money would never be summed)."""
    dj = _scheme()
    a_posted, a_may_commit = threading.Event(), threading.Event()
    errors = []

    def posting_a():
        try:
            with transaction.atomic():
                services.journals_write([_contribution(dj, 1, "1000.00", "0")], acting_user=None)
                a_posted.set()
                assert a_may_commit.wait(30)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=posting_a)
    thread.start()
    assert a_posted.wait(30)
    services.journals_write([_contribution(dj, 2, "1.00", "0")], acting_user=None)  # B commits
    assert services.fund_balances_advance() is None  # A is open: the watermark stays
    assert BalanceWatermark.objects.filter(entry_id__gt=0).count() == 0
    _assert_exact()
    a_may_commit.set()
    thread.join(30)
    assert not errors
    assert services.fund_balances_advance() == Entry.objects.order_by("-id").values_list("id", flat=True)[0]
    rows = _assert_exact()
    assert [r["total"] for r in rows if r["account"] == Account.BANK] == [Decimal("1001.00")]
    assert all(r["live"] == 0 for r in selectors.fund_balances())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="并发测试需要 PostgreSQL")
def test_concurrent_postings_and_advances_stay_exact_in_every_snapshot(loaded_policies):
    """Six posting threads (some rolling back) and two advancing threads; a checker compares
    the page's rows with the direct sum in one REPEATABLE READ snapshot all along."""
    schemes = list(Scheme.objects.filter(kind="resident_basic")[:3])
    stop, errors, checks = threading.Event(), [], []

    def guarded(function):
        def run():
            try:
                function()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connection.close()
        return run

    def poster(n):
        def post():
            for i in range(25):
                scheme = schemes[(n + i) % len(schemes)]
                try:
                    with transaction.atomic():
                        services.journals_write([_contribution(scheme, n * 1000 + i, f"{i + 1}.0{n}", "0.10"),
                                                 _claim(scheme, n * 1000 + i, f"{n}.{i:02d}")],
                                                acting_user=None)
                        if i % 7 == 3:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    pass
                if i % 5 == 0:
                    services.source_reverse(source_kind=SourceKind.PAYMENT, source_id=n * 1000 + i - 5,
                                            acting_user=None)
        return post

    def advancer():
        while not stop.is_set():
            services.fund_balances_advance()

    def checker():
        while not stop.is_set():
            summary, direct = selectors.fund_balances_differences()
            assert (summary, direct) == ([], []), (summary, direct)
            checks.append(1)

    posters = [threading.Thread(target=guarded(poster(n))) for n in range(1, 7)]
    others = [threading.Thread(target=guarded(f)) for f in (advancer, advancer, checker)]
    for t in posters + others:
        t.start()
    for t in posters:
        t.join(120)
    stop.set()
    for t in others:
        t.join(60)
    assert not errors, errors
    assert checks
    assert services.fund_balances_advance() is not None
    assert selectors.fund_balances_differences() == ([], [])
    assert all(r["live"] == 0 for r in selectors.fund_balances())
    assert len(selectors.fund_balances_direct()) >= 3 * 2
