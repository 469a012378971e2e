"""Everyday equivalents of an amount of CO2e, each with its factor and source.

Factors are published figures, kept here as data so the API can show them next to the result.
They describe emissions of the activity (driving, charging), which the avoided emissions of a
resale are compared with for scale only.
"""

from __future__ import annotations

from dataclasses import dataclass

_EPA = ("US EPA, Greenhouse Gas Equivalencies Calculator: Calculations and References "
        "(https://www.epa.gov/energy/greenhouse-gases-equivalencies-calculator-calculations-"
        "and-references)")


@dataclass(frozen=True)
class Equivalent:
    key: str
    label: str
    unit: str
    grams_per_unit: float
    factor_text: str
    source: str


EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        "car_km", "Distance driven by an average gasoline passenger car", "km",
        # 3.93e-4 t CO2e per mile = 393 g/mile; 1 mile = 1.609344 km.
        393.0 / 1.609344,
        "3.93 × 10⁻⁴ t CO2e per mile driven (244.2 g CO2e/km)", _EPA),
    Equivalent(
        "smartphone_charges", "Smartphone full charges", "charges", 8.22,
        "8.22 × 10⁻⁶ t CO2 per smartphone charged (8.22 g)", _EPA),
)


def equivalents(grams: int) -> list[dict]:
    return [{
        "key": e.key, "label": e.label, "unit": e.unit,
        "value": round(grams / e.grams_per_unit, 1),
        "factor_g_per_unit": round(e.grams_per_unit, 2),
        "factor": e.factor_text, "source": e.source,
    } for e in EQUIVALENTS]
