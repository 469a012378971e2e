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


def on_closed(app: Flask, func: Callable[[int], object]) -> None:
    """Call ``func(listing_id)`` in the transaction that sells or withdraws a listing."""
    app.extensions.setdefault(_CLOSED, []).append(func)


def lock_currency_while(app: Flask, func: Callable[[int], bool]) -> None:
    """Refuse a listing's currency change while ``func(listing_id)`` is true."""
    app.extensions.setdefault(_CURRENCY_LOCKS, []).append(func)


def closed(listing_id: int) -> None:
    for func in current_app.extensions.get(_CLOSED, ()):
        func(listing_id)


def currency_locked(listing_id: int) -> bool:
    return any(func(listing_id) for func in current_app.extensions.get(_CURRENCY_LOCKS, ()))
