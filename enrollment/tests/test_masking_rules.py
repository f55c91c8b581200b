"""Masking rules as rows (policies.MaskingRule, policies/masking.py; issue 15): what each
role sees of 证件号码, 联系电话, 银行账号 and 出生日期 on the person list and page, in the
history and in exports, and that a superuser's change of a row changes it everywhere."""
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from enrollment import services
from enrollment.models import Person
from enrollment.tests.sheet_rows import id_number
from policies.masking import HIDDEN_TEXT, masked_birth_date, rule_for
from policies.models import MaskingRule, Region
from policies.roles import CLERK, REVIEWER, SUPERVISOR
from policies.tests.factories import role_staff

pytestmark = pytest.mark.usefixtures("loaded_policies")


@pytest.fixture
def person():
    dj = Region.objects.get(code="500231")
    return services.person_create(document_number=id_number(7, birth=date(1965, 4, 3)), name="王五",
                                  category="resident", hukou_region=dj, residence_region=dj,
                                  phone="13800001234", bank_account_number="6222020200112233",
                                  acting_user=None)


def test_each_role_sees_what_its_rows_say_on_the_person_pages(client, person):
    supervisor = role_staff("jianguan", SUPERVISOR)
    clerk = role_staff("jingban", CLERK)
    client.force_login(supervisor)
    listing = client.get(reverse("admin:enrollment_person_changelist")).content.decode()
    page = client.get(reverse("admin:enrollment_person_change", args=[person.pk])).content.decode()
    for text in (listing, page):
        assert id_number(7, birth=date(1965, 4, 3)) not in text and "19650403" not in text
        assert "1965******" in text  # the birth year only: the ID's middle cannot be rebuilt
    assert "6222020200112233" not in page and "622202******2233" in page
    client.force_login(clerk)
    page = client.get(reverse("admin:enrollment_person_change", args=[person.pk])).content.decode()
    assert id_number(7, birth=date(1965, 4, 3)) in page and "6222020200112233" in page


def test_a_changed_row_changes_what_the_role_sees(client, person):
    supervisor = role_staff("jianguan", SUPERVISOR)
    MaskingRule.objects.filter(group__name=SUPERVISOR, field="document_number").update(mode="hidden")
    MaskingRule.objects.filter(group__name=SUPERVISOR, field="birth_date").update(mode="full")
    client.force_login(supervisor)
    page = client.get(reverse("admin:enrollment_person_change", args=[person.pk])).content.decode()
    assert HIDDEN_TEXT in page and "500231" not in page.split("证件号码")[1][:200]
    assert "1965-04-03" in page or "1965年4月3日" in page


def test_the_most_revealing_role_wins_and_no_row_falls_back(person, django_user_model):
    both = role_staff("both", SUPERVISOR)
    both.groups.add(Group.objects.get(name=REVIEWER))
    both = django_user_model.objects.get(pk=both.pk)
    assert rule_for(both, "document_number") == ("full", 0, 0)
    nobody = django_user_model.objects.create_user("nobody", password=None, is_staff=True)
    MaskingRule.objects.filter(group__isnull=True).delete()  # no row at all: the code's fallback
    assert rule_for(nobody, "document_number") == ("partial", 6, 4)
    assert masked_birth_date(nobody, date(1965, 4, 3)) == date(1965, 4, 3)  # full: the date itself


def test_only_superusers_edit_the_rules(client):
    supervisor = role_staff("jianguan", SUPERVISOR)
    officer_like = role_staff("zhengce", "政策管理员")
    rule = MaskingRule.objects.get(group__name=SUPERVISOR, field="phone")
    for user in (supervisor, officer_like):
        client.force_login(user)
        response = client.post(reverse("admin:policies_maskingrule_change", args=[rule.pk]),
                               {"group": rule.group_id, "field": "phone", "mode": "full", "keep_head": 0,
                                "keep_tail": 0})
        assert response.status_code == 403
    assert MaskingRule.objects.get(pk=rule.pk).mode == "partial"
    admin = role_staff("admin", None, superuser=True)
    client.force_login(admin)
    response = client.post(reverse("admin:policies_maskingrule_change", args=[rule.pk]),
                           {"group": rule.group_id, "field": "phone", "mode": "full", "keep_head": 0,
                            "keep_tail": 0})
    assert response.status_code == 302 and MaskingRule.objects.get(pk=rule.pk).mode == "full"
    assert MaskingRule.history.filter(id=rule.pk).count() == 2


def test_exports_follow_the_rows(person, tmp_path):
    from django.core.management import call_command

    role_staff("jianguan", SUPERVISOR)
    out = tmp_path / "persons.csv"
    call_command("export_sheet", "persons", str(out), "--user", "jianguan")
    text = out.read_text(encoding="utf-8-sig")
    assert "1965******" in text and "1965-04-03" not in text and "622202******2233" in text
    assert Person.objects.count() == 1
