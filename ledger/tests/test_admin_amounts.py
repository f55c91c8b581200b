"""记账凭证 pages show amounts as every page does (1,234.56): the list's 金额（元） column,
the journal's lines and their captions."""
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from ledger import postings, services
from ledger.models import Entry
from policies.models import Scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal_id(loaded_policies):
    scheme = Scheme.objects.get(region__code="500231", kind="resident_basic")
    spec = postings.contribution(payment_id=1, scheme_id=scheme.pk, region_id=scheme.region_id,
                                 year=2024, person_id=None, self_paid=Decimal("5640.35"),
                                 subsidy=Decimal("100.00"), paid_date=date(2023, 11, 20),
                                 receipt_no="R1")
    [journal_id] = services.journals_write([spec], acting_user=None)
    return journal_id


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "x"))
    return client


def test_journal_list_groups_the_amount(admin_client, journal_id):
    page = admin_client.get(reverse("admin:ledger_journal_changelist")).content.decode()
    assert '<td class="field-amount">5,740.35</td>' in page
    assert "5740.35" not in page


def test_journal_page_lines_read_as_debit_and_credit(admin_client, journal_id):
    page = admin_client.get(reverse("admin:ledger_journal_change", args=[journal_id])).content.decode()
    assert "基金存款 借方 5,740.35" in page and "缴费收入 贷方 5,640.35" in page
    assert "-5640.35" not in page and "5740.35" not in page
    assert re.search(r'class="field-debit">\s*<p>5,740.35</p>', page)


def test_entry_caption():
    assert str(Entry(account="bank", amount=Decimal("-5740.35"))) == "基金存款 贷方 5,740.35"
    assert str(Entry(account="benefit", amount=Decimal("1234567.8"))) == "待遇支出 借方 1,234,567.80"
