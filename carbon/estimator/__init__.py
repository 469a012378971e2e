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
from carbon.estimator.parameters import METHODOLOGY_VERSION

__all__ = [
    "CATEGORIES", "METHODOLOGY", "METHODOLOGY_VERSION", "PLAUSIBLE_RANGES", "Device",
    "Estimate", "Estimator", "InvalidDevice", "MatchedReference", "estimate", "estimate_batch",
    "estimate_csv", "get_estimator", "plausible_range", "resolve_devices", "validate_fields",
]
