"""Embodied-footprint and avoided-emissions estimator (pure numpy, no Flask)."""

from carbon.estimator.api import (
    Estimate,
    Estimator,
    MatchedReference,
    estimate,
    estimate_batch,
    get_estimator,
    resolve_devices,
)
from carbon.estimator.catalog import CATEGORIES, METHODOLOGY
from carbon.estimator.csvio import estimate_csv
from carbon.estimator.device import (
    PLAUSIBLE_RANGES,
    Device,
    InvalidDevice,
    plausible_range,
    validate_fields,
)
from carbon.estimator.integrity import (
    apply_price_floor,
    below_price_floor,
    price_floor,
    withhold_credit,
)
from carbon.estimator.parameters import METHODOLOGY_VERSION
from carbon.estimator.trade_params import CHANNELS, DEFAULT_CHANNEL, PRICE_FLOORS

__all__ = [
    "CATEGORIES", "CHANNELS", "DEFAULT_CHANNEL", "METHODOLOGY", "METHODOLOGY_VERSION",
    "PLAUSIBLE_RANGES", "PRICE_FLOORS", "Device", "Estimate", "Estimator", "InvalidDevice",
    "MatchedReference", "apply_price_floor", "below_price_floor", "estimate", "estimate_batch",
    "estimate_csv", "get_estimator", "plausible_range", "price_floor", "resolve_devices",
    "validate_fields", "withhold_credit",
]
