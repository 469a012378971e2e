"""Credit integrity: price floors and withholding a trade's credit (pure functions).

The marketplace decides *when* to call these (e.g. at trade completion); the estimator only
says what a withheld estimate looks like, so that the listing's estimate can say why.
"""

from __future__ import annotations

import dataclasses

from carbon.estimator.result import Estimate
from carbon.estimator.trade_params import PRICE_FLOOR_CURRENCY, PRICE_FLOORS

BELOW_PRICE_FLOOR = "below_price_floor"


def price_floor(category: str) -> int:
    """Per-category price floor in EUR minor units (cents); a product assumption."""
    return PRICE_FLOORS.get(category, PRICE_FLOORS["other"])


def below_price_floor(category: str, amount_minor: int,
                      currency: str = PRICE_FLOOR_CURRENCY) -> bool:
    """True when a trade price (minor units) is below the category floor.

    Only EUR floors are defined: other currencies must be converted by the caller.
    """
    if currency.upper() != PRICE_FLOOR_CURRENCY:
        raise ValueError(f"price floors are defined in {PRICE_FLOOR_CURRENCY} only")
    return amount_minor < price_floor(category)


def withhold_credit(estimate: Estimate, reason: str) -> Estimate:
    """Same estimate with no credit: avoided, e-waste and materials 0; embodied kept.

    ``reason`` is shown to users as ``credit_note`` (it must be non-empty).
    """
    if not reason or not reason.strip():
        raise ValueError("a reason is required to withhold a credit")
    return dataclasses.replace(estimate, avoided=(0.0, 0.0, 0.0), ewaste_avoided_g=(0, 0, 0),
                               materials_avoided_kg=(0.0, 0.0, 0.0),
                               credit_note=reason.strip())


def apply_price_floor(estimate: Estimate, category: str, amount_minor: int,
                      currency: str = PRICE_FLOOR_CURRENCY) -> Estimate:
    """Withhold the credit when the price is below the category floor; else unchanged."""
    if not below_price_floor(category, amount_minor, currency):
        return estimate
    floor = price_floor(category)
    return withhold_credit(estimate, (
        f"{BELOW_PRICE_FLOOR}: price {amount_minor / 100:.2f} {PRICE_FLOOR_CURRENCY} is below "
        f"the {floor / 100:.2f} {PRICE_FLOOR_CURRENCY} floor for a {category}; no carbon "
        "credit or reward is given for this trade"))
