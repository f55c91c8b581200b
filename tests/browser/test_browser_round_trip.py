"""Browser: every admin change form round-trips (issue 11).

For each model admin with a change form, as the role that uses it: open a saved record,
check that every visible input/select/textarea shows the stored value (compared with the
database through the model field's own form field, ``has_changed``), save it unchanged and
assert that nothing changed — every concrete field of the record and of its inline rows
reloaded from the database, no simple-history record, no admin log entry. The multi-line
texts (``MULTI_LINE``: the person's, enrollment's and claim's 备注, every plan year's 说明)
go back as the browser posts a textarea, with ``\r\n``. The same for the admin action
pages with a form (their inputs show the form's initial values, the date box today's
Asia/Shanghai date).

Table-driven (``CHANGE_FORMS``, ``ACTION_FORMS``): add a row to cover a new page. The pages
are dealt over ``PARTS`` tests of about equal cost (a plan-year page counts ``cost`` 2), which
pytest-xdist runs on different workers; one data set and one browser page per test, logged
in as each row's role by a session cookie (``session_cookie``: this test is not about the
login form). Subtests report each page separately; ``ROUND_TRIP_ONLY=<part of a row's name>``
runs only those rows. Screenshots go to ``$BROWSER_ARTIFACTS`` (default
``tests/browser/artifacts/``, not committed).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from claims.tests.factories import dianjiang_person, hospital, new_person
from enrollment import services as enrollment_services
from enrollment.admin.enrollments import PaymentForm
from enrollment.models import BloodPressureReading, Enrollment
from enrollment.services import registrations as registration_services
from finance.models import YearEndExpense
from policies.admin import HistoryAdmin
from policies.models import RULE_MODELS, ChronicDisease, Identity, PlanYear, Region, Scheme
from policies.roles import CLERK, POLICY_OFFICER, REVIEWER
from policies.tests.factories import role_staff

from .conftest import save_screenshot, session_cookie

pytestmark = pytest.mark.browser

# --------------------------------------------------------------------------- the data

MULTI_LINE = "往返测试\n第二行：换行后的说明"


@pytest.fixture
def world(loaded_policies, settings):
    """One saved record of every kind, with every date field filled in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clerk = role_staff("jingban_dj", CLERK)
    role_staff("jingban_cz", CLERK, ("140400",))
    role_staff("shenhe_cz", REVIEWER, ("140400",))
    role_staff("zhengce", POLICY_OFFICER, tuple(Region.objects.filter(is_pooling=True)
                                           .values_list("code", flat=True)))
    role_staff("admin", None, superuser=True)  # region structure is the superuser's alone
    person = dianjiang_person(tier=1, name="陈静", phone="13800001234", bank_name="农业银行",
                              bank_account_name="陈静", bank_account_number="6228480000000001",
                              bank_place="垫江", note=MULTI_LINE)
    enrollment_services.identity_add(
        person=person, identity=Identity.objects.order_by("code").first(),
        valid_from=date(2024, 1, 15), valid_to=date(2024, 12, 20),
        document_ref="民政-2024-001", acting_user=None)
    relative = new_person("500231", name="陈强", birth=date(1955, 3, 2))
    enrollment_services.relation_add(person=person, relative=relative, relation="parent",
                                     acting_user=None)
    h = hospital("500231", level=3, grade="A", admin_level="city", name="垫江县第一人民医院",
                 code="DJ-RMYY")
    claim = claim_services.claim_create(
        acting_user=clerk, person=person, claim_type="inpatient", service_date=date(2024, 10, 10),
        discharge_date=date(2024, 10, 20), accepted_on=date(2024, 10, 25), hospital=h,
        settlement_no="DJ-RT-0001", total=Decimal("12345.67"), out_of_catalog=Decimal("100.00"),
        note=MULTI_LINE)
    enrollment = Enrollment.objects.filter(person=person).order_by("pk").first()
    enrollment_services.enrollment_update(enrollment=enrollment, note=MULTI_LINE, acting_user=None)
    PlanYear.objects.update(note=MULTI_LINE)  # every plan year's 说明
    unpaid = enrollment_services.enrollment_create(
        person=relative, plan_year=PlanYear.objects.get(scheme__region__code="500231", year=2024,
                                                        scheme__kind="resident_basic"),
        tier=1, acting_user=None)

    changzhi = Region.objects.get(code="140400")
    cz_person = new_person("140400", name="王芳", birth=date(1960, 5, 1))
    registration = registration_services.registration_submit(
        person=cz_person, scheme=Scheme.objects.get(region=changzhi, kind="resident_basic"),
        disease=ChronicDisease.objects.get(region=changzhi, code="HBP"),
        application_date=date(2024, 4, 1), institution="长治市人民医院", documents="门诊病历",
        acting_user=None)
    for day, sys_, dia in ((date(2024, 3, 1), 150, 95), (date(2024, 3, 8), 146, 92)):
        BloodPressureReading.objects.create(registration=registration, date=day, systolic=sys_,
                                            diastolic=dia)
    expense = YearEndExpense.objects.create(
        plan_year=PlanYear.objects.get(scheme__region__code="350400", year=2024,
                                       scheme__kind="inclusive_commercial"),
        seq=1, name="运营服务费", method="ratio", ratio=Decimal("6.50"), note="往返测试")
    return {"claim": claim, "person": person, "enrollment": enrollment, "unpaid": unpaid,
            "hospital": h, "registration": registration, "expense": expense}


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class ChangeForm:
    name: str                        # what the page is, in the failure message
    user: str                        # the role that uses it
    objects: Callable[[dict], list]  # the saved records to round-trip
    url_model: type | None = None    # the admin's model when it is a proxy of the record's
    cost: int = 1                    # the time of one of its pages, relative to a plain one
    # the save button: 保存并继续编辑 (the change page again) by default; 保存 (the list) where
    # reloading the change page would only cost time (a plan-year page: ≈ 1 200 inputs)
    save: str = "_continue"


def first(model):
    return lambda world: [model.objects.order_by("pk").first()]


CHANGE_FORMS = [
    ChangeForm("理赔结算", "jingban_dj", lambda w: [w["claim"]]),
    ChangeForm("参保人", "jingban_dj", lambda w: [w["person"]]),
    ChangeForm("参保登记", "jingban_dj", lambda w: [w["enrollment"]]),
    ChangeForm("医疗机构", "jingban_dj", lambda w: [w["hospital"]]),
    ChangeForm("门诊慢特病登记（经办员）", "jingban_cz", lambda w: [w["registration"]]),
    ChangeForm("门诊慢特病登记（审核员）", "shenhe_cz", lambda w: [w["registration"]]),
    ChangeForm("年度方案（各参数表）", "zhengce",
               lambda w: list(PlanYear.objects.order_by("pk")), cost=2, save="_save"),
    *[ChangeForm(f"参数表 {m._meta.verbose_name}", "zhengce", first(m)) for m in RULE_MODELS],
    ChangeForm("统筹区", "admin", lambda w: [Region.objects.get(code="500231")]),
    ChangeForm("险种", "zhengce", first(Scheme)),
    ChangeForm("特殊身份", "zhengce", first(Identity)),
    ChangeForm("慢特病病种", "zhengce", first(ChronicDisease)),
    ChangeForm("年度清算经营费用", "zhengce", lambda w: [w["expense"]]),
]


@dataclass(frozen=True)
class ActionForm:
    name: str
    user: str
    url: Callable[[dict], str]
    form: Callable[[dict], object]   # the unbound form whose initial values must show


ACTION_FORMS = [
    ActionForm("登记缴费", "jingban_dj",
               lambda w: reverse("admin:enrollment_enrollment_record_payment", args=[w["unpaid"].pk]),
               lambda w: PaymentForm(enrollment=w["unpaid"], request=None)),
]


# --------------------------------------------------------------------------- helpers

COLLECT_CONTROLS = """(form) => Array.from(form.elements)
  .filter(e => e.name && e.name !== 'csrfmiddlewaretoken' && !e.name.includes('__prefix__')
               && !['submit', 'button', 'file', 'image', 'reset'].includes(e.type))
  .map(e => ({name: e.name, type: e.type, hidden: e.type === 'hidden',
              value: e.type === 'checkbox' ? (e.checked ? 'on' : '')
                     : (e.multiple ? Array.from(e.selectedOptions).map(o => o.value) : e.value),
              attribute: e.getAttribute('value')}))"""
# the controls of the page's only form matching the selector, null when there is not exactly
# one (one browser round trip instead of a count and an evaluate)
FORM_CONTROLS = f"""(selector) => {{
  const forms = document.querySelectorAll(selector);
  return forms.length === 1 ? ({COLLECT_CONTROLS})(forms[0]) : null;
}}"""
# after a save: the error boxes' texts (as Locator.all_inner_texts) and whether a success
# message shows, read in one round trip
SAVE_OUTCOME = """() => ({
  errors: Array.from(document.querySelectorAll('.errornote, .errorlist')).map(e => e.innerText),
  success: document.querySelectorAll('.messagelist .success').length > 0,
})"""
INLINE_NAME = re.compile(r"^(?P<prefix>.+)-(?P<index>\d+)-(?P<field>[^-]+)$")


def concrete_values(obj) -> dict:
    """Every stored column of ``obj`` except the automatic ``updated_at`` stamps."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields
            if not getattr(f, "auto_now", False)}


def reverse_relations(model):
    """``{formset prefix: (related model, its foreign key)}`` of the rows pointing at ``model``
    (the admin inlines' default prefixes), history tables excluded."""
    out = {}
    for rel in model._meta.related_objects:
        if (rel.one_to_many or rel.one_to_one) and not rel.related_model.__name__.startswith("Historical"):
            out[rel.get_accessor_name().replace("+", "")] = (rel.related_model, rel.field)
    return out


def snapshot(obj) -> dict:
    """The record and every row pointing at it, as stored."""
    obj = type(obj)._default_manager.get(pk=obj.pk)
    rows = {(obj._meta.label, obj.pk): concrete_values(obj)}
    for related, fk in reverse_relations(type(obj)).values():
        for row in related._default_manager.filter(**{fk.name: obj.pk}):
            rows[(related._meta.label, row.pk)] = concrete_values(row)
    return rows


def history_changes(rows: dict, since) -> list[str]:
    """Simple-history records written since ``since`` for ``rows`` (the 修改记录 a user would
    read), with what differs from the previous version; one query per table (a plan-year
    page has ≈ 230 rows)."""
    from django.apps import apps

    pks: dict[str, list] = {}
    for label, pk in rows:
        pks.setdefault(label, []).append(pk)
    out = []
    for label, ids in pks.items():
        model = apps.get_model(label)
        history = getattr(model, "history", None)
        if history is None:
            continue
        skip = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        for record in history.filter(id__in=ids, history_date__gte=since).order_by("id", "history_date"):
            pk = record.id
            previous = record.prev_record
            if previous is None:
                out.append(f"{label} {pk}：新增了历史记录 {record.get_history_type_display()}")
                continue
            changes = record.diff_against(previous, excluded_fields=skip).changes
            out.append(f"{label} {pk}：新增了历史记录 {record.get_history_type_display()}"
                       f"{''.join(f'，{c.field}：{c.old!r} → {c.new!r}' for c in changes)}")
    return out


def shown_mismatches(obj, controls) -> list[str]:
    """Controls whose shown value is not the stored one (model field's form field decides,
    as the admin does for ``changed_data``); names no model field explains are listed too.
    Inline rows are read once per table, each model field's form field built once (a
    plan-year page has ≈ 1 200 controls)."""
    model = type(obj)
    relations = reverse_relations(model)
    hidden = {c["name"]: c["value"] for c in controls if c["hidden"]}
    rows = _shown_rows(relations, hidden)
    form_fields: dict = {}
    out = []
    for control in controls:
        if control["hidden"]:
            continue
        name = control["name"]
        if name == HistoryAdmin.CHANGE_REASON:  # a form-only box recorded on the history row
            if control["value"]:
                out.append(f"{name}：修改原因应为空，显示“{control['value']}”")
            continue
        match = INLINE_NAME.match(name)
        if match and match["prefix"] in relations:
            if match["field"] == "DELETE":
                continue
            related, _fk = relations[match["prefix"]]
            row_pk = hidden.get(f"{match['prefix']}-{match['index']}-id")
            if not row_pk:
                continue  # an empty extra row: nothing stored to show
            record = rows[related].get(row_pk) or related._default_manager.get(pk=row_pk)
            field_name = match["field"]
        else:
            record, field_name = obj, name
        try:
            field = record._meta.get_field(field_name)
        except Exception:
            out.append(f"{name}：不是{record._meta.verbose_name}的字段")
            continue
        stored = getattr(record, field.attname)
        if field.many_to_many:
            stored = [str(pk) for pk in getattr(record, field.name).values_list("pk", flat=True)]
        key = (type(record), field.name)
        if key not in form_fields:
            form_fields[key] = field.formfield()
        if form_fields[key].has_changed(stored, control["value"] or None if control["type"] != "checkbox"
                                        else control["value"] == "on"):
            out.append(f"{name}（{control['type']}）显示 {control['value']!r}"
                       f"（value 属性 {control['attribute']!r}），数据库为 {stored!r}")
    return out


def _shown_rows(relations, hidden) -> dict:
    """``{related model: {str(pk): row}}`` of the inline rows the page shows (their hidden
    ``<prefix>-<n>-id``), one query per table."""
    pks: dict = {related: [] for related, _fk in relations.values()}
    for name, value in hidden.items():
        match = INLINE_NAME.match(name)
        if match and match["field"] == "id" and match["prefix"] in relations and value:
            pks[relations[match["prefix"]][0]].append(value)
    return {related: {str(pk): row for pk, row in related._default_manager.in_bulk(values).items()}
            if values else {} for related, values in pks.items()}


def log_changes(obj, since) -> list[str]:
    """The admin log entries of the save (none for an unchanged one), with what each says
    changed (Django's form.changed_data)."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                      object_id=str(obj.pk), action_time__gte=since)
    return [f"写了管理日志：{entry.get_change_message()}（{json.loads(entry.change_message or '[]')}）"
            for entry in entries]


class Sessions:
    """One browser page for the whole table, logged in as the user a row asks for: on a
    change of user its cookies are replaced by that user's session (``session_cookie``,
    made once per user). One context keeps the browser's cache of the admin's scripts
    and styles warm across roles (a new context per role loaded them all again)."""

    def __init__(self, browser, live_server):
        self.browser, self.live_server = browser, live_server
        self.cookies, self.user, self.page = {}, None, None

    def __call__(self, username):
        if self.page is None:
            context = self.browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
            context.set_default_timeout(30_000)
            self.page = context.new_page()
        if username != self.user:
            if username not in self.cookies:
                user = get_user_model().objects.get(username=username)
                self.cookies[username] = session_cookie(self.live_server, user)
            self.page.context.clear_cookies()  # the previous user's session and CSRF token
            self.page.context.add_cookies([self.cookies[username]])
            self.user = username
        return self.page

    def close(self):
        if self.page is not None:
            self.page.context.close()


@pytest.fixture
def sessions(browser, live_server):
    s = Sessions(browser, live_server)
    yield s
    s.close()


def round_trip(page, live_server, obj, url_model=None, save="_continue") -> list[str]:
    """What is wrong with ``obj``'s change page: a shown value that is not the stored one,
    a save of the unchanged form refused or changing anything (rows, history, admin log).
    ``save``: the name of the save button to press."""
    opts = (url_model or type(obj))._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    obj = type(obj)._default_manager.get(pk=obj.pk)  # as stored now
    before, since = snapshot(obj), timezone.now()
    page.goto(f"{live_server.url}{url}")
    controls = page.evaluate(FORM_CONTROLS, f"form#{opts.model_name}_form")
    if controls is None:
        return [f"{url}：没有可编辑的表单"]
    problems = shown_mismatches(obj, controls)
    save_screenshot(page, f"round_trip_{opts.model_name}_{obj.pk}",
                    full_page=opts.app_label != "policies")
    page.locator(f'input[name="{save}"]').first.click()
    page.wait_for_load_state()
    saved = page.evaluate(SAVE_OUTCOME)
    if saved["errors"]:
        problems.append(f"保存未通过：{' / '.join(saved['errors'])}")
    elif not saved["success"]:
        problems.append(f"保存后没有成功提示：{page.url}")
    after = snapshot(obj)
    for key in sorted(set(before) | set(after), key=str):
        if before.get(key) != after.get(key):
            changed = {k: (before.get(key, {}).get(k), v) for k, v in (after.get(key) or {}).items()
                       if (before.get(key) or {}).get(k) != v}
            problems.append(f"数据库中 {key[0]} {key[1]} 被改变：{changed or '被删除'}")
    problems += history_changes(after, since)
    problems += log_changes(obj, since)
    return [f"{url}：{p}" for p in problems]


# --------------------------------------------------------------------------- the tests


def selected(cases):
    """``ROUND_TRIP_ONLY=理赔`` runs only the rows whose name contains 理赔 (debugging)."""
    only = os.environ.get("ROUND_TRIP_ONLY")
    return [c for c in cases if not only or only in c.name]


# The pages are dealt over PARTS tests, which pytest-xdist runs on different workers: a
# plan-year page (≈ 1 200 form fields) costs about two plain ones. Four parts of ≈ 40 s
# each (CI) balance the workers better than one long test of the plain pages.
PARTS = 4


def records(world, part: int) -> list[tuple[ChangeForm, object]]:
    """The ``(case, record)`` pairs that test part ``part`` round-trips: every selected
    case's records, grouped by role (one browser context per role and part) and cut into
    ``PARTS`` consecutive slices of about equal cost. Every record is in exactly one part."""
    pairs = sorted(((case, obj) for case in selected(CHANGE_FORMS) for obj in case.objects(world)),
                   key=lambda pair: pair[0].user)  # stable: table order within a role
    total = sum(case.cost for case, _obj in pairs)
    out, done = [], 0
    for case, obj in pairs:
        # the pair goes to the part its cost's midpoint falls in
        if int((done + case.cost / 2) * PARTS // total) == part:
            out.append((case, obj))
        done += case.cost
    return out


@pytest.mark.parametrize("part", range(PARTS), ids=[f"part-{k + 1}" for k in range(PARTS)])
def test_every_change_form_round_trips(world, sessions, live_server, subtests, part):
    for case, obj in records(world, part):
        with subtests.test(msg=f"{case.name} {obj}"):
            assert obj is not None, f"{case.name}：没有已保存的记录"
            problems = round_trip(sessions(case.user), live_server, obj, case.url_model, case.save)
            assert problems == [], "\n".join(problems)


def test_every_action_form_shows_its_initial_values(world, sessions, live_server, subtests):
    today = timezone.localdate()
    for case in selected(ACTION_FORMS):
        with subtests.test(msg=case.name):
            page = sessions(case.user)
            page.goto(f"{live_server.url}{case.url(world)}")
            save_screenshot(page, f"action_{case.name}")
            form = case.form(world)
            controls = page.locator("#content form[method=post]").first.evaluate(COLLECT_CONTROLS)
            problems = []
            for control in controls:
                if control["hidden"] or control["name"] not in form.fields:
                    continue
                field = form.fields[control["name"]]
                initial = form.get_initial_for_field(field, control["name"])
                data = control["value"] == "on" if control["type"] == "checkbox" else control["value"]
                if field.has_changed(initial, data):
                    problems.append(f"{control['name']}（{control['type']}）显示 {control['value']!r}，"
                                    f"应为 {initial!r}")
                if control["type"] == "date" and isinstance(initial, date):
                    assert initial == today, f"{control['name']} 的默认值应为今天 {today}"
            assert problems == [], "\n".join(problems)
