"""The one versioned parameter table of the footprint estimator.

Every number used by the avoided-emissions formula and the category defaults lives here or
in ``trade_params.py``, with its source and a ``sourced`` flag. Values are
``(low, central, high)``; since 2027.1 *low* and *high* are read as the 10th and 90th
percentiles of the parameter's distribution, and the avoided interval is obtained by
propagating those distributions (``avoided.py``), not by compounding worst cases.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass

METHODOLOGY_VERSION = "2027.1"
CURRENT_YEAR = datetime.date.today().year

DATA_ATTRIBUTION = "Boavizta environmental-footprint-data (ODbL)"
DATA_LICENCE = "Open Database License (ODbL 1.0); contents under DbCL 1.0"
DATA_URL = "https://github.com/Boavizta/environmental-footprint-data"

# Category order is the integer code used by the vectorised batch API: do not reorder.
CATEGORY_NAMES: tuple[str, ...] = (
    "smartphone", "tablet", "laptop", "desktop", "monitor", "console",
    "smartwatch", "tv", "vr_headset", "headphones", "camera", "other",
)
CATEGORY_CODE = {c: i for i, c in enumerate(CATEGORY_NAMES)}
MODELLED_CATEGORIES: tuple[str, ...] = ("smartphone", "tablet", "laptop", "desktop", "monitor")
BATTERY_CATEGORIES = frozenset(
    {"smartphone", "tablet", "laptop", "smartwatch", "vr_headset", "headphones", "camera"}
)

CONDITIONS: tuple[str, ...] = ("new", "like_new", "good", "fair", "for_parts")
CONDITION_CODE = {c: i for i, c in enumerate(CONDITIONS)}


@dataclass(frozen=True)
class Param:
    low: float
    central: float
    high: float
    unit: str
    source: str
    sourced: bool

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.low, self.central, self.high)


_BOAVIZTA_API = "Boavizta API device archetypes (ADEME / NegaOctet)"
_PCF = "median (p10-p90) of manufacturer PCFs in Boavizta environmental-footprint-data"
_NO_SOURCE = "no published source found: product assumption"

# --- Avoided-emissions parameters -------------------------------------------------------
DISPLACEMENT = Param(
    0.28, 0.50, 0.72, "share",
    "low: Vinted/Vaayu 2023 (39% replacement) x (1 - 0.29 rebound, Makov & Font Vivanco 2018, "
    "Frontiers in Energy Research, doi 10.3389/fenrg.2018.00039); central: eBay recommerce "
    "impact method (Anthesis); high: thredUP / Green Story",
    True,
)
UNKNOWN_AGE_F_LIFE = Param(
    0.25, 0.50, 0.75, "share",
    "central: eBay recommerce method ('half a new item's life'); the 0.25-0.75 range is an "
    "assumption (no source)",
    False,
)

# Typical first-life (new) lifetime in years, per category, and second-life extension.
LIFETIME: dict[str, Param] = {
    "smartphone": Param(2.5, 3.0, 3.5, "years", "Boavizta API archetype; research notes", True),
    "tablet": Param(3.0, 3.0, 3.0, "years", _BOAVIZTA_API, True),
    "laptop": Param(4.0, 4.5, 5.0, "years", _BOAVIZTA_API, True),
    "desktop": Param(6.0, 6.0, 6.0, "years", _BOAVIZTA_API, True),
    "monitor": Param(6.6, 6.6, 6.6, "years", _BOAVIZTA_API, True),
    "tv": Param(8.0, 8.0, 8.0, "years", _BOAVIZTA_API, True),
    "console": Param(5.0, 6.0, 7.0, "years", _NO_SOURCE, False),
    "smartwatch": Param(2.0, 3.0, 4.0, "years", _NO_SOURCE, False),
    "vr_headset": Param(2.0, 3.0, 4.0, "years", _NO_SOURCE, False),
    "headphones": Param(2.0, 3.0, 4.0, "years", _NO_SOURCE, False),
    "camera": Param(4.0, 5.0, 7.0, "years", _NO_SOURCE, False),
    "other": Param(3.0, 4.0, 6.0, "years", _NO_SOURCE, False),
}
SECOND_LIFE: dict[str, Param] = {
    "smartphone": Param(2.0, 2.0, 2.0, "years",
                        "ADEME 2022 refurbishment study (+2 years of second life)", True),
}
_NO_SECOND_LIFE = Param(0.0, 0.0, 0.0, "years",
                        "no sourced second-life extension for this category: none assumed", False)

CONDITION_FACTOR: dict[str, Param] = {
    "new": Param(1.0, 1.0, 1.0, "factor", _NO_SOURCE, False),
    "like_new": Param(0.95, 1.0, 1.0, "factor", _NO_SOURCE, False),
    "good": Param(0.85, 1.0, 1.0, "factor", _NO_SOURCE, False),
    "fair": Param(0.6, 0.8, 0.9, "factor", _NO_SOURCE, False),
    "for_parts": Param(0.02, 0.05, 0.10, "factor",
                       "no residual-life credit; parts reuse only: " + _NO_SOURCE, False),
    "unknown": Param(0.85, 1.0, 1.0, "factor", _NO_SOURCE + " (unknown condition = good)", False),
}
# Battery health factor = clip(1 - (threshold - health) / span, floor, 1); battery devices only.
BATTERY_THRESHOLD_PCT = Param(80.0, 80.0, 80.0, "%", _NO_SOURCE, False)
BATTERY_SPAN_PCT = Param(100.0, 100.0, 100.0, "%", _NO_SOURCE, False)
BATTERY_FLOOR = Param(0.5, 0.5, 0.5, "factor", _NO_SOURCE, False)

# E_trade (route of the trade) lives in trade_params.py since 2027.1.

# --- Category defaults (embodied kg CO2e of one new unit) -------------------------------
# Used for method 'category-default' and as a prior; (low, central, high) is a wide range.
CATEGORY_DEFAULT: dict[str, Param] = {
    "smartphone": Param(20.0, 53.0, 71.0, "kgCO2e", _PCF, True),
    "tablet": Param(33.0, 71.0, 112.0, "kgCO2e", _PCF, True),
    "laptop": Param(132.0, 236.0, 315.0, "kgCO2e", _PCF, True),
    "desktop": Param(187.0, 249.0, 403.0, "kgCO2e", _PCF, True),
    "monitor": Param(65.0, 333.0, 434.0, "kgCO2e",
                     _PCF + "; low end ADEME/NegaOctet 65 kg (sources disagree ~5x)", True),
    "console": Param(83.0, 154.0, 200.0, "kgCO2e",
                     "Xbox Series S 83 / Series X 154 (PCF totals x manufacturing share); "
                     "high end assumed", True),
    "smartwatch": Param(19.5, 24.5, 43.0, "kgCO2e",
                        "Apple Watch SE 24.5, Series 8 24.4, Ultra 43, Pixel Watch 19.5 (PCFs)",
                        True),
    "tv": Param(152.0, 360.0, 500.0, "kgCO2e",
                "ADEME/NegaOctet (Boavizta API): 360 personal, 152 pro; high end assumed", True),
    "vr_headset": Param(46.0, 67.0, 89.0, "kgCO2e",
                        "ADEME/NegaOctet (Boavizta API): 46 LCD, 89 OLED; central = midpoint",
                        True),
    "headphones": Param(2.0, 10.0, 30.0, "kgCO2e", _NO_SOURCE, False),
    "camera": Param(10.0, 30.0, 80.0, "kgCO2e", _NO_SOURCE, False),
    "other": Param(5.0, 50.0, 250.0, "kgCO2e", _NO_SOURCE, False),
}

# Flat per-category constants of Boavizta API, the published baseline for the CV table.
FLAT_BASELINE = {"laptop": 178.0, "smartphone": 84.0, "tablet": 76.0, "desktop": 277.0,
                 "monitor": 65.0}

# --- Model hyperparameters (picked by grouped cross-validation, see cv.py) --------------
RIDGE_ALPHA = 3.0
CV_FOLDS = 10
INNER_FOLDS = 5
CV_SEED = 20261
INTERVAL_QUANTILES = (0.10, 0.90)
MIN_ROWS_PER_CATEGORY_INTERVAL = 30


def parameter_table() -> dict[str, dict]:
    """JSON-able table of every parameter: name -> {low, central, high, unit, source, sourced}."""
    table: dict[str, dict] = {
        "displacement": asdict(DISPLACEMENT),
        "f_life_unknown_age": asdict(UNKNOWN_AGE_F_LIFE),
        "battery_health_threshold_pct": asdict(BATTERY_THRESHOLD_PCT),
        "battery_health_span_pct": asdict(BATTERY_SPAN_PCT),
        "battery_health_floor": asdict(BATTERY_FLOOR),
    }
    for cat in CATEGORY_NAMES:
        table[f"lifetime.{cat}"] = asdict(LIFETIME[cat])
        table[f"second_life.{cat}"] = asdict(SECOND_LIFE.get(cat, _NO_SECOND_LIFE))
        table[f"category_default_embodied.{cat}"] = asdict(CATEGORY_DEFAULT[cat])
    for cond, p in CONDITION_FACTOR.items():
        table[f"condition_factor.{cond}"] = asdict(p)
    return table


def second_life(cat: str) -> Param:
    return SECOND_LIFE.get(cat, _NO_SECOND_LIFE)
