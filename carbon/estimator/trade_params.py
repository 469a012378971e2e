"""Parameters added in methodology 2027.1: survival shapes, trade routes, materials, e-waste,
typical weights and credit price floors. Same conventions as ``parameters.py``: every value
carries its source and a ``sourced`` flag; (low, central, high) are read as the 10th, 50th
and 90th percentiles of the parameter's distribution (an interpretation, stated in the docs).
"""

from __future__ import annotations

from dataclasses import asdict

from carbon.estimator.parameters import CATEGORY_NAMES, Param

_NO_SOURCE = "no published source found: product assumption"

# --- Residual life: Weibull total service life (first + second life) per category -------
# Scale is set so that the Weibull mean equals lifetime + second_life (parameters.py).
# No published Weibull fit of consumer-electronics service life was available to the
# project: shape 2 (increasing hazard, i.e. wear-out; a Rayleigh-type life) is an assumption.
_SHAPE_ASSUMED = Param(2.0, 2.0, 2.0, "Weibull shape",
                       "assumption: shape > 1 (wear-out) as usual in reliability work; no "
                       "published fit found for this category", False)
WEIBULL_SHAPE: dict[str, Param] = {c: _SHAPE_ASSUMED for c in CATEGORY_NAMES}

# for_parts devices: no residual-life credit; only parts reuse, as a share of the
# residual-life factor of a working unit. Assumption.
PARTS_REUSE = Param(0.02, 0.05, 0.10, "share",
                    "for_parts devices: credit only for parts reuse; " + _NO_SOURCE, False)

# --- Route of the trade (E_trade) ---------------------------------------------------------
CHANNELS: tuple[str, ...] = ("parcel", "local_pickup", "refurbished")
CHANNEL_CODE = {c: i for i, c in enumerate(CHANNELS)}
DEFAULT_CHANNEL = "parcel"

_PARCEL = "packaging + parcel delivery: " + _NO_SOURCE
PARCEL_SMALL = Param(0.2, 0.5, 1.5, "kgCO2e", _PARCEL + " (small parcel)", False)
PARCEL_MEDIUM = Param(0.5, 1.0, 3.0, "kgCO2e", _PARCEL + " (medium parcel)", False)
PARCEL_BULKY = Param(1.0, 3.0, 8.0, "kgCO2e", _PARCEL + " (bulky parcel)", False)
SIZE_CLASS: dict[str, str] = {
    "smartphone": "small", "smartwatch": "small", "headphones": "small", "camera": "small",
    "tablet": "medium", "laptop": "medium", "vr_headset": "medium", "console": "medium",
    "other": "medium", "desktop": "bulky", "monitor": "bulky", "tv": "bulky",
}
PARCEL = {"small": PARCEL_SMALL, "medium": PARCEL_MEDIUM, "bulky": PARCEL_BULKY}
LOCAL_PICKUP = Param(0.0, 0.0, 0.5, "kgCO2e",
                     "hand-over in person: about zero; high end allows a short dedicated car "
                     "trip. " + _NO_SOURCE, False)
REFURB_SMARTPHONE = Param(
    2.8, 2.8, 15.0, "kgCO2e",
    "low/central: Refurbed / Fraunhofer Austria (refurbished iPhone 11, 2.8 kg); high: Carbon "
    "Trust (about 15 kg incl. inspection, repair, packaging, transport)", True)
REFURB_SHARE = Param(
    0.053, 0.053, 0.28, "share of E_new",
    "refurbishment of non-phones, extrapolated from the smartphone figures (2.8-15 kg over a "
    "~53 kg median phone PCF); added to the parcel figure. Extrapolation: assumption", False)

# --- Materials and e-waste ------------------------------------------------------------------
# Typical weight when the seller gives none: median weight of the reference rows of the
# category where there are enough of them, else an assumption.
_MED = "median weight of the category's rows in the reference data"
TYPICAL_WEIGHT_KG: dict[str, Param] = {
    "smartphone": Param(0.143, 0.199, 0.29, "kg",
                        "central: Back Market / ADEME e-waste of a new phone (199 g); range: "
                        "p10-p90 of reference rows", True),
    "tablet": Param(0.43, 0.69, 0.86, "kg", _MED + " (6 rows)", True),
    "laptop": Param(1.24, 1.63, 2.2, "kg", _MED + " (p10-p90)", True),
    "desktop": Param(1.4, 5.26, 11.2, "kg", _MED + " (p10-p90)", True),
    "monitor": Param(3.33, 5.79, 10.9, "kg", _MED + " (p10-p90)", True),
    "console": Param(2.35, 3.58, 4.25, "kg", _MED + " (4 rows)", True),
    "smartwatch": Param(0.03, 0.04, 0.06, "kg", _NO_SOURCE, False),
    "tv": Param(6.0, 12.0, 25.0, "kg", _NO_SOURCE, False),
    "vr_headset": Param(0.3, 0.5, 0.7, "kg", _NO_SOURCE, False),
    "headphones": Param(0.05, 0.25, 0.4, "kg", _NO_SOURCE, False),
    "camera": Param(0.3, 0.6, 1.5, "kg", _NO_SOURCE, False),
    "other": Param(0.1, 0.43, 1.5, "kg", _MED + " ('other' rows)", True),
}
# E-waste avoided per kg of the displaced new device (1:1 substitution, before D and F_life).
EWASTE_SHARE_PHONE = Param(
    0.88, 0.88, 1.0, "kg e-waste avoided per kg of device",
    "Back Market / ADEME preliminary results on refurbished smartphones: 199 g e-waste per new "
    "phone vs 24 g per refurbished one (175 g avoided = 0.88 of 199 g); high: no part "
    "replaced (peer-to-peer resale)", True)
EWASTE_SHARE_OTHER = Param(0.88, 0.88, 1.0, "kg e-waste avoided per kg of device",
                           "smartphone ratio applied to other categories: assumption", False)
MATERIALS_PER_KG_PHONE = Param(
    171.0, 186.0, 201.0, "kg raw materials avoided per kg of device",
    "Back Market / ADEME: 34-40 kg of raw materials avoided per refurbished phone (44 kg new "
    "vs 4-10 kg refurbished), over the 199 g phone", True)
MATERIALS_PER_KG_OTHER = Param(
    20.0, 50.0, 200.0, "kg raw materials avoided per kg of device",
    "other categories (less electronics per kg than a phone): " + _NO_SOURCE, False)

# --- Credit integrity: per-category price floors ---------------------------------------------
# A trade priced below the floor credits 0 g and earns no rewards (anti wash-trading).
PRICE_FLOOR_CURRENCY = "EUR"
PRICE_FLOORS: dict[str, int] = {      # EUR minor units (cents); product assumption
    "smartphone": 2000, "tablet": 2000, "laptop": 5000, "desktop": 5000, "monitor": 2000,
    "console": 3000, "smartwatch": 1000, "tv": 3000, "vr_headset": 2000, "headphones": 500,
    "camera": 1000, "other": 500,
}
PRICE_FLOOR_SOURCE = ("product assumption (no published source): below this price a working "
                      "device is implausible, so the trade is not credited")


def ewaste_share(cat: str) -> Param:
    return EWASTE_SHARE_PHONE if cat == "smartphone" else EWASTE_SHARE_OTHER


def materials_per_kg(cat: str) -> Param:
    return MATERIALS_PER_KG_PHONE if cat == "smartphone" else MATERIALS_PER_KG_OTHER


def parameter_table() -> dict[str, dict]:
    """JSON-able rows of this module's parameters (merged into the methodology table)."""
    table: dict[str, dict] = {
        "parts_reuse_share": asdict(PARTS_REUSE),
        "e_trade.local_pickup": asdict(LOCAL_PICKUP),
        "e_trade.refurbished.smartphone": asdict(REFURB_SMARTPHONE),
        "e_trade.refurbished.share_of_embodied": asdict(REFURB_SHARE),
        "materials_per_kg.smartphone": asdict(MATERIALS_PER_KG_PHONE),
        "materials_per_kg.other_categories": asdict(MATERIALS_PER_KG_OTHER),
        "ewaste_share.smartphone": asdict(EWASTE_SHARE_PHONE),
        "ewaste_share.other_categories": asdict(EWASTE_SHARE_OTHER),
    }
    for size, p in PARCEL.items():
        table[f"e_trade.parcel.{size}"] = asdict(p)
    for cat in CATEGORY_NAMES:
        table[f"weibull_shape.{cat}"] = asdict(WEIBULL_SHAPE[cat])
        table[f"typical_weight.{cat}"] = asdict(TYPICAL_WEIGHT_KG[cat])
        table[f"price_floor.{cat}"] = {
            "low": PRICE_FLOORS[cat], "central": PRICE_FLOORS[cat], "high": PRICE_FLOORS[cat],
            "unit": f"{PRICE_FLOOR_CURRENCY} minor units", "source": PRICE_FLOOR_SOURCE,
            "sourced": False}
    return table
