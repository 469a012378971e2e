"""Methodology 2027.1: residual life, trade route, propagated intervals, materials, credit."""

import math

import numpy as np
import pytest

from carbon.estimator import (
    CHANNELS,
    PRICE_FLOORS,
    Device,
    InvalidDevice,
    apply_price_floor,
    below_price_floor,
    estimate,
    estimate_batch,
    resolve_devices,
    withhold_credit,
)
from carbon.estimator import avoided as A
from carbon.estimator import lifetime as L
from carbon.estimator.api import BATCH_CHUNK
from carbon.estimator.parameters import CATEGORY_CODE, CATEGORY_NAMES, CURRENT_YEAR

# Commonly resold devices (names as a seller types them; no screen size, no weight).
BASKET = [
    ("smartphone", "Apple", "iPhone 13"), ("smartphone", "Apple", "iPhone 11"),
    ("smartphone", "Samsung", "Galaxy S21"), ("smartphone", "Google", "Pixel 6"),
    ("smartphone", "Samsung", "Galaxy A52"), ("smartphone", "Xiaomi", "Redmi Note 10"),
    ("tablet", "Apple", "iPad Air"), ("tablet", "Samsung", "Galaxy Tab S7"),
    ("laptop", "Apple", "MacBook Air M1"), ("laptop", "Lenovo", "ThinkPad T14 Gen 2"),
    ("laptop", "Dell", "Latitude 5420"), ("laptop", "HP", "EliteBook 840 G7"),
    ("desktop", "Dell", "OptiPlex 7080 Micro"), ("desktop", "Apple", "iMac 24"),
    ("monitor", "Dell", "P2419H"), ("monitor", "LG", "27UL500"),
    ("console", "Sony", "PlayStation 5"), ("console", "Nintendo", "Switch"),
    ("smartwatch", "Apple", "Watch Series 6"), ("tv", "Samsung", "QE55Q60"),
    ("vr_headset", "Meta", "Quest 2"), ("headphones", "Sony", "WH-1000XM4"),
    ("camera", "Canon", "EOS M50"),
]


def _closed_form_shape2(x: float) -> float:
    """E[T - a | T > a] / E[T] for a Weibull of shape 2, at a = x * E[T]."""
    lam = 1.0 / math.gamma(1.5)
    return lam * math.sqrt(math.pi) / 2 * math.erfc(x / lam) / math.exp(-(x / lam) ** 2)


@pytest.mark.parametrize("x", [0.0, 0.1, 0.5, 1.0, 2.0, 4.0])
def test_residual_curve_matches_closed_form(x):
    assert L.residual_one(0, x * 5.0, 5.0) == pytest.approx(_closed_form_shape2(x), rel=1e-4)


def test_residual_curve_other_shape_is_mean_one_and_monotone():
    g = L.residual_curve(3.0)
    assert g[0] == 1.0 and (np.diff(g) <= 0).all() and (g > 0).all()
    with pytest.raises(ValueError):
        L.residual_curve(0.5)


@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_f_life_positive_non_increasing_and_at_most_new(category):
    ages = np.linspace(0, 40, 401)
    cat = np.full(ages.size, CATEGORY_CODE[category])
    for cond in range(6):
        f = A.f_life_bounds(cat, ages, np.full(ages.size, cond), np.full(ages.size, np.nan))
        for bound in f:
            assert (bound > 0).all()
            assert (np.diff(bound) <= 1e-12).all()
            assert (bound <= bound[0] + 1e-12).all()
        assert (f[0] <= f[1]).all() and (f[1] <= f[2]).all()


@pytest.mark.parametrize("category, brand, model", BASKET)
@pytest.mark.parametrize("age", [2, 3, 4, 5, 6])
def test_basket_working_devices_get_positive_credit(category, brand, model, age):
    year = CURRENT_YEAR - age
    for cond in ("like_new", "good"):
        with_year = estimate(Device(category, brand, model, release_year=year, condition=cond))
        without = estimate(Device(category, brand, model, condition=cond))
        assert with_year.avoided[1] > 0
        # Stating the year never turns a positive credit into zero.
        assert not (without.avoided[1] > 0 and with_year.avoided[1] == 0)
        assert with_year.ewaste_avoided_g[1] > 0 and with_year.materials_avoided_kg[1] > 0


@pytest.mark.parametrize("category, brand, model", BASKET)
def test_credit_never_increases_with_age(category, brand, model):
    vals = [estimate(Device(category, brand, model, age_years=a, condition="good")).avoided[1]
            for a in range(0, 15)]
    assert all(b <= a + 1e-9 for a, b in zip(vals, vals[1:], strict=False))


def test_two_year_old_phone_in_good_condition_has_positive_low_bound():
    for model in ("iPhone 13", "Galaxy S21", "Pixel 6"):
        brand = {"iPhone 13": "Apple", "Galaxy S21": "Samsung", "Pixel 6": "Google"}[model]
        e = estimate(Device("smartphone", brand, model, age_years=2, condition="good"))
        assert 0 < e.avoided[0] < e.avoided[1] < e.avoided[2]


def test_for_parts_keeps_only_a_small_parts_credit():
    good = estimate(Device("laptop", "Dell", "Latitude 5420", age_years=3, condition="good"))
    parts = estimate(Device("laptop", "Dell", "Latitude 5420", age_years=3,
                            condition="for_parts"))
    assert 0 <= parts.avoided[1] <= 0.1 * good.avoided[1]
    assert parts.assumptions["f_life"][1] == pytest.approx(good.assumptions["f_life"][1] * 0.05)


def test_channels_order_and_refurbished_phone_figures():
    base = dict(category="smartphone", brand="Apple", model="iPhone 13 mini", storage_gb=128,
                age_years=2, condition="good")
    e = {c: estimate(Device(**base, channel=c)) for c in CHANNELS}
    assert e["local_pickup"].avoided[1] > e["parcel"].avoided[1] > e["refurbished"].avoided[1]
    assert e["refurbished"].assumptions["e_trade_kgco2e"] == (2.8, 2.8, 15.0)
    assert e["local_pickup"].assumptions["e_trade_kgco2e"][1] == 0.0
    assert estimate(Device(**base)).channel == "parcel" == e["parcel"].to_dict()["channel"]
    laptop = dict(category="laptop", brand="Dell", model="Latitude 5420", age_years=2)
    refurb = estimate(Device(**laptop, channel="refurbished"))
    # Non-phones: parcel + 5.3% of E_new for refurbishment.
    assert refurb.assumptions["e_trade_kgco2e"][1] == pytest.approx(
        1.0 + 0.053 * refurb.embodied[1])
    with pytest.raises(InvalidDevice) as exc:
        estimate(Device(**base, channel="drone"))
    assert "channel" in exc.value.errors


def _split(rng, lo, c, hi, n, log=True):
    z = rng.standard_normal(n)
    if log:
        s = np.where(z < 0, math.log(c / lo) / A.Z10, math.log(hi / c) / A.Z10)
        return c * np.exp(z * s)
    return c + z * np.where(z < 0, (c - lo) / A.Z10, (hi - c) / A.Z10)


@pytest.mark.parametrize("cat, e, age, cond, channel", [
    (0, (28.4, 51.7, 61.7), 2.0, 2, 0),
    (0, (50.0, 51.7, 53.0), 2.0, 2, 2),
    (2, (101.0, 137.0, 189.0), 6.0, 2, 0),
    (4, (312.0, 392.0, 475.0), 7.0, 1, 1),
    (0, (28.4, 51.7, 61.7), None, 5, 0),
    (9, (2.0, 10.0, 30.0), 4.0, 2, 0),
])
def test_avoided_interval_matches_monte_carlo(cat, e, age, cond, channel):
    """The analytic p10/p90 agree with a 400k-draw Monte Carlo of the same input laws."""
    o = A.avoided_one(cat, e, age, cond, None, channel)
    rng = np.random.default_rng(7)
    n = 400_000
    f, t = o["f_life"], o["e_trade"]
    x = (_split(rng, *e, n) * _split(rng, *A.D, n) * _split(rng, *f, n)
         - _split(rng, *t, n, log=False))
    q10, q90 = np.maximum(np.quantile(x, [0.1, 0.9]), 0)
    tol = 0.15 * (q90 - q10) + 0.2
    assert o["avoided"][0] == pytest.approx(q10, abs=tol)
    assert o["avoided"][2] == pytest.approx(q90, abs=tol)
    # Not the old compounding of worst ends, which gave 0 for the low bound here.
    worst = e[0] * A.D[0] * f[0] - t[2]
    assert o["avoided"][0] >= max(worst, 0.0)


def test_ewaste_and_materials_from_weight():
    d = Device("smartphone", "Apple", "iPhone 13 mini", storage_gb=128, age_years=0,
               condition="new", weight_kg=0.199)
    e = estimate(d)
    # Back Market / ADEME: 175 g of 199 g avoided at 1:1; x D 0.5 x F_life 1 (new).
    assert e.assumptions["f_life"][1] == pytest.approx(1.0)
    assert e.ewaste_avoided_g[1] == round(199 * 175 / 199 * 0.5 * 1.0)
    assert e.materials_avoided_kg[1] == pytest.approx(0.199 * 186.0 * 0.5, rel=1e-9)
    assert all(isinstance(v, int) for v in e.ewaste_avoided_g)
    assert e.ewaste_avoided_g[0] <= e.ewaste_avoided_g[1] <= e.ewaste_avoided_g[2]
    # Weight unknown: the typical weight of the category, with a wider range.
    typical = estimate(Device("smartphone", "Apple", "iPhone 13 mini", storage_gb=128,
                              age_years=0, condition="new"))
    assert typical.ewaste_avoided_g[1] == e.ewaste_avoided_g[1]
    assert typical.ewaste_avoided_g[2] > e.ewaste_avoided_g[2]
    heavy = estimate(Device("monitor", "Dell", "P2419H", weight_kg=5.0, age_years=1))
    light = estimate(Device("monitor", "Dell", "P2419H", weight_kg=2.5, age_years=1))
    assert heavy.ewaste_avoided_g[1] == pytest.approx(2 * light.ewaste_avoided_g[1], abs=1)


def test_withhold_credit_keeps_embodied_and_says_why():
    e = estimate(Device("laptop", "Dell", "Latitude 5420", age_years=2))
    w = withhold_credit(e, "wash trade suspected")
    assert w.avoided == (0.0, 0.0, 0.0) and w.ewaste_avoided_g == (0, 0, 0)
    assert w.materials_avoided_kg == (0.0, 0.0, 0.0)
    assert w.embodied == e.embodied and w.method == e.method
    assert w.to_dict()["credit_note"] == "wash trade suspected"
    assert e.credit_note is None            # the original is unchanged (frozen)
    with pytest.raises(ValueError):
        withhold_credit(e, "  ")


def test_price_floor():
    e = estimate(Device("laptop", "Dell", "Latitude 5420", age_years=2))
    assert below_price_floor("laptop", 100) and not below_price_floor("laptop", 30000)
    one_euro = apply_price_floor(e, "laptop", 100)
    assert one_euro.avoided == (0.0, 0.0, 0.0)
    assert "below_price_floor" in one_euro.credit_note and "1.00 EUR" in one_euro.credit_note
    assert apply_price_floor(e, "laptop", PRICE_FLOORS["laptop"]) is e
    with pytest.raises(ValueError):
        below_price_floor("laptop", 100, "USD")
    assert set(PRICE_FLOORS) == set(CATEGORY_NAMES)


def test_batch_equals_single_with_channels_and_materials():
    devs = [
        Device("smartphone", "Apple", "iPhone 13 Pro", storage_gb=181, age_years=2,
               channel="refurbished"),
        Device("laptop", "Dell", "Latitude 5420", release_year=2021, channel="local_pickup"),
        Device("monitor", "Dell", "P2419H", weight_kg=4.2, condition="fair"),
        Device("console", "Sony", "PlayStation 5", condition="for_parts", age_years=4),
        Device("tablet", "Samsung", "Galaxy Tab S7", battery_health_pct=60),
        Device("headphones"),
    ]
    out = estimate_batch(**resolve_devices(devs))
    for i, d in enumerate(devs):
        e = estimate(d)
        for name, val in (("avoided", e.avoided), ("ewaste_avoided_g", e.ewaste_avoided_g),
                          ("materials_avoided_kg", e.materials_avoided_kg)):
            got = [out[f"{name}_{k}"][i] for k in ("low", "central", "high")]
            np.testing.assert_allclose(got, val, rtol=1e-9, atol=1e-9)


def test_chunked_batch_equals_one_pass(est):

    rng = np.random.default_rng(3)
    n = BATCH_CHUNK * 2 + 17
    cols = dict(weight_kg=np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0.1, 10, n)),
                screen_inches=np.where(rng.random(n) < 0.5, np.nan, rng.uniform(5, 30, n)),
                release_year=rng.integers(2015, 2026, n).astype(float),
                channel=rng.integers(0, 3, n), condition=rng.integers(0, 6, n),
                ref_index=np.where(rng.random(n) < 0.3, rng.integers(0, len(est.rows), n), -1))
    cat = rng.integers(0, len(CATEGORY_NAMES), n)
    chunked = est.estimate_batch(cat, **cols)
    whole = est._batch(cat, **cols)
    assert set(chunked) == set(whole)
    for k in whole:
        np.testing.assert_array_equal(chunked[k], whole[k])
