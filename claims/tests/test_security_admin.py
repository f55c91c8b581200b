"""Issue 15 hole 4 (and hole 1 for hospitals): every region reads the hospital
catalogue, but a user writes only the hospitals of their regions — change, delete, add,
and revert from the history page (docs/access.md §2)."""
import pytest
from django.urls import reverse

from claims.models import Hospital
from policies.models import Region
from policies.roles import CLERK
from policies.tests.factories import role_staff

from .factories import hospital

pytestmark = pytest.mark.usefixtures("loaded_policies")


def url(action, *args):
    return reverse(f"admin:claims_hospital_{action}", args=args)


def post_data(h, **changes):
    data = {"code": h.code, "name": h.name, "region": h.region_id or "", "province": h.province,
            "level": h.level, "grade": h.grade, "admin_level": h.admin_level, "note": h.note}
    data.update({f: "on" for f in ("tcm", "children", "public", "cdrg", "designated") if getattr(h, f)})
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_clerk_writes_only_the_hospitals_of_their_region(client):
    liaocheng, dianjiang = hospital("371500", name="聊城市人民医院"), hospital("500231", name="垫江县人民医院")
    outside = hospital(None, province="北京市", code="HBJ", name="北京某医院")
    client.force_login(role_staff("jingban_dj", CLERK, ["500231"]))
    # every hospital is listed and readable
    listed = {h.pk for h in client.get(url("changelist")).context["cl"].result_list}
    assert {liaocheng.pk, dianjiang.pk, outside.pk} <= listed
    for other in (liaocheng, outside):
        page = client.get(url("change", other.pk))
        assert page.status_code == 200 and not page.context["has_change_permission"]
        assert client.post(url("change", other.pk), post_data(other, name="改名")).status_code == 403
        assert client.post(url("change", other.pk), post_data(other, designated=False)).status_code == 403
        assert client.post(url("delete", other.pk), {"post": "yes"}).status_code == 403
        other.refresh_from_db()
        assert other.name != "改名" and other.designated
    # a new hospital lands in the clerk's region only
    response = client.post(url("add"), post_data(Hospital(code="NEWCZ", name="长治新医院", level=2, grade="A",
                                                          admin_level="city"),
                                                 region=Region.objects.get(code="140400").pk))
    assert response.status_code == 200 and "region" in response.context["adminform"].form.errors
    response = client.post(url("add"), post_data(Hospital(code="NOREG", name="无统筹区医院", level=2,
                                                          grade="A", admin_level="city"),
                                                 province="北京市"))
    assert response.status_code == 403
    assert not Hospital.objects.filter(code__in=["NEWCZ", "NOREG"]).exists()
    # its own region's hospital it changes
    response = client.post(url("change", dianjiang.pk), post_data(dianjiang, name="垫江县人民医院（新院区）"))
    assert response.status_code == 302
    dianjiang.refresh_from_db()
    assert dianjiang.name == "垫江县人民医院（新院区）"


def test_hospital_history_revert_follows_the_region(client):
    h = hospital("371500", name="聊城市人民医院")
    h.name = "聊城市人民医院（改）"
    h.save()
    version = h.history.earliest()
    revert = reverse("admin:claims_hospital_simple_history", args=[h.pk, version.history_id])
    client.force_login(role_staff("jingban_dj", CLERK, ["500231"]))
    page = client.get(revert)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert 'name="name"' not in page.content.decode()
    assert client.post(revert, post_data(h, name="聊城市人民医院", designated=False)).status_code == 403
    h.refresh_from_db()
    assert h.name == "聊城市人民医院（改）" and h.designated
    client.force_login(role_staff("jingban_lc", CLERK, ["371500"]))
    assert 'name="_save"' in client.get(revert).content.decode()
    assert client.post(revert, post_data(h, name="聊城市人民医院")).status_code == 302
    h.refresh_from_db()
    assert h.name == "聊城市人民医院"
