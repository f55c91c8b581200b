"""``manage.py trial_calc`` against the loaded seed fixtures (spec trial-calc.md)."""
import copy
import io
import json

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from insurance_rules.tests.spec_examples import EXAMPLES as EXAMPLES_FILE
from insurance_rules.tests.spec_examples import SHARED, load_examples

EXAMPLES = load_examples()
CASES = {c["id"]: c for c in EXAMPLES["cases"]}


def trial(text, *args, monkeypatch=None, tmp_path=None):
    """Run the command on ``text`` (through a file) and return the parsed stdout."""
    path = tmp_path / "cases.json"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("trial_calc", str(path), *args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


def case(case_id, **changes):
    data = copy.deepcopy(CASES[case_id])
    data.update(changes)
    return data


@pytest.mark.parametrize("case_id", sorted(EXAMPLES["expect"]))
def test_worked_examples(loaded_policies, tmp_path, case_id):
    [result] = trial(json.dumps([CASES[case_id]]), tmp_path=tmp_path)
    expect = EXAMPLES["expect"][case_id]
    assert result["ok"] is True, result
    assert result["id"] == case_id
    layers = {lr["scheme"]: lr["paid"] for lr in result.get("layers", [])}
    for scheme, paid in expect.get("layers", {}).items():
        assert layers[scheme] == paid
    items = {i["code"]: i["paid"] for lr in result.get("layers", []) for i in lr.get("items", [])}
    for code, paid in expect.get("items", {}).items():
        assert items[code] == paid
    for key in ("personal", "due", "subsidy", "self_pay", "coverage_start", "coverage_end", "admitted"):
        if key in expect:
            assert result[key] == expect[key]


def test_every_kind_has_a_public_example():
    from claims.trial.cases import HANDLERS

    kinds = {c.get("kind", "claim") for c in EXAMPLES["cases"]}
    assert kinds == set(HANDLERS) == {"claim", "contribution", "registration"}


def test_the_whole_examples_file_through_the_command(loaded_policies):
    out, err = io.StringIO(), io.StringIO()
    call_command("trial_calc", str(EXAMPLES_FILE), stdout=out, stderr=err)
    results = json.loads(out.getvalue())
    assert [r["id"] for r in results] == [c["id"] for c in EXAMPLES["cases"]]
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    assert {r["id"] for r in results if "admitted" in r} == {
        c["id"] for c in EXAMPLES["cases"] if c.get("kind") == "registration"}


def test_a_programming_error_in_a_case_fails_the_command(loaded_policies, tmp_path, monkeypatch):
    """A handler that crashes is the program's fault: every result is printed, the command
    exits 1 (not a case answer with exit 0, which hid the missing registration handler)."""
    from claims.trial import cases as trial_batch

    def broken(case, *, plan_status, cache):
        raise KeyError("no_such_key")

    monkeypatch.setitem(trial_batch.HANDLERS, "registration", broken)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([CASES["ex-1"], CASES["ex-8"]]), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as err:
        call_command("trial_calc", str(path), stdout=out, stderr=io.StringIO())
    assert err.value.returncode == 1
    first, second = json.loads(out.getvalue())
    assert first["ok"] is True
    assert second["error"]["code"] == "internal_error"


def test_result_shape_of_a_claim(loaded_policies, tmp_path):
    [r] = trial(json.dumps([CASES["ex-2"]]), tmp_path=tmp_path)
    assert list(r) == ["id", "ok", "layers", "fund_total", "personal"]
    assert [lr["scheme"] for lr in r["layers"]] == ["resident_basic", "critical_illness"]
    basic = r["layers"][0]
    assert basic["deductible"] == "800.00" and basic["ratio"] == "55.00" and basic["basis"] == "50000.00"
    assert "(50000.00−800.00)×55% = 27060.00" in basic["explanation"]
    assert r["fund_total"] == "30124.20"
    given = trial(json.dumps([CASES["ex-5"]]), tmp_path=tmp_path)[0]["layers"][0]
    assert given["given"] is True and given["paid"] == "38000.00"


def test_input_forms_array_object_and_json_lines(loaded_policies, tmp_path):
    cases = [CASES["ex-1"], CASES["ex-2"]]
    as_array = trial(json.dumps(cases), tmp_path=tmp_path)
    as_object = trial(json.dumps({"cases": cases, "expect": {}}), tmp_path=tmp_path)
    as_lines = trial("\n".join(json.dumps(c) for c in cases) + "\n", tmp_path=tmp_path)
    assert as_array == as_object == as_lines
    assert [r["id"] for r in as_array] == ["ex-1", "ex-2"]


def test_standard_input(loaded_policies, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([CASES["ex-1"]])))
    out = io.StringIO()
    call_command("trial_calc", "-", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())[0]["personal"] == "15400.00"


@pytest.mark.parametrize("text", ["{not json", '{"a": 1,\n "b": 2}', "[1, 2]", '"text"', ""])
def test_exit_status_2_on_bad_input(db, tmp_path, text):
    with pytest.raises(CommandError) as err:
        trial(text, tmp_path=tmp_path)
    assert err.value.returncode == 2


@pytest.mark.own_database
def test_exit_status_2_from_the_command_line(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "bad.json"
    path.write_text("[{", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    proc = subprocess.run([sys.executable, "manage.py", "trial_calc", str(path)], cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""


def error_of(result):
    assert result["ok"] is False
    return result["error"]["code"], result["error"]["message"]


def test_inconsistent_compliant_is_invalid_input(loaded_policies, tmp_path):
    bad = case("ex-2")
    bad["claim"] = dict(bad["claim"], compliant="49000")
    good = case("ex-2")
    good["claim"] = dict(good["claim"], compliant="50000.00")
    r_bad, r_good = trial(json.dumps([bad, good]), tmp_path=tmp_path)
    code, message = error_of(r_bad)
    assert code == "invalid_input" and "claim.compliant" in message
    assert r_good["ok"] is True


def test_unknown_codes(loaded_policies, tmp_path):
    disease = case("ex-4")
    disease["claim"] = dict(disease["claim"], disease="CZ99")
    cases = [case("ex-1", region="999999"),
             case("ex-1", coverages=[{"scheme": "employee_large"}]),   # 垫江 has no such scheme
             case("ex-1", coverages=[{"scheme": "no_such"}]),
             disease]
    fields = ["region", "coverages[0].scheme", "coverages[0].scheme", "claim.disease"]
    for result, field in zip(trial(json.dumps(cases), tmp_path=tmp_path), fields, strict=True):
        code, message = error_of(result)
        assert code == "unknown_code" and field in message


def test_missing_rule_when_a_given_only_layer_has_no_given(loaded_policies, tmp_path):
    bad = case("ex-5")
    bad["claim"] = {k: v for k, v in bad["claim"].items() if k != "given"}
    code, message = error_of(trial(json.dumps([bad]), tmp_path=tmp_path)[0])
    assert code == "missing_rule"
    assert "职工基本医疗保险" in message and "2024" in message and "given.employee_basic" in message


def test_prior_claims_build_the_year_to_date(loaded_policies, tmp_path):
    # 垫江 tier 1: a first stay of 30 000 (self-pay 15 400), then 10 000 (self-pay 5 400):
    # 大病 (20 800 − 17 833) × 60 % = 1 780.20 on the second
    data = case("ex-1")
    first = copy.deepcopy(data["claim"])
    data["prior"] = [first]
    data["claim"] = dict(data["claim"], date="2024-06-10", total="10000")
    [r] = trial(json.dumps([data]), tmp_path=tmp_path)
    assert {lr["scheme"]: lr["paid"] for lr in r["layers"]} == {"resident_basic": "4600.00",
                                                                "critical_illness": "1780.20"}


def test_participation_rate_override(loaded_policies, tmp_path):
    data = case("ex-6", participation_rate=0.3)
    data["person"] = dict(data["person"], pre_existing=["tumor"])
    data["claim"] = dict(data["claim"], total="500000", out_of_catalog="0",
                         given={"resident_basic": {"paid": "100000"}, "critical_illness": {"paid": "0"}})
    [r] = trial(json.dumps([data]), tmp_path=tmp_path)
    items = {i["code"]: i["paid"] for i in r["layers"][-1]["items"]}
    # R1 = (400 000 − 5 000) × 50 % = 197 500; personal 202 500 − cap 100 000
    assert (items["R1"], items["FLOOR"]) == ("197500.00", "102500.00")
    assert r["personal"] == "100000.00"


def test_plan_status_draft_reads_draft_plan_years(loaded_policies, tmp_path):
    from policies.models import BenefitRule, PlanYear

    py = PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
    PlanYear.objects.filter(pk=py.pk).update(status=PlanYear.Status.DRAFT)
    BenefitRule.objects.filter(plan_year=py, claim_type="inpatient", level=3, tier=1).update(ratio=60)
    active = trial(json.dumps([CASES["ex-1"]]), tmp_path=tmp_path)[0]
    assert error_of(active)[0] == "missing_rule"
    [draft] = trial(json.dumps([CASES["ex-1"]]), "--plan-status", "draft", tmp_path=tmp_path)
    # draft ratio 60 %; 大病 still from its active plan year (fallback)
    assert [lr["paid"] for lr in draft["layers"]] == ["17520.00", "0.00"]


def _counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.managed}


def test_nothing_is_written(loaded_policies, tmp_path):
    before = _counts()
    cases = list(EXAMPLES["cases"]) + [case("ex-1", region="999999")]
    results = trial(json.dumps(cases), tmp_path=tmp_path)
    assert len(results) == len(cases)
    assert _counts() == before


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/spec beside this clone")
def test_spec_examples_copy_is_current():
    assert EXAMPLES_FILE.read_bytes() == SHARED.read_bytes()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="a second process needs a database it can see (PostgreSQL)")
def test_the_examples_file_on_standard_input_of_a_separate_process():
    """``manage.py trial_calc -`` run as a real process reading the public examples on
    standard input, against the committed seed rows: every kind answers as expected."""
    import os
    import subprocess
    import sys

    from django.db import connection

    call_command("load_policies", verbosity=0)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    proc = subprocess.run([sys.executable, "manage.py", "trial_calc", "-"], cwd=settings.BASE_DIR,
                          input=EXAMPLES_FILE.read_text(encoding="utf-8"), capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DATABASE_URL": url})
    assert proc.returncode == 0, proc.stderr
    got = {r["id"]: r for r in json.loads(proc.stdout)}
    for case_id, expect in EXAMPLES["expect"].items():
        result = got[case_id]
        assert result["ok"] is True, result
        layers = {lr["scheme"]: lr["paid"] for lr in result.get("layers", [])}
        assert {k: layers.get(k) for k in expect.get("layers", {})} == expect.get("layers", {})
        for key in ("personal", "due", "subsidy", "self_pay", "coverage_start", "coverage_end", "admitted"):
            assert result.get(key) == expect.get(key, result.get(key)), (case_id, key)


@pytest.mark.own_database
def test_the_contract_from_a_fresh_checkout_load_policies_then_trial_calc(tmp_path):
    """trial-calc.md's steps on a database nobody has set up (a fresh checkout's SQLite
    file), as real processes with nothing else run before. ``trial_calc`` alone answers
    from the seed policies in memory, without creating the file; ``load_policies`` builds
    the tables it needs first, then ``trial_calc`` answers every public example as
    expected, exactly as it did from memory."""
    import os
    import subprocess
    import sys

    fresh = tmp_path / "fresh.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{fresh}"}
    alone = subprocess.run([sys.executable, "manage.py", "trial_calc", str(EXAMPLES_FILE)], cwd=settings.BASE_DIR,
                           capture_output=True, text=True, timeout=120, env=env)
    assert alone.returncode == 0, alone.stderr
    assert "在内存数据库中试算" in alone.stderr and not fresh.exists()
    load = subprocess.run([sys.executable, "manage.py", "load_policies"], cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=300, env=env)
    assert load.returncode == 0, load.stderr
    assert "先执行 migrate" in load.stderr and "合计：新增" in load.stdout
    proc = subprocess.run([sys.executable, "manage.py", "trial_calc", str(EXAMPLES_FILE)], cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    got = {r["id"]: r for r in json.loads(proc.stdout)}
    assert set(got) == set(EXAMPLES["expect"])
    for case_id, expect in EXAMPLES["expect"].items():
        assert got[case_id]["ok"] is True, got[case_id]
        layers = {lr["scheme"]: lr["paid"] for lr in got[case_id].get("layers", [])}
        assert {k: layers.get(k) for k in expect.get("layers", {})} == expect.get("layers", {}), case_id
    assert json.loads(alone.stdout) == json.loads(proc.stdout)
    assert "内存" not in proc.stderr
    again = subprocess.run([sys.executable, "manage.py", "load_policies"], cwd=settings.BASE_DIR,
                           capture_output=True, text=True, timeout=120, env=env)
    assert again.returncode == 0 and "migrate" not in again.stderr, again.stderr
