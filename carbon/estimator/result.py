"""Result types of an estimate (plain frozen dataclasses, JSON-able via ``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from carbon.estimator.trade_params import DEFAULT_CHANNEL


@dataclass(frozen=True, slots=True)
class MatchedReference:
    manufacturer: str
    name: str
    source_url: str


def _range(t, ndigits: int | None = 3) -> dict:
    if ndigits is None:
        return {"low": int(t[0]), "central": int(t[1]), "high": int(t[2])}
    return {"low": round(t[0], ndigits), "central": round(t[1], ndigits),
            "high": round(t[2], ndigits)}


@dataclass(frozen=True)
class Estimate:
    """One estimate. Ranges are (low, central, high); low/high bound an 80% interval.

    ``ewaste_avoided_g`` are integer grams; ``credit_note`` is set when the credit is
    withheld (see ``carbon.estimator.integrity``): avoided, e-waste and materials are then 0.
    """

    embodied: tuple[float, float, float]
    avoided: tuple[float, float, float]
    method: str
    matched_reference: MatchedReference | None
    methodology_version: str
    assumptions: dict = field(default_factory=dict)
    ewaste_avoided_g: tuple[int, int, int] = (0, 0, 0)
    materials_avoided_kg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    channel: str = DEFAULT_CHANNEL
    credit_note: str | None = None

    def to_dict(self) -> dict:
        m = self.matched_reference
        return {
            "embodied_kgco2e": _range(self.embodied),
            "avoided_kgco2e": _range(self.avoided),
            "ewaste_avoided_g": _range(self.ewaste_avoided_g, None),
            "materials_avoided_kg": _range(self.materials_avoided_kg),
            "method": self.method,
            "matched_reference": None if m is None else {
                "manufacturer": m.manufacturer, "name": m.name, "source_url": m.source_url},
            "methodology_version": self.methodology_version,
            "channel": self.channel,
            "credit_note": self.credit_note,
            "assumptions": self.assumptions,
        }
