"""Offers and trade events as system lines in the buyer's conversation about the listing.

Subscribed to every domain event (``core.events``): those with ``listing_id``, ``buyer_id``
and ``seller_id`` in their data and a line below get one system message (keyed by the event
id, so a replay adds nothing); ``trade.paid`` also stops contact-detail masking.
"""

from __future__ import annotations

from typing import Any

from marketplace.conversations import services
from marketplace.core.events import Event
from marketplace.core.money import format_money

LINES: dict[str, str] = {
    "offer.received": "The buyer offered {money}.",
    "offer.countered": "The seller countered with {money}.",
    "offer.accepted": "The offer of {money} was accepted.",
    "offer.declined": "The offer of {money} was declined.",
    "offer.expired": "The offer of {money} expired.",
    "trade.opened": "The buyer started a purchase at {money}.",
    "trade.paid": "Payment received and held in escrow.",
    "trade.shipped": "The seller shipped the item.",
    "trade.delivered": "The parcel was delivered.",
    "trade.completed": "The trade is complete.",
    "trade.cancelled": "The trade was cancelled.",
    "trade.refunded": "The trade was refunded.",
    "dispute.opened": "The buyer opened a dispute.",
    "dispute.resolved": "The dispute was resolved.",
    "return.requested": "The buyer asked to return the item.",
    "return.resolved": "The return was settled.",
}


def _money(data: dict[str, Any]) -> str:
    amount, currency = data.get("amount"), data.get("currency")
    if isinstance(amount, int) and isinstance(currency, str):
        return format_money(amount, currency)
    return "an amount"


def on_event(event: Event) -> None:
    line = LINES.get(event.kind)
    data = event.data
    if line is None or not all(isinstance(data.get(k), int)
                               for k in ("listing_id", "buyer_id", "seller_id")):
        return
    conv = services.for_event(data["listing_id"], data["buyer_id"], data["seller_id"])
    if event.kind == "trade.paid":
        services.mark_paid(data["listing_id"], data["buyer_id"])
    services.system_message(conv, line.format(money=_money(data)), event.kind, event.id)
