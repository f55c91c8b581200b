"""Two payment batches generated at the same moment never take the same claim
(docs/money.md §支付批次与银行回盘: the region row, then the claims are locked). PostgreSQL
only: two threads, two connections."""
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from finance.models import PaymentLine
from finance.services import batches as services
from finance.tests.factories import approved_claim, fund_of, payee_fields
from policies.roles import REVIEWER
from policies.tests.factories import role_staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="行锁并发测试需要 PostgreSQL"),
]


def test_two_batches_at_once_take_each_claim_once(loaded_policies, monkeypatch):
    reviewer = role_staff("shenhe_race", REVIEWER)
    claims = [approved_claim(reviewer, payee=payee_fields(20 + i)) for i in range(3)]
    scheme = fund_of(claims[0])
    source = services.SOURCES["claim"]
    original = source.payables

    def slow_payables(*args, **kwargs):  # without the locks both would read the same claims
        result = original(*args, **kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setitem(services.SOURCES, "claim", services.SourceType(
        label=source.label, payables=slow_payables, pay=source.pay, fail=source.fail,
        paid_kind=source.paid_kind))
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def worker(i):
        try:
            barrier.wait()
            created = services.batch_create(scheme=scheme, bank=f"银行{i}", acting_user=reviewer)
            outcomes[i] = created.batch.lines.count()
        except ValidationError as exc:
            outcomes[i] = " ".join(exc.messages)
        finally:
            from django.db import connection as thread_connection
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert 3 in outcomes and any(isinstance(o, str) and "没有可支付的理赔" in o for o in outcomes)
    assert PaymentLine.objects.count() == 3
    assert sorted(PaymentLine.objects.values_list("source_id", flat=True)) == sorted(c.pk for c in claims)
