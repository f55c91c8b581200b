"""Writes of the claims app (HackSoft services: keyword-only, ``acting_user``, one
transaction each). Spec README §3 settlement-sheet amounts, §4 settlement, §6 bad input;
leshan.md claim documents; liaocheng.md offline review.

Workflow (``Claim.TRANSITIONS``)::

    录入 draft ──结算──▶ 已结算 settled ──审核──▶ 已审核 approved ──支付──▶ 已支付 paid
       │                 │  ▲ 重新结算                │  ▲ 追回/支付差额 │
       ▼                 ▼  │                        ▼  │             │
     作废 void ◀──── 退回 returned ◀────────────────────┘  │             │
       ▲                                                 │             │
       └───────── 已冲正 reversed ◀──────冲正─────────────┴─────────────┘
                     └──更正后结算──▶ 已结算（新版本）

- ``claim_create`` / ``claim_update`` validate the sheet (Chinese messages naming the
  field) and are allowed in 录入 and 退回 only: a settled claim is read-only.
- ``claim_settle`` (录入/退回 → 已结算) and ``claim_resettle`` (已结算 → 已结算, explicit,
  with a reason) run the engine and store a new settlement version; the old lines are
  kept (``is_current = False``). The person's row is locked (``select_for_update``)
  before the year-to-date history is read, so two settlements of the same person are
  serialised on PostgreSQL: no annual limit is exceeded, no deductible used twice
  (README §6). Engine errors (``missing_rule``, ``invalid_input``, …) become
  ``ValidationError`` with the engine's Chinese message; nothing is written.
- ``claim_trial`` runs the engine and writes nothing.
- ``claim_approve`` needs ``claims.approve_claim`` and a complete documents checklist;
  ``claim_pay`` (``claims.pay_claim``; only a success line of a bank's returned
  file pays a claim: ``finance.services.batches``); ``claim_return`` / ``claim_void`` ``claims.reject_claim``
  and a reason.
- ``claim_reverse`` (冲正 of an approved or paid claim, ``claims.reverse_claim``, reason),
  ``claim_recover`` (登记追回 of money paid and no longer owed) and the 待重新结算 flag of
  the person's later claims, cleared by ``claim_resettle`` (docs/money.md §冲正与重新结算).

Permissions: ``acting_user=None`` is a system job (imports, demo data) and is not
permission-checked; history records the acting user.
"""
from __future__ import annotations

import json
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from enrollment.models import Person
from enrollment.selectors import persons_visible_to
from insurance_rules.claim_amounts import AMOUNT_FIELDS, InvalidAmounts, check_claim_amounts
from insurance_rules.errors import CaseError
from insurance_rules.money import ZERO, fmt
from insurance_rules.results import SettledClaim
from ledger import services as ledger
from ledger.models import Journal, SourceKind
from policies import codes
from policies.access import user_can_access
from policies.dashboard import dashboard_figures_changed
from policies.duties import separation_refusal
from policies.masking import shown_name
from policies.models import DutySeparation, Region
from sheets.bulk_sql import JsonText, PreparedValues, insert_history_stored, insert_rows

from . import fetch, postings, selectors
from .models import Claim, ClaimDocument, ClaimLayer, GivenLayer

CLAIM_FIELDS = (
    "person", "region", "claim_type", "service_date", "discharge_date", "hospital",
    "settlement_no", "location", "filed", "total", "out_of_catalog", "class_b_copay", "compliant",
    "tcm_compliant", "special_drug", "drug_class_a", "drug_class_b", "class_b_items",
    "out_of_catalog_controlled", "disease", "major_disease", "special_b", "delivery_mode",
    "drug_list", "drug_class", "accepted_on", "offline_review", "note",
)
AMOUNT_LABELS = {name: str(Claim._meta.get_field(name).verbose_name)
                 for name in (*AMOUNT_FIELDS, "class_b_items")}
HOSPITAL_REQUIRED = ("inpatient", "outpatient")
DISEASE_REQUIRED = ("chronic_outpatient", "two_diseases")
REGION = "region"
UNIQUE_SETTLEMENT_NO = "claim_hospital_settlement_unique"


# --------------------------------------------------------------------------- helpers


def _check(acting_user, perm: str, claim: Claim | None = None) -> None:
    if acting_user is None:
        return
    if not acting_user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限")
    if claim is not None and not user_can_access(acting_user, claim, REGION):
        raise PermissionDenied("该理赔不属于您负责的统筹区")


def _save(obj, acting_user, reason: str | None = None, **kwargs):
    obj._history_user = acting_user
    if reason:
        obj._change_reason = reason
    adding = obj._state.adding
    obj.save(**kwargs)
    # 赔付金额, 赔付率 count the result lines of the counted claims (refreshed after commit):
    # a new claim not counted yet (录入) has none and changes no figure
    if isinstance(obj, Claim) and not (adding and obj.status not in Claim.COUNTED):
        dashboard_figures_changed(region_id=obj.region_id, year=obj.year)
    return obj


def _engine_error(exc: CaseError) -> ValidationError:
    """An engine error as a ValidationError (Chinese message, code = trial-calc code)."""
    return ValidationError(exc.message, code=exc.code)


def _locked(claim: Claim) -> Claim:
    return (Claim.objects.select_for_update(of=("self",))
            .select_related("person", "region", "hospital__region__parent", "disease").get(pk=claim.pk))


def _status_error(claim: Claim, action: str) -> ValidationError:
    return ValidationError({"status": ValidationError(
        f"理赔状态为“{claim.get_status_display()}”，不能{action}", code="invalid_status")})


# --------------------------------------------------------------------------- validation


def _validate(claim: Claim, given: list[dict] | None, enrollments=None, suspensions=None) -> None:
    """Every check of a settlement sheet (README §3, §6), Chinese messages by field."""
    errors: dict[str, list[str]] = {}

    def err(name, text):
        errors.setdefault(name, []).append(text)

    if claim.person_id is None:
        err("person", "请选择参保人")
    if claim.service_date is None:
        err("service_date", "请填写就诊/入院日期")
    if claim.claim_type in HOSPITAL_REQUIRED and claim.hospital_id is None:
        err("hospital", f"{codes.ClaimType(claim.claim_type).label}理赔须选择医疗机构")
    if claim.claim_type in DISEASE_REQUIRED and claim.disease_id is None:
        err("disease", f"{codes.ClaimType(claim.claim_type).label}理赔须选择病种")
    if claim.claim_type == "delivery" and not claim.delivery_mode:
        err("delivery_mode", "住院分娩理赔须选择分娩方式")
    if (claim.claim_type == "delivery" and claim.delivery_mode == codes.DeliveryMode.CESAREAN
            and claim.hospital_id is None):
        err("hospital", "剖宫产理赔须选择医疗机构（剖宫产按住院结算，起付线和比例取决于医院级别）")
    if claim.disease_id and claim.region_id and claim.disease.region_id != claim.region_id:
        err("disease", f"病种 {claim.disease} 不属于{claim.region.name}的病种目录")
    for name in AMOUNT_FIELDS:
        if getattr(claim, name) is None:
            setattr(claim, name, ZERO)
    try:
        amounts = check_claim_amounts(**{name: getattr(claim, name) for name in AMOUNT_FIELDS},
                                      compliant=claim.compliant, class_b_items=claim.class_b_items,
                                      labels=AMOUNT_LABELS)
    except InvalidAmounts as exc:
        if exc.negative or errors:
            for refusal in exc.refusals if exc.negative else ():
                err(refusal.field, refusal.message)
            raise ValidationError(errors) from exc
        for refusal in exc.refusals:
            err(refusal.field, refusal.message)
        if claim.compliant is None and exc.derived is not None:
            claim.compliant = exc.derived
    else:
        if errors:
            raise ValidationError(errors)
        if claim.compliant is None:
            claim.compliant = amounts.compliant
    if claim.discharge_date and claim.service_date and claim.discharge_date < claim.service_date:
        err("discharge_date", "出院日期不能早于入院日期")
    if claim.hospital_id is not None and not claim.hospital.designated:
        err("hospital", f"{claim.hospital.name}不是定点医疗机构")
    _validate_given(claim, given, err)
    if errors:
        raise ValidationError(errors)
    _validate_coverage(claim, given, enrollments, suspensions)


def _validate_given(claim: Claim, given, err) -> None:
    if not given:
        return
    seen = set()
    for i, row in enumerate(given, 1):
        kind = row.get("scheme_kind")
        if kind not in codes.SchemeKind.values:
            err("given_layers", f"第 {i} 行带入结果：未知的险种类别“{kind}”")
            continue
        if kind in seen:
            err("given_layers", f"第 {i} 行带入结果：险种“{codes.SchemeKind(kind).label}”重复")
        seen.add(kind)
        for name, label in (("paid", "本层支付"), ("deductible", "起付线"), ("over_cap", "超封顶线合规费用")):
            value = row.get(name) or ZERO
            if value < 0:
                err("given_layers", f"第 {i} 行带入结果（{codes.SchemeKind(kind).label}）：“{label}”不能为负数")
        if (row.get("paid") or ZERO) > claim.total:
            err("given_layers", f"第 {i} 行带入结果（{codes.SchemeKind(kind).label}）：本层支付 "
                                f"{fmt(row['paid'])} 超过医疗总费用 {fmt(claim.total)}")


def _validate_coverage(claim: Claim, given, read=None, suspensions=None) -> None:
    """The person must hold coverage in the region on the service date (README §6: a claim
    dated outside coverage is bad input); given layers only for schemes held. ``read``:
    the person's enrollments of the year already read (``fetch.enrollments_of_years``);
    ``suspensions``: enrollment id → its suspensions, read with them."""
    enrollments = list(selectors.region_enrollments(claim.person, claim.region, claim.year, read))
    if not enrollments:
        raise ValidationError({"person": f"参保人{shown_name(claim.person.name)}没有{claim.region.name} "
                                         f"{claim.year} 年度的参保登记"})
    coverages = [c for c in (selectors.coverage_of(e, None if suspensions is None else suspensions.get(e.pk, ()))
                             for e in enrollments) if c is not None]
    if not any(c.in_force_on(claim.service_date) for c in coverages):
        periods = "；".join(f"{codes.SchemeKind(c.scheme).label} {c.start}至{c.end}" for c in coverages)
        raise ValidationError({"service_date": (
            f"就诊/入院日期 {claim.service_date} 不在参保人任何险种的待遇享受期内"
            + (f"（{periods}，不含暂停期间）" if periods else "（尚无已缴清的参保登记）"))})
    held = {c.scheme for c in coverages}
    for row in given or ():
        if row.get("scheme_kind") in codes.SchemeKind.values and row["scheme_kind"] not in held:
            raise ValidationError({"given_layers": (
                f"带入结果：参保人未参加{claim.region.name}"
                f"{codes.SchemeKind(row['scheme_kind']).label}（{claim.year} 年度），不能带入该层结算结果")})


def claim_derive(claim: Claim, *, enrollments=None, today: date | None = None) -> None:
    """Fill the derived fields of an unsaved claim (writes nothing): year, region (from
    the person's enrollments when not chosen, README §4.2), class-B copay from class-B
    items, location (codes.md: derived from the hospital), acceptance date (``today``,
    default the local date: the claims sheet passes its import's date once).
    ``enrollments``: the person's enrollments of the claim's year when already read in
    bulk (``fetch.enrollments_of_years``; the claims sheet), else queried. ``claim``:
    a ``Claim`` or the claims sheet's ``ClaimDraft`` (the same attributes)."""
    if claim.service_date is not None:
        claim.year = claim.service_date.year
    if claim.region_id is None and claim.person_id is not None and claim.service_date is not None:
        claim.region = selectors.person_region(claim.person, claim.year, enrollments)
    if claim.region_id is not None:
        claim.region = claim.region.pooling_region
    if (claim.class_b_items is not None and not claim.class_b_copay and claim.region_id
            and claim.year):
        derived = selectors.derived_class_b_copay(claim.region, claim.year, claim.class_b_items)
        if derived is not None:
            claim.class_b_copay = derived
    if claim.hospital_id is not None and not claim.location and claim.region_id:
        claim.location = selectors.derive_location(claim.hospital, claim.region)
    if not claim.location:
        claim.location = "in_region"
    if claim.accepted_on is None:
        claim.accepted_on = today or timezone.localdate()


def _given_key(given) -> list[tuple]:
    """Carried-in layers as ``_write_given`` stores them, in one order: to compare."""
    return sorted((row["scheme_kind"], row.get("paid") or ZERO, row.get("deductible") or ZERO,
                   row.get("over_cap") or ZERO) for row in given)


def _write_given(claim: Claim, given, acting_user) -> None:
    if given is None:
        return
    keep = set()
    for row in given:
        obj, _ = GivenLayer.objects.get_or_create(
            claim=claim, scheme_kind=row["scheme_kind"],
            defaults={"paid": ZERO})
        obj.paid = row.get("paid") or ZERO
        obj.deductible = row.get("deductible") or ZERO
        obj.over_cap = row.get("over_cap") or ZERO
        obj.full_clean(exclude=["claim"])
        _save(obj, acting_user)
        keep.add(obj.pk)
    for obj in claim.given_layers.exclude(pk__in=keep):
        obj._history_user = acting_user
        obj.delete()


RELATIONS = [f.name for f in Claim._meta.concrete_fields if f.is_relation]


def _full_save(claim: Claim, acting_user, reason=None, *, relations: bool = True,
               savepoint: bool = True, update_fields=None) -> Claim:
    """Validate the fields and save. The table's constraints (amounts not negative and
    adding up, dates ordered, a settled claim has a version, the settlement number unique
    at the hospital) are not checked by a query each here: the services check them before
    (``claim_validate``) and the database refuses a row breaking one; its refusal becomes
    the constraint's own Chinese message (``_integrity_error``). ``relations=False``: the
    claim was read under its lock (``_locked``) and its foreign keys are not looked up
    again (the database guards them too). ``savepoint=False``: the save runs without a
    savepoint of its own — the caller's atomic service is the boundary a refusal rolls
    back to (``_locked_save``: two statements fewer per settlement). ``update_fields``:
    only these columns are written (``_settled_save``: a settlement changes no other)."""
    claim.review_due_date = selectors.review_due_date(claim)
    exclude = set(RELATIONS) if not relations else {"person", "region"} if claim.pk else None
    try:
        claim.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    try:
        with transaction.atomic(savepoint=savepoint):
            return _save(claim, acting_user, reason, update_fields=update_fields)
    except IntegrityError as exc:
        raise _integrity_error(claim, exc) from exc


def _integrity_error(claim: Claim, exc: IntegrityError) -> ValidationError:
    """The database's refusal of a claim row as ``full_clean`` would have worded it: the
    violated check constraint's message (named in the error on PostgreSQL and SQLite);
    otherwise the settlement number already recorded at the hospital."""
    detail = str(exc)
    for constraint in Claim._meta.constraints:
        if constraint.name in detail and constraint.name != UNIQUE_SETTLEMENT_NO:
            return ValidationError({NON_FIELD_ERRORS: [constraint.get_violation_error_message()]})
    return ValidationError({"settlement_no": f"医疗机构已登记结算单号“{claim.settlement_no}”"})


def _locked_save(claim: Claim, acting_user, reason=None, update_fields=None) -> Claim:
    """``_full_save`` of a claim read by ``_locked`` (its foreign keys not looked up), in
    the service's own transaction (``_locked`` holds the row lock: always inside one), so
    without a savepoint: a refused row fails the service, whose atomic block rolls back."""
    return _full_save(claim, acting_user, reason, relations=False, savepoint=False,
                      update_fields=update_fields)


def _duplicate_check(claim: Claim) -> None:
    qs = Claim.objects.filter(settlement_no=claim.settlement_no)
    if claim.hospital_id is not None:
        qs = qs.filter(hospital_id=claim.hospital_id)
    else:
        qs = qs.filter(hospital__isnull=True, region_id=claim.region_id)
    if claim.pk:
        qs = qs.exclude(pk=claim.pk)
    other = qs.select_related("person").first()
    if other is not None:
        where = claim.hospital.name if claim.hospital_id else claim.region.name
        raise ValidationError({"settlement_no": ValidationError(
            f"{where}已登记结算单号“{claim.settlement_no}”（参保人 {shown_name(other.person.name)}，"
            f"就诊日期 {other.service_date}），不能重复登记", code="duplicate_settlement")})


def _person_visible(acting_user, person: Person) -> None:
    if acting_user is None:
        return
    if not persons_visible_to(acting_user, Person.objects.filter(pk=person.pk)).exists():
        raise PermissionDenied("该参保人不属于您负责的统筹区")


def claim_validate(*, claim: Claim, given: list[dict] | None = None,
                   check_duplicate: bool = True, enrollments=None, suspensions=None) -> None:
    """The checks of a derived settlement sheet (``claim_derive`` first): amounts add up
    and are not negative (README §3, §6), hospital/disease/delivery required by the claim
    type, the service date inside the person's coverage, given layers only for schemes
    held, and (``check_duplicate``) the settlement number not yet recorded at the
    hospital. Raises ``ValidationError`` keyed by field; writes nothing. Used by
    ``claim_create``/``claim_update`` and by the claims sheet import
    (``claims.sheet_kinds``, which checks duplicates in bulk and passes the persons'
    ``enrollments`` of the year read in bulk, as for ``claim_derive``, with their
    ``suspensions`` by enrollment id — ``fetch.enrollments_of_years`` — and a
    ``ClaimDraft`` of values as ``claim``)."""
    _validate(claim, given, enrollments, suspensions)
    if check_duplicate:
        _duplicate_check(claim)


def claim_check(*, claim: Claim, given: list[dict] | None = None) -> Claim:
    """Every check of ``claim_create``/``claim_update`` on an unsaved claim (the admin form
    runs it before saving); fills the derived fields on ``claim``; writes nothing."""
    if not (claim.settlement_no or "").strip():
        raise ValidationError({"settlement_no": "请填写医院结算单号"})
    claim_derive(claim)
    claim_validate(claim=claim, given=given)
    return claim


# --------------------------------------------------------------------------- entry


@transaction.atomic
def claim_create(*, acting_user, person: Person, claim_type: str, service_date: date,
                 settlement_no: str, total, given: list[dict] | None = None, **fields) -> Claim:
    """Enter a settlement sheet (status 录入). ``given``: the layers carried in from the
    hospital's system, ``[{"scheme_kind", "paid", "deductible", "over_cap"}]``."""
    _check(acting_user, "claims.add_claim")
    unknown = set(fields) - set(CLAIM_FIELDS)
    if unknown:
        raise TypeError(f"unknown claim fields: {sorted(unknown)}")
    _person_visible(acting_user, person)
    fields.setdefault("compliant", None)
    claim = Claim(person=person, claim_type=claim_type, service_date=service_date,
                  settlement_no=(settlement_no or "").strip(), total=total, created_by=acting_user,
                  **fields)
    if not claim.settlement_no:
        raise ValidationError({"settlement_no": "请填写医院结算单号"})
    if claim.total is None:
        raise ValidationError({"total": "请填写医疗总费用"})
    claim_derive(claim)
    if acting_user is not None and not user_can_access(acting_user, claim, REGION):
        raise PermissionDenied("参保统筹区不属于您负责的统筹区")
    claim_validate(claim=claim, given=given)
    _full_save(claim, acting_user)
    _write_given(claim, given, acting_user)
    return claim


@transaction.atomic
def claim_update(*, claim: Claim, acting_user, given: list[dict] | None = None, **fields) -> Claim:
    """Change a claim in 录入 or 退回 (a settled claim is read-only). ``given`` replaces
    the carried-in layers when not None. Values all equal to the stored ones (fields and
    carried-in layers) write nothing: no save, no history row."""
    _check(acting_user, "claims.change_claim", claim)
    unknown = set(fields) - set(CLAIM_FIELDS)
    if unknown:
        raise TypeError(f"unknown claim fields: {sorted(unknown)}")
    locked = _locked(claim)
    if not locked.is_editable:
        raise ValidationError(f"理赔状态为“{locked.get_status_display()}”，已结算的理赔不能修改"
                              "（须先退回）", code="read_only")
    if (not any(getattr(locked, key) != value for key, value in fields.items())
            and (given is None or _given_key(given) == _given_key(
                locked.given_layers.values("scheme_kind", "paid", "deductible", "over_cap")))):
        return locked
    if "person" in fields:
        _person_visible(acting_user, fields["person"])
    amounts_changed = any(f in fields for f in ("total", "out_of_catalog", "class_b_copay",
                                                "class_b_items"))
    for key, value in fields.items():
        setattr(locked, key, value)
    if amounts_changed and "compliant" not in fields:
        locked.compliant = None
    if "hospital" in fields and "location" not in fields:
        locked.location = ""
    if "settlement_no" in fields:
        locked.settlement_no = (locked.settlement_no or "").strip()
        if not locked.settlement_no:
            raise ValidationError({"settlement_no": "请填写医院结算单号"})
    claim_derive(locked)
    if acting_user is not None and not user_can_access(acting_user, locked, REGION):
        raise PermissionDenied("参保统筹区不属于您负责的统筹区")
    current_given = given if given is not None else [
        {"scheme_kind": g.scheme_kind, "paid": g.paid, "deductible": g.deductible,
         "over_cap": g.over_cap} for g in locked.given_layers.all()]
    claim_validate(claim=locked, given=current_given)
    _full_save(locked, acting_user)
    _write_given(locked, given, acting_user)
    return locked


# --------------------------------------------------------------------------- settlement


def _run_engine(claim: Claim, persons=None) -> tuple[SettledClaim, fetch.RegionYear]:
    """Facts of the stored claim + the person's history (``fetch``; ``persons``: the
    locked person rows) → the engine's result, and the region-year it was settled in."""
    try:
        context = fetch.RegionYear.of(claim.region, claim.year)
        inputs = fetch.fetch_settlement_inputs(context, [claim], persons=persons)
    except CaseError as exc:
        raise _engine_error(exc) from exc
    [(_, settled)] = fetch.settle_in_order(inputs)
    if isinstance(settled, CaseError):
        raise _engine_error(settled) from settled
    return settled, context


def claim_trial(*, claim: Claim, acting_user=None) -> SettledClaim:
    """试算: the engine's result for the claim as it stands, with the person's current
    history; nothing is written (any status)."""
    _check(acting_user, "claims.view_claim", claim)
    return _run_engine(claim)[0]


LAYER_FIELDS = [f for f in ClaimLayer._meta.concrete_fields if not f.primary_key]
_LAYER_COLUMNS = ("claim_id", "version", "is_current", "seq", "scheme_kind", "scheme_name", "paid", "deductible",
                  "ratio", "capped", "basis", "reason", "explanation", "param_refs", "items", "extra", "given",
                  "settled_at", "settled_by_id")
assert tuple(f.attname for f in LAYER_FIELDS) == _LAYER_COLUMNS, "layer_values: ClaimLayer's columns changed"
_JSON = json.JSONEncoder().encode  # what ``json.dumps`` with its defaults runs (the JSON fields' encoder)
_QUOTE = json.encoder.encode_basestring_ascii
_NO_ITEMS = JsonText("[]")


def _extra_json(extra) -> JsonText:
    """``LayerResult.extra`` as the JSON text ``json.dumps(dict(extra))`` gives: text keys
    and values (what ``Calc.keep`` stores) quoted by the json module's own C function
    (``encode_basestring_ascii``), without an encoder object per line."""
    pairs = dict(extra).items()
    if all(type(k) is str and type(v) is str for k, v in pairs):
        return JsonText("{" + ", ".join([f"{_QUOTE(k)}: {_QUOTE(v)}" for k, v in pairs]) + "}")
    return JsonText(_JSON(dict(extra)))


def layer_values(claim: Claim, settled: SettledClaim, *, version: int, now, acting_user,
                 names: dict[str, str]) -> list[tuple]:
    """The result lines of a settlement version of ``claim`` as the values of
    ``ClaimLayer`` rows, one tuple per line in the order of ``LAYER_FIELDS`` (foreign
    keys by id): written as they are (``insert_layers``), without a model instance nor a
    dict per line. The JSON columns are JSON text (``bulk_sql.JsonText``): the parameter
    references joined from each reference's own, encoded once per plan year
    (``ParamRef.json``), the items and the extra figures encoded here."""
    user_id = getattr(acting_user, "pk", None)
    claim_id = claim.pk
    return [(claim_id, version, True, seq, lr.scheme, names.get(lr.scheme, lr.scheme), lr.paid, lr.deductible,
             lr.ratio, lr.capped, lr.basis, lr.reason, lr.explanation,
             JsonText(f"[{', '.join([r.json for r in lr.refs])}]"),
             JsonText(_JSON([_item_dict(i) for i in lr.items])) if lr.items else _NO_ITEMS,
             _extra_json(lr.extra), lr.given, now, user_id)
            for seq, lr in enumerate(settled.layers, 1)]


def insert_layers(rows: list[tuple]) -> None:
    """INSERT result lines given as ``layer_values`` returns them (``bulk_sql.insert_rows``:
    COPY on PostgreSQL)."""
    insert_rows(ClaimLayer, LAYER_FIELDS, rows, encoded=True)


def mark_settled(claim: Claim, settled: SettledClaim, *, version: int, now, acting_user) -> None:
    """Set the claim's settlement fields from the engine's result (not saved)."""
    fund = settled.fund_total
    claim.settlement_version = version
    claim.fund_total = fund
    claim.personal = claim.total - fund
    claim.settled_at = now
    claim.approved_at = None
    claim.status = Claim.Status.SETTLED
    claim.needs_resettle, claim.resettle_reason = False, ""
    if isinstance(claim, Claim):
        claim.settled_by = acting_user
        claim.approved_by = claim.resettle_cause = None
    else:  # a claim read as values (``fetch.ClaimRow``, batch settlement): the columns
        claim.settled_by_id = getattr(acting_user, "pk", None)
        claim.approved_by_id = claim.resettle_cause_id = None


def _store(claim: Claim, settled: SettledClaim, acting_user, names: dict[str, str]) -> None:
    """Write the result lines of a new settlement version as batch settlement writes them
    (``insert_layers``: no model instance, the parameter references encoded once
    per plan year) and set the claim's settlement fields (not saved)."""
    version = claim.settlement_version + 1
    now = timezone.now()
    if claim.settlement_version:  # a claim never settled has no lines yet
        claim.layers.filter(is_current=True).update(is_current=False)
    insert_layers(layer_values(claim, settled, version=version, now=now, acting_user=acting_user, names=names))
    mark_settled(claim, settled, version=version, now=now, acting_user=acting_user)


SETTLED_FIELDS = ["status", "settlement_version", "fund_total", "personal", "settled_at", "settled_by_id",
                  "approved_at", "approved_by_id", "status_reason", "needs_resettle",
                  "resettle_reason", "resettle_cause_id"]
"""The columns a settlement writes (``mark_settled``, ``_settle``; batch settlement's
``update_rows``)."""


def _settled_save(claim: Claim, acting_user, reason: str) -> Claim:
    """``_locked_save`` of a just settled claim: one UPDATE of the settlement's columns
    (``SETTLED_FIELDS`` and the review deadline ``_full_save`` recomputes), not of the
    whole row; its history row copied from the row just written by the database
    (``bulk_sql.insert_history_stored``: the row simple-history writes, without a
    historical model instance nor its values sent back)."""
    claim.skip_history_when_saving = True  # simple-history's own switch
    try:
        _locked_save(claim, acting_user, reason, update_fields=[*SETTLED_FIELDS, "review_due_date"])
    finally:
        del claim.skip_history_when_saving
    insert_history_stored(Claim, [claim.pk], user=acting_user, reason=reason, when=timezone.now(),
                          created=False)
    return claim


def _item_dict(item) -> dict:
    return {"code": item.code, "paid": str(item.paid), "deductible": str(item.deductible),
            "ratio": None if item.ratio is None else str(item.ratio),
            "basis": None if item.basis is None else str(item.basis),
            "capped": str(item.capped), "reason": item.reason, "explanation": item.explanation}


def regenerate_documents(claim: Claim, paid, acting_user, *, first: bool = False, rules=None) -> None:
    """(Re)generate the checklist from the DocumentRule rows for the layers' ``paid``
    amounts (scheme kind → paid, ``selectors.paid_by_scheme``); items already received
    and still required stay ticked. ``first``: the claim's first settlement — it has no
    checklist yet, whose items are then written in bulk (with their history rows), as
    batch settlement writes them. ``rules``: ``selectors.document_rules`` when already read."""
    required = selectors.required_documents(claim, paid, rules)
    if first:
        if required:
            docs = ClaimDocument.objects.bulk_create([
                ClaimDocument(claim=claim, scheme_kind=kind, rule=rule, code=rule.code, name=rule.name,
                              copies=rule.copies, seq=rule.seq) for kind, rule in required])
            insert_history_stored(ClaimDocument, [d.pk for d in docs], user=acting_user, reason=None,
                                  when=timezone.now(), created=True)
        return
    existing = {(d.scheme_kind, d.code): d for d in claim.documents.all()}
    keep = set()
    for kind, rule in required:
        doc = existing.get((kind, rule.code))
        if doc is None:
            doc = ClaimDocument(claim=claim, scheme_kind=kind, code=rule.code)
        doc.rule, doc.name, doc.copies, doc.seq = rule, rule.name, rule.copies, rule.seq
        _save(doc, acting_user)
        keep.add(doc.pk)
    for doc in existing.values():
        if doc.pk not in keep:
            doc._history_user = acting_user
            doc.delete()


_LOCKED_CLAIM = PreparedValues(lambda pk: Claim.objects.select_for_update(of=("self",)).filter(pk=pk).order_by()
                               .values_list(*fetch.CLAIM_COLUMNS, *(f"region__{c}" for c in fetch.REGION_COLUMNS)),
                               locking=True)


def _locked_for_settlement(pk: int) -> Claim:
    """``Claim.objects.select_for_update(of=("self",)).select_related("region").get(pk=pk)``
    by a statement compiled once per process (``PreparedValues``)."""
    rows = _LOCKED_CLAIM.rows(pk)
    if not rows:
        raise Claim.DoesNotExist("Claim matching query does not exist.")
    db, n = router.db_for_write(Claim), len(fetch.CLAIM_COLUMNS)
    claim = Claim.from_db(db, fetch.CLAIM_COLUMNS, rows[0][:n])
    _CLAIM_REGION.set_cached_value(claim, Region.from_db(db, fetch.REGION_COLUMNS, rows[0][n:]))
    return claim


_CLAIM_REGION = Claim._meta.get_field("region")


def _settle(claim: Claim, acting_user, *, allowed, action: str, reason: str = "") -> Claim:
    """Settle ``claim`` (in one of ``allowed``) as a new version. An approved or paid
    claim (re-settled after a reversal it depended on) keeps its status and approval."""
    # Lock the person first: every settlement of this person waits here, then reads the
    # history committed by the one before it (README §6 concurrent settlement).
    persons = fetch.lock_persons([claim.person_id])
    # the claim's row locked without joins (planning a five-table join cost the database
    # more than the rest of the read); its person is the row just locked, its hospital and
    # disease are read with those of the history (``fetch.RegionYear.attach``)
    locked = _locked_for_settlement(claim.pk)
    if locked.status not in allowed:
        raise _status_error(locked, action)
    kept = (locked.status, locked.approved_at, locked.approved_by)
    first = locked.settlement_version == 0
    settled, context = _run_engine(locked, persons)
    _store(locked, settled, acting_user, context.names)
    if kept[0] in Claim.REVERSIBLE:
        locked.status, locked.approved_at, locked.approved_by = kept
    locked.status_reason = ""
    _settled_save(locked, acting_user, reason or action)
    regenerate_documents(locked, settled.paid_by_scheme(), acting_user, first=first,
                         rules=selectors.document_rules(context.region, context.year,
                                                        plan_years=context.plan_years))
    return locked


@transaction.atomic
def claim_settle(*, claim: Claim, acting_user) -> Claim:
    """结算 a claim in 录入 or 退回: run the engine, store the result lines as a new
    version, generate the documents checklist."""
    _check(acting_user, "claims.settle_claim", claim)
    settled = _settle(claim, acting_user, allowed=Claim.EDITABLE, action="结算")
    audit_record(action=Action.SETTLE, user=acting_user, obj=settled, details={"operation": "结算"})
    return settled


@transaction.atomic
def claim_resettle(*, claim: Claim, acting_user, reason: str = "") -> Claim:
    """重新结算 a settled (not yet approved) claim, e.g. after its parameters changed:
    explicit, the old lines are kept as history (README §4.8).

    A claim flagged 待重新结算 (``needs_resettle``: a claim of the person it depended on
    was reversed, returned or re-settled) may also be approved or paid: 批准重新结算
    (needs ``claims.approve_claim`` too) re-settles it keeping its approval, reverses its
    待遇核定 and books the new one, so that a paid claim owes the difference (status back to
    已审核, paid by ``claim_pay``) or has an amount to recover (``claim_recover``). The flag
    is cleared. When the result changed, the person's claims settled after it are flagged
    in their turn (docs/money.md §冲正与重新结算)."""
    _check(acting_user, "claims.settle_claim", claim)
    current = Claim.objects.only("status", "needs_resettle", "resettle_reason").get(pk=claim.pk)
    flagged = current.needs_resettle
    allowed = (Claim.Status.SETTLED, *Claim.REVERSIBLE) if flagged else (Claim.Status.SETTLED,)
    if flagged and current.status in Claim.REVERSIBLE:
        _check(acting_user, "claims.approve_claim", claim)
    words = (reason or "").strip() or (current.resettle_reason if flagged else "")
    text = f"重新结算：{words}" if words else "重新结算"
    before = Claim.objects.only("settled_at").get(pk=claim.pk).settled_at
    old_paid = selectors.paid_by_scheme(ClaimLayer.objects.filter(claim_id=claim.pk, is_current=True))
    settled = _settle(claim, acting_user, allowed=allowed, reason=text,
                      action="重新结算（已审核、已支付的理赔仅在标记为待重新结算时可以重新结算）"
                      if current.status in Claim.REVERSIBLE else "重新结算")
    if settled.status in Claim.REVERSIBLE:  # the ledger follows the new amounts
        ledger.source_reverse(source_kind=SourceKind.CLAIM, source_id=settled.pk,
                              kinds=[Journal.Kind.CLAIM_PAYABLE], acting_user=acting_user,
                              memo=f"重新结算冲销原待遇核定：{words}" if words else "重新结算冲销原待遇核定")
        ledger.journals_write(postings.payable_specs([settled], booked_on=timezone.localdate()),
                              acting_user=acting_user)
        if settled.status == Claim.Status.PAID and postings.outstanding([settled.pk]):
            settled.status = Claim.Status.APPROVED  # a difference to pay or to recover
            _locked_save(settled, acting_user, "重新结算后有差额待支付或待追回")
    new_paid = selectors.paid_by_scheme(settled.current_layers())
    flagged_now = []
    if new_paid != old_paid:
        flagged_now = _flag_dependents(settled, since=before, why="重新结算后结算结果改变",
                                       acting_user=acting_user)
    audit_record(action=Action.SETTLE, user=acting_user, obj=settled, details={
        "operation": "批准重新结算" if flagged else text, **({"reason": words} if words else {}),
        **({"flagged": [str(c) for c in flagged_now]} if flagged_now else {})})
    return settled


# --------------------------------------------------------------------------- reversal


def dependent_claims(claim: Claim, *, since):
    """The person's other counted claims of the same region and plan year settled at or
    after ``since`` (the settlement time of ``claim``'s current version): each read
    ``claim`` in its year-to-date history (``fetch.counted_claims``: every counted claim of
    the year, whatever its service date), so its result may depend on it."""
    if since is None:
        return Claim.objects.none()
    return (Claim.objects.filter(person_id=claim.person_id, region_id=claim.region_id,
                                 year=claim.year, status__in=Claim.COUNTED, settled_at__gte=since)
            .exclude(pk=claim.pk))


def _flag_dependents(claim: Claim, *, since, why: str, acting_user) -> list[Claim]:
    """Flag ``dependent_claims`` 待重新结算 (those already flagged keep their first reason)."""
    out = []
    for other in (dependent_claims(claim, since=since).filter(needs_resettle=False)
                  .select_for_update(of=("self",)).order_by("settled_at", "id")):
        other.needs_resettle = True
        other.resettle_reason = f"理赔“{claim}”{why}"[:300]
        other.resettle_cause = claim
        _save(other, acting_user, f"待重新结算：{other.resettle_reason}",
              update_fields=["needs_resettle", "resettle_reason", "resettle_cause"])
        out.append(other)
    return out


@transaction.atomic
def claim_reverse(*, claim: Claim, acting_user, reason: str) -> Claim:
    """冲正 an approved or paid claim (``claims.reverse_claim``, reason required): its
    待遇核定 journals are reversed (a paid claim's 应付待遇 then shows a debit balance: the
    money paid, to recover with ``claim_recover`` or to net against the re-settlement), it
    leaves the counted statuses (status 已冲正: the person's annual limits and YTD sums no
    longer include it) and may be corrected and settled again as a new version (the old
    versions' lines stay visible) or voided. The person's claims settled after it are
    flagged 待重新结算 (``dependent_claims``)."""
    _check(acting_user, "claims.reverse_claim", claim)
    text = _reason(reason, "冲正")
    fetch.lock_persons([claim.person_id])  # serialised with the person's settlements
    locked = _locked(claim)
    if not locked.can_move_to(Claim.Status.REVERSED):
        raise _status_error(locked, "冲正（仅已审核或已支付的理赔可以冲正）")
    _payment_holds(locked)
    was = locked.get_status_display()
    journals = ledger.source_reverse(source_kind=SourceKind.CLAIM, source_id=locked.pk,
                                     kinds=[Journal.Kind.CLAIM_PAYABLE], acting_user=acting_user,
                                     memo=f"冲正：{text}")
    locked.status = Claim.Status.REVERSED
    locked.status_reason = text
    locked.reversed_at = timezone.now()
    locked.reversed_by = acting_user
    locked.approved_at = locked.approved_by = None  # the approval is undone; 支付时间 stays
    locked.needs_resettle, locked.resettle_reason, locked.resettle_cause = False, "", None
    _locked_save(locked, acting_user, f"冲正：{text}")
    flagged = _flag_dependents(locked, since=locked.settled_at, why=f"已冲正（{text}）",
                               acting_user=acting_user)
    recover = sum(postings.recoverable([locked.pk]).values(), ZERO)
    audit_record(action=Action.REVIEW, user=acting_user, obj=locked, details={
        "operation": "冲正", "reason": text, "from_status": was, "journals": journals,
        "recoverable": str(recover), "flagged": [str(c) for c in flagged]})
    return locked


@transaction.atomic
def claim_recover(*, claim: Claim, acting_user, reference: str = "", received_on=None) -> Claim:
    """登记追回 (``claims.pay_claim``): the money paid on a claim and no longer owed — the
    debit balance of its 应付待遇 after a reversal or a lower re-settlement — was received
    back; books 待遇追回 (基金存款 debit / 应付待遇 credit) per fund. An approved claim with
    nothing left to pay or recover is then 已支付."""
    _check(acting_user, "claims.pay_claim", claim)
    locked = _locked(claim)
    if locked.status not in (Claim.Status.APPROVED, Claim.Status.REVERSED, Claim.Status.VOID):
        raise _status_error(locked, "登记追回")
    specs = postings.recovered_specs([locked], booked_on=received_on or timezone.localdate(),
                                     reference=(reference or "").strip())
    if not specs:
        raise ValidationError("该理赔没有待追回的多付待遇", code="nothing_to_recover")
    ledger.journals_write(specs, acting_user=acting_user)
    amount = sum((postings.money_of(s) for s in specs), ZERO)
    if locked.status == Claim.Status.APPROVED and not postings.outstanding([locked.pk]):
        locked.status = Claim.Status.PAID
        locked.paid_at = timezone.now()
        locked.paid_by = acting_user
    _locked_save(locked, acting_user, f"登记追回 {fmt(amount)} 元")
    audit_record(action=Action.REVIEW, user=acting_user, obj=locked, details={
        "operation": "登记追回", "amount": str(amount),
        **({"reference": reference.strip()} if (reference or "").strip() else {})})
    return locked


# --------------------------------------------------------------------------- workflow


@transaction.atomic
def claim_approve(*, claim: Claim, acting_user) -> Claim:
    """审核通过 (reviewer): refused while the documents checklist is incomplete."""
    _check(acting_user, "claims.approve_claim", claim)
    locked = _locked(claim)
    if not locked.can_move_to(Claim.Status.APPROVED):
        raise _status_error(locked, "审核")
    refusal = separation_refusal(DutySeparation.Act.CLAIM_APPROVE, acting_user, {
        DutySeparation.Prior.CLAIM_ENTER: locked.created_by_id,
        DutySeparation.Prior.CLAIM_SETTLE: locked.settled_by_id})
    if refusal:
        raise ValidationError(refusal, code="duty_separation")
    missing = list(selectors.missing_documents(locked))
    if missing:
        raise ValidationError({"documents": ValidationError(
            "理赔所需资料未收齐，不能审核通过：" + "、".join(d.name for d in missing),
            code="documents_missing")})
    locked.status = Claim.Status.APPROVED
    locked.approved_at = timezone.now()
    locked.approved_by = acting_user
    ledger.journals_write(postings.payable_specs([locked], booked_on=timezone.localdate()),
                          acting_user=acting_user)  # 待遇核定
    return _audited_review(_locked_save(locked, acting_user, "审核通过"), acting_user, "审核通过")


PAYMENT_HOLDS: list = []
"""Callables ``(claim) -> Chinese refusal or None`` registered by the apps that pay
claims (``finance``: a claim in a 待回盘 payment-batch line cannot be returned nor
reversed); this app does not know them (they sit above it)."""


def _payment_holds(claim: Claim) -> None:
    """Refuse while the bank may be paying the claim (a registered ``PAYMENT_HOLDS``)."""
    for hold in PAYMENT_HOLDS:
        refusal = hold(claim)
        if refusal:
            raise ValidationError({"status": ValidationError(refusal, code="payment_pending")})


@transaction.atomic
def claim_pay(*, claim: Claim, acting_user, scheme_id: int, amount, reference: str, paid_on: date) -> Claim:
    """待遇支付 of one fund's part of an approved claim, as the bank's returned file says
    (called only by ``finance.services.batches`` for a success line): ``amount`` must be
    the fund's outstanding 应付待遇 of the claim; it is booked with the batch ``reference``.
    The claim is 已支付 once no fund owes anything on it."""
    _check(acting_user, "claims.pay_claim", claim)
    locked = _locked(claim)
    if not locked.can_move_to(Claim.Status.PAID):
        raise _status_error(locked, "支付（须先审核通过）")
    owed_back = sum(postings.recoverable([locked.pk]).values(), ZERO)
    if owed_back:
        raise ValidationError(f"该理赔重新结算后多付待遇 {fmt(owed_back)} 元，须先登记追回",
                              code="recovery_due")
    specs = [s for s in postings.paid_specs([locked], booked_on=paid_on, reference=reference)
             if s.scheme_id == scheme_id]
    owed = sum((amount for spec in specs for account, amount in spec.lines
                if account == "payable"), ZERO)
    if not specs or owed != amount:
        raise ValidationError(f"理赔“{locked.settlement_no}”该基金应付待遇为{fmt(owed)}元，"
                              f"与支付金额{fmt(amount)}元不符", code="amount_differs")
    ledger.journals_write(specs, acting_user=acting_user)  # 待遇支付
    if postings.outstanding([locked.pk]):
        locked.status_reason = ""
        return _locked_save(locked, acting_user, f"部分基金已支付（{reference}）")
    locked.status = Claim.Status.PAID
    locked.status_reason = ""
    locked.paid_at = timezone.now()
    locked.paid_by = acting_user
    return _locked_save(locked, acting_user, f"已支付（{reference}）")


@transaction.atomic
def claim_payment_failed(*, claim: Claim, acting_user, reason: str, reference: str) -> Claim:
    """The bank could not pay the claim (a failure line of the returned file): it stays
    已审核 — 待支付, owed, free for the next batch — with the bank's reason shown."""
    _check(acting_user, "claims.pay_claim", claim)
    locked = _locked(claim)
    if locked.status != Claim.Status.APPROVED:
        raise _status_error(locked, "登记支付失败")
    locked.status_reason = f"银行支付失败（{reference}）：{reason}"[:500]
    return _locked_save(locked, acting_user, locked.status_reason)


def _audited_review(claim: Claim, acting_user, operation: str, reason: str = "") -> Claim:
    audit_record(action=Action.REVIEW, user=acting_user, obj=claim,
                 details={"operation": operation, **({"reason": reason} if reason else {})})
    return claim


def _reason(reason: str, label: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"status_reason": f"请填写{label}原因"})
    return text


@transaction.atomic
def claim_return(*, claim: Claim, acting_user, reason: str) -> Claim:
    """退回 a settled or approved claim for correction: it no longer counts in the YTD
    history; after editing it is settled again (a new version)."""
    _check(acting_user, "claims.reject_claim", claim)
    text = _reason(reason, "退回")
    locked = _locked(claim)
    if not locked.can_move_to(Claim.Status.RETURNED):
        raise _status_error(locked, "退回")
    _payment_holds(locked)
    if locked.status == Claim.Status.APPROVED:  # its 待遇核定 is undone
        ledger.source_reverse(source_kind=SourceKind.CLAIM, source_id=locked.pk,
                              kinds=[Journal.Kind.CLAIM_PAYABLE], acting_user=acting_user,
                              memo=f"退回：{text}")
    locked.status = Claim.Status.RETURNED
    locked.status_reason = text
    locked.approved_at = locked.approved_by = None
    _locked_save(locked, acting_user, f"退回：{text}")
    # it leaves the YTD history: the person's claims settled after it read it
    _flag_dependents(locked, since=locked.settled_at, why=f"已退回（{text}）", acting_user=acting_user)
    return _audited_review(locked, acting_user, "退回", text)


@transaction.atomic
def claim_void(*, claim: Claim, acting_user, reason: str) -> Claim:
    """作废 a claim not yet approved (terminal; never counts in the YTD history)."""
    _check(acting_user, "claims.reject_claim", claim)
    text = _reason(reason, "作废")
    locked = _locked(claim)
    if not locked.can_move_to(Claim.Status.VOID):
        raise _status_error(locked, "作废")
    locked.status = Claim.Status.VOID
    locked.status_reason = text
    return _audited_review(_locked_save(locked, acting_user, f"作废：{text}"), acting_user, "作废", text)


@transaction.atomic
def claim_documents_receive(*, claim: Claim, acting_user, received: dict[int, bool]) -> Claim:
    """Tick (or untick) items of the checklist: ``{document id: received}``. Allowed until
    the claim is approved."""
    _check(acting_user, "claims.change_claim", claim)
    locked = _locked(claim)
    if locked.status not in (Claim.Status.SETTLED, Claim.Status.RETURNED):
        raise _status_error(locked, "登记理赔资料")
    now = timezone.now()
    for doc in locked.documents.filter(pk__in=list(received)):
        flag = bool(received[doc.pk])
        if flag == doc.received:
            continue
        doc.received = flag
        doc.received_at = now if flag else None
        doc.received_by = acting_user if flag else None
        _save(doc, acting_user)
    return locked
