"""History in Chinese: the 修改原因 a user types on a change form is recorded on the history
row of that save (policies.admin.HistoryAdmin; a save without change writes none), and the
version list shows field names, values and times as the forms do (templates/simple_history/object_history_list.html)."""
import re

from django.urls import reverse

from claims.tests.factories import hospital
from policies.tests.factories import staff_user
from tests.page_scan import findings, raw_codes, user_names, visible_text


def form_data(page: str) -> dict:
    """The values of the change form's inputs and selected options (what a browser posts)."""
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*checked', page):
        data[name] = "on"
    for name in re.findall(r'<input type="checkbox" name="([^"]+)"(?![^>]*checked)', page):
        data.pop(name, None)
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = body.strip()
    return data


def test_reason_recorded_and_history_in_chinese(client, loaded_policies):
    h = hospital("500231", level=2, name="垫江县人民医院", code="DJ-RMYY")
    client.force_login(staff_user("admin", superuser=True))
    url = reverse("admin:claims_hospital_change", args=[h.pk])
    page = client.get(url).content.decode()
    assert 'name="change_reason"' in page and "修改原因" in page
    data = form_data(page)
    data.pop("csrfmiddlewaretoken", None)
    # saved unchanged with a reason: nothing changed, nothing written (no history row)
    first = h.history.get()
    response = client.post(url, {**data, "change_reason": "核对无误"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(h.history.all()) == [first] and first.history_change_reason is None
    # a real change with a reason: the new history row carries it
    client.post(url, {**data, "name": "垫江县人民医院（新院区）", "public": "", "change_reason": "医院迁址"})
    h.refresh_from_db()
    assert h.name == "垫江县人民医院（新院区）" and h.public is False
    assert h.history.first().history_change_reason == "医院迁址"
    history = client.get(reverse("admin:claims_hospital_history", args=[h.pk])).content.decode()
    text = visible_text(history)
    assert "医院迁址" in text
    assert "机构名称：垫江县人民医院 → 垫江县人民医院（新院区）" in text
    assert "公立：是 → 否" in text
    assert findings(text, codes=raw_codes(), allowed=user_names()) == []
