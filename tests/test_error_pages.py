"""Refusals are Chinese pages inside the admin layout (issue 11 item 2; docs/access.md
§错误页), with DEBUG off as in production; a missing 户籍/常住地 is a form error that keeps
what the clerk typed, never a 403."""
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from enrollment import services
from enrollment.documents import make_id_number
from enrollment.models import Person
from policies.roles import CLERK, POLICY_OFFICER, roles_sync
from policies.tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_debug")]

ENGLISH = ("Forbidden", "Not Found", "Server Error", "CSRF", "View site", "Page not found")


@pytest.fixture
def no_debug():
    with override_settings(DEBUG=False):
        yield


@pytest.fixture
def regions():
    roles_sync()
    return f.region("500231", "垫江县"), f.region("140400", "长治市")


def role_user(username, role, region):
    return f.staff_user(username, regions=[region], groups=[Group.objects.get(name=role)])


def person_in(region, name):
    return services.person_create(
        acting_user=None, document_number=make_id_number(region.code, date(1980, 1, 1), 11),
        name=name, category="resident", hukou_region=region, residence_region=region)


def assert_admin_error_page(response, status, *texts):
    page = response.content.decode()
    assert response.status_code == status, page[:500]
    assert 'id="header"' in page and "医疗保障经办管理系统" in page  # the admin layout
    assert 'class="breadcrumbs"' in page
    for text in texts:
        assert text in page
    for word in ENGLISH:
        assert word not in page, word


def test_person_saved_without_regions_is_a_field_error_keeping_the_typed_data(client, regions):
    dianjiang, _ = regions
    client.force_login(role_user("clerk", CLERK, dianjiang))
    number = make_id_number("500231", date(1975, 5, 5), 321)
    form = {"document_type": "id_card", "document_number": number, "name": "钱七",
            "category": "resident", "phone": "13800001234", "bank_name": "垫江农商银行",
            "hukou_region": "", "residence_region": "", "note": "柜台录入",
            "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
            "relations-TOTAL_FORMS": "0", "relations-INITIAL_FORMS": "0",
            "enrollments-TOTAL_FORMS": "0", "enrollments-INITIAL_FORMS": "0"}
    response = client.post(reverse("admin:enrollment_person_add"), form)
    page = response.content.decode()
    assert response.status_code == 200, page[:300]
    errors = response.context["adminform"].form.errors
    assert "请填写户籍所在地或常住地" in errors["hukou_region"][0]
    for typed in (number, "钱七", "13800001234", "垫江农商银行", "柜台录入"):
        assert typed in page, typed
    assert not Person.objects.filter(document_number=number).exists()
    # another region's 户籍 only: the same field error, naming the regions rule
    changzhi = regions[1]
    response = client.post(reverse("admin:enrollment_person_add"),
                           {**form, "hukou_region": changzhi.pk, "residence_region": changzhi.pk})
    # the scoped choices refuse 长治 first (not one of the user's regions): still a form error
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hukou_region"]
    # with 垫江 as 常住地 the person is saved
    response = client.post(reverse("admin:enrollment_person_add"), {**form, "residence_region": dianjiang.pk})
    assert response.status_code == 302
    assert Person.objects.get(document_number=number).residence_region == dianjiang


def test_person_change_clearing_both_regions_is_a_field_error(client, regions):
    dianjiang, _ = regions
    person = person_in(dianjiang, "孙八")
    client.force_login(role_user("clerk", CLERK, dianjiang))
    url = reverse("admin:enrollment_person_change", args=[person.pk])
    form = {"document_type": "id_card", "document_number": person.document_number,
            "name": "孙八改", "category": "resident", "sex": person.sex,
            "birth_date": person.birth_date.isoformat(), "hukou_region": "", "residence_region": "",
            "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
            "relations-TOTAL_FORMS": "0", "relations-INITIAL_FORMS": "0",
            "enrollments-TOTAL_FORMS": "0", "enrollments-INITIAL_FORMS": "0",
            "registrations-TOTAL_FORMS": "0", "registrations-INITIAL_FORMS": "0"}
    response = client.post(url, form)
    assert response.status_code == 200, response.content.decode()[:300]
    assert response.context["adminform"].form.errors["hukou_region"]
    assert "孙八改" in response.content.decode()
    person.refresh_from_db()
    assert (person.name, person.hukou_region) == ("孙八", dianjiang)


def test_other_regions_person_history_and_delete_are_chinese_403_pages(client, regions):
    dianjiang, changzhi = regions
    other = person_in(changzhi, "长治人")
    client.force_login(role_user("clerk", CLERK, dianjiang))
    for action in ("history", "delete"):
        response = client.get(reverse(f"admin:enrollment_person_{action}", args=[other.pk]))
        assert_admin_error_page(response, 403, "无权访问", "返回首页")


def test_region_refusal_message_is_shown(client, regions):
    """A refusal with a Chinese message (simple-history's version page of another region's
    row) shows that message; Django's bare refusals show the generic Chinese text."""
    dianjiang, changzhi = regions
    client.force_login(f.staff_user("officer", regions=[dianjiang],
                                    perms=f.policy_perms("planfigure")))
    py_b = f.plan_year(f.scheme(changzhi))
    row = f.figure(py_b, "640.00")
    url = reverse("admin:policies_planfigure_history", args=[row.pk])
    assert_admin_error_page(client.get(url), 403, "无权访问")


def test_policy_officer_opening_the_person_list_gets_a_chinese_403(client, regions):
    client.force_login(role_user("officer", POLICY_OFFICER, regions[0]))
    response = client.get(reverse("admin:enrollment_person_changelist"))
    assert_admin_error_page(response, 403, "您没有查看或办理此页面的权限", "联系系统管理员")
    page = response.content.decode()
    assert "officer" in page and "注销" in page  # the user tools of the admin layout


def test_unknown_pages_are_chinese_404_pages(client, regions):
    client.force_login(role_user("clerk", CLERK, regions[0]))
    response = client.get("/admin/enrollment/no-such-page/")
    assert_admin_error_page(response, 404, "页面不存在", "返回首页")
    response = client.get("/no-such-page/")
    assert_admin_error_page(response, 404, "页面不存在")


def test_view_site_link_is_gone_and_root_opens_the_admin(client, regions):
    client.force_login(role_user("clerk", CLERK, regions[0]))
    index = client.get(reverse("admin:index")).content.decode()
    assert "查看站点" not in index and 'href="/"' not in index
    response = client.get("/")
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_server_error_page_needs_no_database_nor_context(regions, django_assert_num_queries):
    from django.views.defaults import server_error

    request = RequestFactory().get("/admin/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert_admin_error_page(response, 500, "系统出错", "没有完成")


def test_csrf_failure_is_a_chinese_page(regions):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("clerk", CLERK, regions[0]))
    response = client.post(reverse("admin:enrollment_person_add"), {"name": "无令牌"})
    assert_admin_error_page(response, 403, "页面已失效", "没有保存")
