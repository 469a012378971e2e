"""What other features ask to be told about listings, wired at start-up.

Listings sit below offers and trades: they do not import them. A feature that keeps state per
listing registers here instead (the offers feature: expire a closed listing's pending offers;
refuse a currency change while offers are open).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

_CLOSED = "reloop.listings.on_closed"
_CURRENCY_LOCKS = "reloop.listings.currency_locks"
_DEVICE_LOCKS = "reloop.listings.device_locks"
_PRICE_LOCKS = "reloop.listings.price_locks"


def on_closed(app: Flask, func: Callable[[int], object]) -> None:
    """Call ``func(listing_id)`` in the transaction that sells or withdraws a listing."""
    app.extensions.setdefault(_CLOSED, []).append(func)


def lock_currency_while(app: Flask, func: Callable[[int], bool]) -> None:
    """Refuse a listing's currency change while ``func(listing_id)`` is true."""
    app.extensions.setdefault(_CURRENCY_LOCKS, []).append(func)


def freeze_device_while(app: Flask, func: Callable[[int], str | None]) -> None:
    """Refuse changes to a listing's device fields while ``func(listing_id)`` gives a
    reason (e.g. "an offer on it was accepted")."""
    app.extensions.setdefault(_DEVICE_LOCKS, []).append(func)


def freeze_price_while(app: Flask, func: Callable[[int], str | None]) -> None:
    """Refuse price changes while ``func(listing_id)`` gives a reason."""
    app.extensions.setdefault(_PRICE_LOCKS, []).append(func)


def _reason(key: str, listing_id: int) -> str | None:
    for func in current_app.extensions.get(key, ()):
        reason = func(listing_id)
        if reason:
            return reason
    return None


def device_frozen(listing_id: int) -> str | None:
    return _reason(_DEVICE_LOCKS, listing_id)


def price_frozen(listing_id: int) -> str | None:
    return _reason(_PRICE_LOCKS, listing_id)


def closed(listing_id: int) -> None:
    for func in current_app.extensions.get(_CLOSED, ()):
        func(listing_id)


def currency_locked(listing_id: int) -> bool:
    return any(func(listing_id) for func in current_app.extensions.get(_CURRENCY_LOCKS, ()))
