"""Concurrent settlement of two claims of the same person never exceeds an annual limit
nor uses a deductible twice (spec README §6; ``services.claim_settle`` locks the person's
row, ``fetch.lock_persons``, before reading the year-to-date history). PostgreSQL only: two threads, two
connections."""
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from claims import fetch, services
from claims.models import ClaimLayer

from .factories import dianjiang_person, outpatient

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="行锁并发测试需要 PostgreSQL"),
]


def race(claims, monkeypatch):
    """Settle the claims at the same time, one thread (and connection) each. Reading the
    history is slowed down so that, without the lock, both would read an empty year."""
    original = fetch.stored_history

    def slow_history(claims, given):
        result = original(claims, given)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(fetch, "stored_history", slow_history)
    barrier = threading.Barrier(len(claims))
    outcomes = [None] * len(claims)

    def worker(i, claim):
        try:
            barrier.wait()
            services.claim_settle(claim=claim, acting_user=None)
            outcomes[i] = "ok"
        except ValidationError as exc:
            outcomes[i] = " ".join(exc.messages)
        finally:
            from django.db import connection as thread_connection
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(claims)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def basic_paid(claims):
    return [ClaimLayer.objects.get(claim=c, is_current=True, scheme_kind="resident_basic").paid
            for c in claims]


def test_two_claims_near_the_annual_limit(loaded_policies, monkeypatch):
    person = dianjiang_person(tier=1)  # 普通门诊 annual limit 300, level 1: 60 %
    claims = [outpatient(person, "400", day=date(2024, 3, 5)),
              outpatient(person, "400", day=date(2024, 3, 6))]
    assert race(claims, monkeypatch) == ["ok", "ok"]
    paid = basic_paid(claims)
    assert sum(paid) == Decimal("300.00")  # never more than the limit
    assert sorted(paid) == [Decimal("60.00"), Decimal("240.00")]


def test_two_claims_share_the_annual_deductible_once(loaded_policies, monkeypatch):
    person = dianjiang_person(tier=1)  # level 2: annual deductible 200, 40 %
    claims = [outpatient(person, "300", level=2, day=date(2024, 3, 5)),
              outpatient(person, "300", level=2, day=date(2024, 3, 6))]
    assert race(claims, monkeypatch) == ["ok", "ok"]
    lines = [ClaimLayer.objects.get(claim=c, is_current=True, scheme_kind="resident_basic")
             for c in claims]
    assert sum(line.deductible for line in lines) == Decimal("200")
    assert sum(line.paid for line in lines) == Decimal("160.00")  # (600 − 200) × 40 %


def test_the_same_claim_settled_twice_at_once(loaded_policies, monkeypatch):
    person = dianjiang_person(tier=1)
    claim = outpatient(person, "400")
    outcomes = race([claim, claim], monkeypatch)
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    assert any("不能结算" in o for o in outcomes if o != "ok")
    assert ClaimLayer.objects.filter(claim=claim).count() == 2  # one version, two layers
