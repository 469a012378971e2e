"""Recycling credit: per-category, from the device weight and a sourced per-kg factor, always
smaller than reselling a working device of the category."""

import pytest

from carbon.estimator import Device, estimate
from carbon.estimator.parameters import CATEGORY_NAMES
from carbon.estimator.recycling import (
    FACTOR_KG_PER_KG,
    methodology,
    recycling_credit_g,
    recycling_credit_kg,
)
from carbon.estimator.trade_params import TYPICAL_WEIGHT_KG


@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_recycling_is_credited_less_than_resale(category):
    credit = recycling_credit_kg(category)
    assert 0 < credit["low"] < credit["central"] < credit["high"]
    resale = estimate(Device(category=category, condition="good")).avoided
    assert credit["central"] < resale[1], (category, credit, resale)
    assert recycling_credit_g(category) == round(credit["central"] * 1000)


def test_formula_and_weight():
    phone = TYPICAL_WEIGHT_KG["smartphone"].central
    assert recycling_credit_kg("smartphone")["central"] == pytest.approx(
        phone * FACTOR_KG_PER_KG.central, abs=1e-4)
    assert recycling_credit_kg("laptop", 2.0) == pytest.approx(
        {"low": 0.82, "central": 1.96, "high": 4.0})
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            recycling_credit_kg("laptop", bad)
    with pytest.raises(ValueError):
        recycling_credit_kg("toaster")
    # The sources are stated and the unsourced high end is labelled.
    assert "EPA WARM" in FACTOR_KG_PER_KG.source and "assumption" in FACTOR_KG_PER_KG.source
    assert set(methodology()["credits_kg_typical_device"]) == set(CATEGORY_NAMES)
