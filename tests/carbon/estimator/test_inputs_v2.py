"""Inputs: screen size read from model codes, plausible ranges, sparse-input intervals."""

import pytest

from carbon.estimator import Device, InvalidDevice, estimate, get_estimator, validate_fields
from carbon.estimator.codes import screen_from_name
from carbon.estimator.cv import cross_validate
from carbon.estimator.names import parse_model_name
from carbon.estimator.reference import load_reference


@pytest.mark.parametrize("name, category, inches", [
    ("P2419H", "monitor", 24), ("U2720Q Monitor", "monitor", 27),
    ("SE2216H", "monitor", 22), ("ThinkVision T27p-10", "monitor", 27),
    ("G34w-10", "monitor", 34), ("Omen 27c", "monitor", 27), ("P24vb G4", "monitor", 24),
    ("27UL500-W", "monitor", 27), ("S24R350", "monitor", 24), ("UltraSharp 27", "monitor", 27),
    ("C8618QT", "monitor", 86),
    ("Latitude 5420", "laptop", 14), ("Precision 5530", "laptop", 15),
    ("XPS 13 9310", "laptop", 13), ("ThinkPad T14 Gen 2", "laptop", 14),
    ("ThinkPad T470p", "laptop", 14), ("ThinkPad W540", "laptop", 15),
    ("ThinkPad P71", "laptop", 17), ("ThinkPad X1 Carbon Gen 9", "laptop", 14),
    ("IdeaPad 510S-14ISK", "laptop", 14), ("IdeaPad 5 14ALC05", "laptop", 14),
    ("EliteBook 840 G7", "laptop", 14), ("ProBook 450 G8", "laptop", 15),
    ("ThinkBook 15", "laptop", 15), ("Legion 5 15", "laptop", 15),
])
def test_screen_from_model_codes(name, category, inches):
    assert screen_from_name(name, category) == inches


@pytest.mark.parametrize("name, category", [
    ("MacBook Air M1", "laptop"), ("Surface Laptop 3", "laptop"), ("E41-10", "laptop"),
    ("Monitor 2", "monitor"), ("Studio Display", "monitor"), (None, "monitor"),
    ("P2419H", "desktop"), ("Galaxy S21", "smartphone"),
])
def test_no_screen_when_the_name_does_not_state_it(name, category):
    assert screen_from_name(name, category) is None


def test_parsed_year_storage_and_ram_are_used():
    p = parse_model_name("Galaxy S21 256GB 8GB RAM 2021", "samsung")
    assert (p.storage_gb, p.ram_gb, p.year) == (256, 8, 2021)
    typed = estimate(Device("smartphone", "Samsung", "Galaxy S21 256GB 8GB RAM 2021"))
    given = estimate(Device("smartphone", "Samsung", "Galaxy S21", storage_gb=256, ram_gb=8,
                            release_year=2021))
    assert typed.embodied == given.embodied and typed.avoided == given.avoided
    # The monitor code's diagonal reaches the model (same as typing the screen size).
    code = estimate(Device("monitor", "LG", "27UL500", release_year=2020))
    typed = estimate(Device("monitor", "LG", "27UL500", screen_inches=27, release_year=2020))
    assert code.embodied == typed.embodied


def test_every_reference_device_is_plausible():
    for r in load_reference():
        errors = validate_fields({
            "category": r.category, "screen_inches": r.screen_inches,
            "weight_kg": r.weight_kg, "storage_gb": r.storage_gb, "ram_gb": r.ram_gb,
            "release_year": r.year})
        assert errors == {}, (r.name, errors)


def test_large_interactive_display_is_a_monitor_but_absurd_values_fail():
    assert estimate(Device("monitor", "Dell", "C7520QT", screen_inches=75, weight_kg=64))
    for bad in ({"screen_inches": 500}, {"weight_kg": 900}, {"storage_gb": 512}):
        with pytest.raises(InvalidDevice):
            estimate(Device("monitor", **bad))
    with pytest.raises(InvalidDevice):
        estimate(Device("laptop", weight_kg=80))


def test_missing_pattern_submodels_have_their_own_intervals():
    m = get_estimator().model
    nc = len(m.usable)
    laptop = 2
    full = m.q_hi[laptop] - m.q_lo[laptop]
    sparse = m.q_hi[3 * nc + laptop] - m.q_lo[3 * nc + laptop]
    assert sparse > full > 0          # less information, wider calibrated interval
    e_full = estimate(Device("laptop", "Lenovo", "ThinkPad E14", screen_inches=14,
                             weight_kg=1.6, release_year=2021))
    e_sparse = estimate(Device("laptop", "Lenovo", "ThinkPad E14", release_year=2021,
                               screen_inches=None))
    assert e_full.method == e_sparse.method == "model"


def test_grouped_cv_sparse_input_thresholds():
    overall = cross_validate(inputs="sparse")["table"]["overall"]["ours"]
    assert overall["median_ape"] <= 0.25
    assert 0.75 <= overall["coverage80"] <= 0.85
