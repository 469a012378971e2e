"""Recycling credit: the emissions avoided when a device that is not worth reselling is handed
to a certified recycler, per category (pure Python + numpy, like the rest of the estimator).

    credit_kg = weight_kg x factor_kg_per_kg          (low / central / high)

- ``weight_kg``: the device's weight when known, else the category's typical weight
  (``trade_params.TYPICAL_WEIGHT_KG``, sourced where the table says so).
- ``factor``: kg CO2e avoided per kg of e-waste recycled (secondary materials replacing
  primary production, net of the recycling process), the same for every category:
  low 0.41 (US EPA WARM, mixed electronics: 0.370 t CO2e per short ton, as reproduced by
  RecycleSmart), central 0.98 (Lifecycles for ANZRP, Australia's National Television and
  Computer Recycling Scheme: 981 kg CO2e saved per tonne of TV and computer e-waste, 2015/16),
  high 2.0 (**assumption, no source**: small IT equipment is richer in precious metals per
  kg than the mixed streams measured).

Recycling credits are far smaller than resale credits (a recycled phone: about 0.2 kg, a
resold one about 12 kg): keeping a device in use avoids manufacturing a new one, recycling
only recovers part of its materials. ``RECYCLING_VERSION`` is stored on every credit.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from carbon.estimator.parameters import CATEGORY_NAMES, Param
from carbon.estimator.trade_params import TYPICAL_WEIGHT_KG

RECYCLING_VERSION = "recycling-2027.1"

FACTOR_KG_PER_KG = Param(
    0.41, 0.98, 2.0, "kgCO2e per kg of device recycled",
    "low: US EPA WARM, mixed electronics recycling, 0.370 t CO2e per short ton (as reproduced "
    "by RecycleSmart); central: Lifecycles for ANZRP (Australia), 981 kg CO2e saved per tonne "
    "of TV and computer e-waste recycled (2015/16); high 2.0: assumption, no source (small IT "
    "equipment is richer in precious metals than the mixed streams measured)", True)


def factor_for(category: str) -> Param:
    """The per-kg factor of a category (one factor for every category for now)."""
    if category not in CATEGORY_NAMES:
        raise ValueError(f"unknown category {category!r}")
    return FACTOR_KG_PER_KG


def recycling_credit_kg(category: str, weight_kg: float | None = None) -> dict[str, float]:
    """Credit of recycling one device, kg CO2e ``{low, central, high}``; the weight's and the
    factor's ends are combined (a product of two positive ranges)."""
    factor = np.array(factor_for(category).as_tuple())
    if weight_kg is not None:
        if not np.isfinite(weight_kg) or weight_kg <= 0:
            raise ValueError("weight_kg must be a positive number")
        weight = np.array([weight_kg] * 3)
    else:
        weight = np.array(TYPICAL_WEIGHT_KG[category].as_tuple())
    low, central, high = (weight * factor).round(4).tolist()
    return {"low": low, "central": central, "high": high}


def recycling_credit_g(category: str, weight_kg: float | None = None) -> int:
    """The central credit in integer grams (what the ledger credits)."""
    return round(recycling_credit_kg(category, weight_kg)["central"] * 1000)


def parameter_table() -> dict[str, dict]:
    return {"recycling.factor_per_kg": asdict(FACTOR_KG_PER_KG)}


def methodology() -> dict:
    return {
        "version": RECYCLING_VERSION,
        "formula": "credit_kg = weight_kg x factor_kg_per_kg (typical category weight when "
                   "the weight is unknown)",
        "factor_kg_per_kg": asdict(FACTOR_KG_PER_KG),
        "credits_kg_typical_device": {c: recycling_credit_kg(c) for c in CATEGORY_NAMES},
    }
