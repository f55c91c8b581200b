"""``trial_calc`` against hostile input (issue 15 hole 8; spec trial-calc.md: a bad field is
``invalid_input``, an input that is not a JSON array of objects exits 2): huge amounts, a
5 000-digit number, 100 000-deep JSON — never ``internal_error`` or a traceback."""
import copy
import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from insurance_rules.tests.spec_examples import load_examples

CASES = {c["id"]: c for c in load_examples()["cases"]}


def trial(tmp_path, cases):
    path = tmp_path / "cases.json"
    path.write_text(cases if isinstance(cases, str) else json.dumps(cases), encoding="utf-8")
    out = io.StringIO()
    call_command("trial_calc", str(path), stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def with_claim(**changes):
    case = copy.deepcopy(CASES["ex-1"])
    case["claim"].update(changes)
    return case


@pytest.mark.parametrize("changes,field", [
    ({"total": "1e400", "compliant": None}, "claim.total"),
    ({"total": "1e30", "compliant": None}, "claim.total"),
    ({"total": "1" * 29, "compliant": None}, "claim.total"),
    ({"total": "9" * 5000, "compliant": None}, "claim.total"),
    ({"out_of_catalog": "-1e30"}, "claim.out_of_catalog"),
    ({"compliant": "1e30"}, "claim"),
    ({"drug_class_a": 1e300}, "claim.drug_class_a"),
    ({"class_b_items": "1e999999999"}, "claim.class_b_items"),
])
def test_huge_claim_amounts_are_invalid_input(loaded_policies, tmp_path, changes, field):
    case = with_claim(**changes)
    if case["claim"].get("compliant") is None:
        case["claim"].pop("compliant", None)
    [result] = trial(tmp_path, [case])
    assert result["ok"] is False, result
    assert result["error"]["code"] == "invalid_input", result
    message = result["error"]["message"]
    assert f"字段“{field}" in message
    assert len(message) < 200  # the 5 000 digits are not copied into the message


def test_huge_amounts_elsewhere_in_a_case(loaded_policies, tmp_path):
    given = copy.deepcopy(CASES["ex-5"])
    given["claim"]["given"]["employee_basic"]["paid"] = "1e400"
    rate = copy.deepcopy(CASES["ex-1"])
    rate["participation_rate"] = "-1e400"
    prior = copy.deepcopy(CASES["ex-1"])
    prior["prior"] = [{**copy.deepcopy(CASES["ex-1"]["claim"]), "total": "1e30", "compliant": "1e30"}]
    evidence = copy.deepcopy(CASES["ex-8"])
    evidence["evidence"]["hba1c"] = "1e400"
    results = trial(tmp_path, [given, rate, prior, evidence, CASES["ex-1"]])
    assert [r["error"]["code"] for r in results[:4]] == ["invalid_input"] * 4, results
    assert results[4]["ok"] is True and results[4]["personal"] == "15400.00"


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '[{"id": "x", "claim": {"total": ' + "9" * 5000 + "}}]",
    '{"id": "a"}\n{"id": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
def test_unparseable_input_exits_2(db, tmp_path, text):
    with pytest.raises(CommandError) as err:
        trial(tmp_path, text)
    assert err.value.returncode == 2


@pytest.mark.own_database
def test_deep_json_from_the_command_line_exits_2_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    proc = subprocess.run([sys.executable, "manage.py", "trial_calc", str(path)], cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert "嵌套层数过多" in proc.stderr
