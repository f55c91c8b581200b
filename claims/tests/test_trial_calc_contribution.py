"""The trial-calc dispatcher (``claims.trial.cases``) answers enrollment's ``contribution``
kind through ``enrollment.trial.contributions`` (trial-calc.md; the kind's own rules are
tested in enrollment/tests/test_contribution_trial.py)."""
import pytest

from claims.trial import cases as trial_batch
from enrollment.tests.contribution_setup import contribution_rows  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("contribution_rows")


def case(**kw):
    data = {"id": "t", "kind": "contribution", "region": "500231", "scheme": "resident_basic",
            "year": 2024, "tier": 1, "paid_date": "2023-11-20", "channel": "wechat",
            "person": {"birth_date": "1980-06-15", "category": "resident"}}
    data.update(kw)
    return data


def test_batch_runner_returns_contribution_results():
    results = trial_batch.run_cases([case(id="a"), case(id="b", paid_date="2024-10-01")])
    assert results[0]["ok"] is True and results[0]["self_pay"] == "380.00"
    assert results[1] == {"id": "b", "ok": False, "error": {
        "code": "window_closed", "message": "2024 年度缴费已截止"}}
