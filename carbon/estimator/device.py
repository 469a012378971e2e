"""Input types, plausible ranges and validation (reusable by the API layer)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from carbon.estimator.parameters import CATEGORY_NAMES, CONDITIONS, CURRENT_YEAR
from carbon.estimator.trade_params import CHANNELS

# Per-category plausible ranges, inclusive: field -> (min, max). One place, reused by the API.
# Every device of the reference data passes with a margin (tested): e.g. a 75-86 inch
# interactive display of up to 123 kg is a monitor; absurd values still fail.
_BIG = {"storage_gb": (0.0, 1_000_000.0), "ram_gb": (0.0, 2048.0)}
PLAUSIBLE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "smartphone": {"screen_inches": (1.0, 10.0), "storage_gb": (0.0, 4096.0),
                   "ram_gb": (0.0, 64.0), "weight_kg": (0.03, 1.0)},
    "tablet": {"screen_inches": (5.0, 20.0), "storage_gb": (0.0, 8192.0),
               "ram_gb": (0.0, 128.0), "weight_kg": (0.1, 3.0)},
    "laptop": {"screen_inches": (7.0, 21.0), "storage_gb": (0.0, 65536.0),
               "ram_gb": (0.0, 512.0), "weight_kg": (0.25, 20.0)},
    "desktop": {"screen_inches": (0.0, 50.0), **_BIG, "weight_kg": (0.1, 100.0)},
    "monitor": {"screen_inches": (5.0, 110.0), "storage_gb": (0.0, 0.0),
                "ram_gb": (0.0, 0.0), "weight_kg": (0.2, 200.0)},
    "console": {"screen_inches": (0.0, 10.0), "storage_gb": (0.0, 65536.0),
                "ram_gb": (0.0, 128.0), "weight_kg": (0.1, 20.0)},
    "smartwatch": {"screen_inches": (0.5, 3.0), "storage_gb": (0.0, 512.0),
                   "ram_gb": (0.0, 16.0), "weight_kg": (0.01, 0.5)},
    "tv": {"screen_inches": (10.0, 120.0), "storage_gb": (0.0, 1024.0),
           "ram_gb": (0.0, 64.0), "weight_kg": (1.0, 150.0)},
    "vr_headset": {"screen_inches": (0.0, 10.0), "storage_gb": (0.0, 4096.0),
                   "ram_gb": (0.0, 64.0), "weight_kg": (0.1, 3.0)},
    "headphones": {"screen_inches": (0.0, 0.0), "storage_gb": (0.0, 512.0),
                   "ram_gb": (0.0, 16.0), "weight_kg": (0.005, 2.0)},
    "camera": {"screen_inches": (0.0, 10.0), "storage_gb": (0.0, 4096.0),
               "ram_gb": (0.0, 64.0), "weight_kg": (0.02, 10.0)},
    "other": {"screen_inches": (0.0, 120.0), **_BIG, "weight_kg": (0.0, 200.0)},
}
# Monitors have no storage/RAM: allow 0 or missing only; keep the key for a uniform schema.
GLOBAL_RANGES: dict[str, tuple[float, float]] = {
    "release_year": (1990.0, float(CURRENT_YEAR)),
    "age_years": (0.0, 60.0),
    "battery_health_pct": (0.0, 100.0),
}
NUMERIC_FIELDS = ("storage_gb", "ram_gb", "screen_inches", "release_year", "weight_kg",
                  "age_years", "battery_health_pct")


class InvalidDevice(ValueError):
    """Invalid device description; ``errors`` maps field name -> list of messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        msg = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        super().__init__(f"invalid device: {msg}")


@dataclass(frozen=True, slots=True)
class Device:
    category: str
    brand: str | None = None
    model: str | None = None
    storage_gb: float | None = None
    ram_gb: float | None = None
    screen_inches: float | None = None
    release_year: int | None = None
    weight_kg: float | None = None
    condition: str | None = None
    age_years: float | None = None
    battery_health_pct: float | None = None
    channel: str | None = None          # 'parcel' (None = default) | 'local_pickup' | ...


def plausible_range(category: str, field: str) -> tuple[float, float] | None:
    """Inclusive (min, max) accepted for ``field`` in ``category`` or None if unconstrained."""
    if field in GLOBAL_RANGES:
        return GLOBAL_RANGES[field]
    return PLAUSIBLE_RANGES.get(category, {}).get(field)


def validate_fields(values: dict) -> dict[str, list[str]]:
    """Validate a mapping of Device fields; return errors (empty dict when valid)."""
    errors: dict[str, list[str]] = {}
    cat = values.get("category")
    if cat not in CATEGORY_NAMES:
        errors.setdefault("category", []).append(
            f"unknown category {cat!r}; valid categories: {', '.join(CATEGORY_NAMES)}")
        cat = "other"
    for field in NUMERIC_FIELDS:
        v = values.get(field)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            errors.setdefault(field, []).append("must be a number")
            continue
        if not math.isfinite(v):
            errors.setdefault(field, []).append("must be finite")
            continue
        if v < 0:
            errors.setdefault(field, []).append("must not be negative")
            continue
        rng = plausible_range(cat, field)
        if rng is not None and not (rng[0] <= v <= rng[1]):
            errors.setdefault(field, []).append(
                f"{v:g} is outside the plausible range {rng[0]:g}-{rng[1]:g} for {cat}")
    cond = values.get("condition")
    if cond is not None and cond not in CONDITIONS:
        errors.setdefault("condition", []).append(
            f"unknown condition {cond!r}; valid conditions: {', '.join(CONDITIONS)}")
    channel = values.get("channel")
    if channel is not None and channel not in CHANNELS:
        errors.setdefault("channel", []).append(
            f"unknown channel {channel!r}; valid channels: {', '.join(CHANNELS)}")
    for field in ("brand", "model"):
        v = values.get(field)
        if v is not None and not isinstance(v, str):
            errors.setdefault(field, []).append("must be a string")
        elif v is not None and len(v) > 200:
            errors.setdefault(field, []).append("must be at most 200 characters")
    return errors


def validate(device: Device) -> None:
    """Raise InvalidDevice if the device is invalid."""
    errors = validate_fields({f: getattr(device, f) for f in Device.__slots__})
    if errors:
        raise InvalidDevice(errors)
