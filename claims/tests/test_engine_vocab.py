"""The engine's names of the code vocabulary cover the code tables (policies.codes)."""
from insurance_rules import vocab
from policies import codes
from policies.models import LimitPool, RatioAdjustment


def test_every_code_has_a_name_in_the_engine():
    assert set(vocab.SCHEME_KIND_NAMES) == set(codes.SchemeKind.values)
    assert set(vocab.CLAIM_TYPE_NAMES) == set(codes.ClaimType.values)
    assert set(vocab.DELIVERY_MODE_NAMES) == set(codes.DeliveryMode.values)
    assert set(vocab.ADMIN_LEVEL_NAMES) == set(codes.AdminLevel.values)
    assert set(vocab.LOCATION_NAMES) - {""} == set(codes.Location.values) | set(codes.LocationScope.values)
    assert set(vocab.POOL_NAMES) == set(LimitPool.values)
    assert set(vocab.ADJUSTMENT_NAMES) == set(RatioAdjustment.Code.values)
    assert set(vocab.DRUG_CLASS_NAMES) == set(codes.DrugClass.values)


def test_scheme_kind_names_agree():
    for kind, name in codes.SchemeKind.choices:
        assert vocab.SCHEME_KIND_NAMES[kind] == name
