"""Credit integrity: a device sold below its category's price floor earns no carbon credit.

A laptop sold for one euro is not a plausible resale of a working laptop: such a trade (a
wash trade, or a gift) is credited 0 g and earns no rewards, and the estimate says why
(``credit_note``). Floors are per category in euro cents: the estimator's defaults
(``carbon.estimator.PRICE_FLOORS``, a labelled product assumption), overridden by
``CREDIT_PRICE_FLOORS``. Prices in other currencies are compared at approximate rates
(``marketplace.core.money.approx_eur_minor``); a currency with no known rate has no floor.
"""

from __future__ import annotations

from flask import current_app

from carbon.estimator import Estimate, price_floor, withhold_credit
from marketplace.core.money import approx_eur_minor


def floor_cents(category: str) -> int:
    return int((current_app.config.get("CREDIT_PRICE_FLOORS") or {}).get(
        category, price_floor(category)))


def below_floor(category: str, amount: int, currency: str) -> bool:
    eur = approx_eur_minor(amount, currency)
    return eur is not None and eur < floor_cents(category)


def note(category: str, amount: int, currency: str) -> str:
    return (f"below_price_floor: a {category} priced {amount / 100:.2f} {currency.upper()} is "
            f"below the {floor_cents(category) / 100:.2f} EUR floor for its category, so the "
            "trade earns no carbon credit and no rewards")


def apply(estimate: Estimate, category: str, amount: int, currency: str) -> Estimate:
    """The estimate, or the same with its credit withheld when the price is below the
    floor."""
    if not below_floor(category, amount, currency):
        return estimate
    return withhold_credit(estimate, note(category, amount, currency))
