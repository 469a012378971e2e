"""Reloop carbon package. Import-light: no Flask here."""

from carbon.estimator import (
    CATEGORIES,
    METHODOLOGY,
    Device,
    Estimate,
    estimate,
    estimate_batch,
)

__all__ = ["CATEGORIES", "METHODOLOGY", "Device", "Estimate", "estimate", "estimate_batch"]
