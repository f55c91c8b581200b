"""Benchmark of the pure settlement engine (no database): claims settled per second.

Builds the public worked examples' claims (../shared/spec/examples) once through the
trial-calc parser, with the plan parameters resolved from the database once, then
settles them repeatedly with ``insurance_rules.settle.settle_claim`` (claims per second
of process CPU time). This is the
ceiling of batch settlement; the database round trips are measured by
bench/settle_bench.py.

    .venv/bin/python bench/engine_bench.py [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def engine_rate(rounds: int) -> float:
    """Claims/s (process CPU time) of ``settle_claim`` over ``rounds`` claims of the
    worked examples' shapes."""
    from claims.trial import claims as trial
    from insurance_rules.facts import ClaimFacts  # noqa: F401  (import cost outside the loop)
    from insurance_rules.parse import parse_date, parse_person
    from insurance_rules.settle import settle_claim
    from policies import selectors

    data = json.loads((ROOT.parent / "shared/spec/examples/trial-calc-examples.json").read_text())
    cache = trial.TrialCache()
    cases = []
    for case in data["cases"]:
        if case.get("kind") != "claim":
            continue
        region = selectors.pooling_region(case["region"])
        year = parse_date(case["claim"]["date"], "claim.date").year
        plans = cache.region_plans(region.code, year)
        person = parse_person(case["person"], known_identities=cache.identity_codes())
        has_tiers = {k: p.has_tiers for k, p in plans.items() if p is not None}
        coverages = trial.parse_coverages(case.get("coverages"), plans, has_tiers, year)
        claim = trial.parse_claim(case["claim"], "claim", plans=plans,
                                  diseases=cache.disease_codes(region))
        cases.append((plans, person, coverages, claim))
    start = time.process_time()
    for i in range(rounds):
        plans, person, coverages, claim = cases[i % len(cases)]
        settle_claim(plans=plans, person=person, coverages=coverages, claim=claim)
    elapsed = time.process_time() - start
    print(f"engine: {rounds} claims ({len(cases)} shapes) in {elapsed:.2f} s of CPU "
          f"= {rounds / elapsed:,.0f} claims/s")
    return rounds / elapsed


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    engine_rate(args.rounds)


if __name__ == "__main__":
    main()
