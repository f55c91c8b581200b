"""The ledger's pages: 记账凭证 (read-only, region-scoped) and 基金余额表."""
import pytest
from django.urls import reverse

from claims import services as claims
from claims.tests.factories import dianjiang_person, outpatient
from ledger.models import Journal
from policies.roles import REVIEWER, SUPERVISOR, roles_sync
from policies.tests.factories import role_staff

from .test_ledger_agreement import _approve

pytestmark = pytest.mark.django_db


def test_reviewer_reads_journals_and_balances_of_their_region_only(loaded_policies, client):
    roles_sync()
    claim = claims.claim_settle(claim=outpatient(dianjiang_person(), "1000.00", level=2), acting_user=None)
    _approve(claim)
    journal = Journal.objects.filter(kind=Journal.Kind.CLAIM_PAYABLE).get()
    client.force_login(role_staff("shenhe_dj", REVIEWER, ("500231",)))
    page = client.get(reverse("admin:ledger_journal_changelist")).content.decode()
    assert str(journal) in page and "缴费到账" in page and "基金余额表" in page
    page = client.get(reverse("admin:ledger_journal_change", args=[journal.pk])).content.decode()
    assert "应付待遇" in page and "待遇支出" in page and 'name="_save"' not in page
    page = client.get(reverse("admin:ledger_journal_balances")).content.decode()
    assert "垫江县" in page and "贷 " in page and "借 " in page
    client.force_login(role_staff("jianguan_cz", SUPERVISOR, ("140400",)))
    assert str(journal) not in client.get(reverse("admin:ledger_journal_changelist")).content.decode()
    assert client.get(reverse("admin:ledger_journal_change", args=[journal.pk])).status_code == 302
    assert "垫江县" not in client.get(reverse("admin:ledger_journal_balances")).content.decode()
