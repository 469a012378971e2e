"""Which trade transitions are events people hear about (``core.events``), and their data.

``engine.run`` calls ``announce`` once per transition, in the transition's transaction: the
notification, the conversation line and the partner webhooks follow from that one record.
"""

from __future__ import annotations

from typing import Any

from marketplace.core import events
from marketplace.trades.models import Trade

# transition name -> (event kind, who hears: "both" | "buyer" | "seller")
EVENTS: dict[str, tuple[str, str]] = {
    "create": ("trade.opened", "seller"),
    "payment_succeeded": ("trade.paid", "both"),
    "payment_failed": ("trade.cancelled", "both"),
    "expire": ("trade.cancelled", "both"),
    "ship": ("trade.shipped", "buyer"),
    "cancel": ("trade.cancelled", "both"),
    "auto_cancel": ("trade.cancelled", "both"),
    "confirm": ("trade.completed", "both"),
    "auto_confirm": ("trade.completed", "both"),
    "dispute": ("dispute.opened", "both"),
    "resolve_release": ("dispute.resolved", "both"),
    "resolve_refund": ("dispute.resolved", "both"),
    "refund": ("trade.refunded", "both"),
    "cancel_unpaid": ("trade.cancelled", "seller"),
    "handover": ("trade.completed", "both"),
    "delivered": ("trade.delivered", "both"),  # an event of the shipment (shipping.tracking)
    "resolve_partial": ("dispute.resolved", "both"),
    "request_return": ("return.requested", "seller"),
    "accept_return": ("return.resolved", "buyer"),
    "receive_return": ("trade.refunded", "both"),
    "refuse_return": ("dispute.opened", "both"),
    "escalate_return": ("dispute.opened", "both"),
    "escalate_returning": ("dispute.opened", "both"),
}


def data(trade: Trade, transition: str) -> dict[str, Any]:
    return {"trade_id": trade.id, "listing_id": trade.listing_id, "buyer_id": trade.buyer_id,
            "seller_id": trade.seller_id, "listing_title": trade.listing_title,
            "amount": trade.amount, "currency": trade.currency, "status": trade.status,
            "transition": transition}


def announce(trade: Trade, transition: str) -> None:
    """Publish the transition's event, if it has one (after the status is set; no commit)."""
    if transition not in EVENTS:
        return
    kind, who = EVENTS[transition]
    users = {"both": (trade.buyer_id, trade.seller_id), "buyer": (trade.buyer_id,),
             "seller": (trade.seller_id,)}[who]
    payload = data(trade, transition)
    if transition in ("refund", "resolve_refund", "resolve_partial", "receive_return"):
        payload["amount"] = trade.refunded_amount
    events.publish(kind, users, payload)
