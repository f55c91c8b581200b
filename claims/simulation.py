"""Policy simulation (issue: reports, dashboard and policy simulation; spec README §2
"only a draft plan year may be edited freely … never silently changes an already settled
claim").

``simulate_plan_year(plan_year=..., base_year=...)`` re-settles every counted claim
(settled, approved, paid) of ``base_year`` in the plan year's pooling region with the
plan year's parameters in place of the base year's parameters of the same scheme — the
other schemes keep the base year's parameters — and compares the result with the stored
current result lines. Only the claims with a layer of the simulated scheme (stored or
simulated) are counted: a 职工 plan year's simulation does not report the 居民 claims.
Nothing is written: the engine is pure and the stored claims are only read.

The claims' inputs are read as a settlement reads them (``claims.fetch``). Each person's
claims are re-settled in history order (service date, then id, ``fetch.settle_in_order``)
with the *simulated* earlier claims as the year-to-date history, so that a changed
deductible, ratio or limit also moves the layers settled after it (大病保险 reads the
basic layer, the cap of a later claim reads the earlier ones). A claim the draft cannot settle (e.g. a rule row deleted in the draft) is
listed with the engine's message and counted neither in the base nor in the simulated
figures.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from insurance_rules.errors import CaseError
from insurance_rules.money import ZERO, q2
from insurance_rules.vocab import claim_type_name, scheme_kind_name
from policies import models as pm
from policies import selectors as policy_selectors
from policies.masking import mask_for_user_or_system

from . import fetch
from .gc_pause import gc_paused
from .models import Claim, ClaimLayer

NO_IDENTITY = "无特殊身份"


@dataclass
class Diff:
    """Base vs simulated amount of one group (a layer, a claim type, an identity)."""

    label: str
    claims: int = 0
    base: Decimal = ZERO
    simulated: Decimal = ZERO

    @property
    def change(self) -> Decimal:
        return self.simulated - self.base

    @property
    def change_pct(self) -> Decimal | None:
        """Change in percent of the base (None when the base is 0)."""
        return q2(self.change / self.base * 100) if self.base else None


@dataclass
class ClaimDiff:
    claim_id: int
    settlement_no: str
    person: str
    claim_type: str
    base: Decimal
    simulated: Decimal
    layers: dict[str, tuple[Decimal, Decimal]]

    @property
    def change(self) -> Decimal:
        return self.simulated - self.base


@dataclass
class SimulationResult:
    plan_year: pm.PlanYear
    base_year: int
    claims: int = 0
    by_layer: dict[str, Diff] = field(default_factory=dict)
    by_claim_type: dict[str, Diff] = field(default_factory=dict)
    by_identity: dict[str, Diff] = field(default_factory=dict)
    changed: list[ClaimDiff] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (settlement no, message)

    @property
    def total(self) -> Diff:
        out = Diff("合计", claims=self.claims)
        for diff in self.by_layer.values():
            out.base += diff.base
            out.simulated += diff.simulated
        return out

    def top(self, n: int = 20) -> list[ClaimDiff]:
        """The claims whose fund payment changes most (by absolute change)."""
        return sorted((c for c in self.changed if c.change),
                      key=lambda c: (-abs(c.change), c.claim_id))[:n]


def _identity_group(person_facts, day) -> str:
    held = sorted(h.code for h in person_facts.identities if h.valid_on(day))
    return held[0] if held else NO_IDENTITY


def _add(groups: dict[str, Diff], key: str, label: str, base: Decimal, simulated: Decimal,
         count: bool = True) -> None:
    diff = groups.setdefault(key, Diff(label))
    diff.base += base
    diff.simulated += simulated
    diff.claims += 1 if count else 0


def simulate_plan_year(*, plan_year: pm.PlanYear, base_year: int, claims=None,
                       progress: Callable[[int, int], None] | None = None, user=None) -> SimulationResult:
    """Re-settle the base year's counted claims of the plan year's region under the plan
    year's parameters (see the module docstring). ``claims``: an optional narrower
    queryset of claims (e.g. scoped to the user's regions); ``progress(done, total)``
    after each claim (a job's progress bar); ``user``: who reads the result (the persons'
    names as their masking rule shows them; None: in full)."""
    with gc_paused():  # its objects are not scanned again and again (gc_pause)
        return _simulate(plan_year, base_year, claims, progress, user)


def _simulate(plan_year, base_year, claims, progress, user) -> SimulationResult:
    scheme = plan_year.scheme
    region = scheme.region.pooling_region
    base = fetch.RegionYear.of(region, base_year)
    schemes = list(pm.Scheme.objects.filter(region=region).order_by("settlement_order"))
    draft = policy_selectors.build_params(region, schemes, [plan_year])[plan_year.pk]
    context = replace(base, plans={kind: (draft if kind == scheme.kind else params)
                                   for kind, params in base.plans.items()})
    names = context.names
    identity_names = dict(pm.Identity.objects.values_list("code", "name"))

    qs = claims if claims is not None else Claim.objects.all()
    qs = qs.filter(region=region, year=base_year, status__in=Claim.COUNTED)
    stored: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in ClaimLayer.objects.filter(claim__in=qs, is_current=True).values_list(
            "claim_id", "scheme_kind", "paid"):
        stored[row[0]][row[1]] = row[2]
    # the stored history is not read: the counted claims themselves are re-settled
    inputs = fetch.fetch_settlement_inputs(context, qs, history=False)

    result = SimulationResult(plan_year=plan_year, base_year=base_year)
    total = len(inputs.claims)
    for done, (claim, settled) in enumerate(fetch.settle_in_order(inputs), start=1):
        if progress is not None:
            progress(done, total)
        if isinstance(settled, CaseError):
            result.errors.append((claim.settlement_no, settled.message))
            continue
        facts = inputs.persons[claim.person_id].facts
        base_layers = stored[claim.pk]
        new_layers = {lr.scheme: lr.paid for lr in settled.layers}
        if scheme.kind not in base_layers and scheme.kind not in new_layers:
            continue  # the person is not covered by the simulated scheme: not its claim
        kinds = list(dict.fromkeys([*base_layers, *new_layers]))
        result.claims += 1
        layers = {}
        for kind in kinds:
            old, new = base_layers.get(kind, ZERO), new_layers.get(kind, ZERO)
            layers[kind] = (old, new)
            _add(result.by_layer, kind, names.get(kind, scheme_kind_name(kind)), old, new)
        base_total = sum(base_layers.values(), ZERO)
        new_total = sum(new_layers.values(), ZERO)
        _add(result.by_claim_type, claim.claim_type, claim_type_name(claim.claim_type),
             base_total, new_total)
        group = _identity_group(facts, claim.service_date)
        _add(result.by_identity, group, identity_names.get(group, group), base_total, new_total)
        result.changed.append(ClaimDiff(
            claim_id=claim.pk, settlement_no=claim.settlement_no, person=mask_for_user_or_system(user, "name", claim.person.name),
            claim_type=claim_type_name(claim.claim_type), base=base_total, simulated=new_total,
            layers=layers))
    return result
