"""Rules that stop a buyer or seller from holding the other side hostage (issue 15).

- **Releasing an unpaid trade**: the buyer may cancel a ``pending_payment`` trade
  (``cancel_unpaid``), which frees the listing at once; ``cancel_name`` picks it for
  ``POST /trades/{id}/cancel`` before payment.
- **Cooling-off**: a buyer whose trades on the same listing lapsed or were cancelled unpaid
  ``TRADE_LAPSES_BEFORE_COOLING_OFF`` times within ``TRADE_COOLING_OFF_SECONDS`` cannot open
  another trade on it until the cooling-off period after the last one has passed (409,
  the wait in the message), so no one keeps a listing reserved by re-opening a trade every time the
  payment window runs out.
- **Frozen listings** (registered with ``listings.hooks``): once an offer on a listing is
  accepted or a trade on it exists (whatever became of it), its device fields (category,
  brand, model, condition, specs) cannot change; while an accepted offer can still be
  bought (its 24 h purchase window) the price cannot change either. Both are 409.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict
from marketplace.offers.models import Offer, OfferStatus
from marketplace.trades.models import Trade, TradeStatus

# Transitions that end an unpaid trade on the buyer's side (lapsed or given up).
UNPAID_ENDINGS = ("expire", "cancel_unpaid", "payment_failed")


def cancel_name(trade: Trade) -> str:
    """The transition ``POST /trades/{id}/cancel`` applies: before payment the buyer's
    ``cancel_unpaid``, after it ``cancel`` (refund)."""
    return "cancel_unpaid" if trade.status == TradeStatus.PENDING_PAYMENT else "cancel"


def check_cooling_off(buyer_id: int, listing_id: int) -> None:
    """409 (with ``Retry-After``) while the buyer is cooling off on this listing."""
    limit = int(current_app.config["TRADE_LAPSES_BEFORE_COOLING_OFF"])
    period = timedelta(seconds=int(current_app.config["TRADE_COOLING_OFF_SECONDS"]))
    since = utcnow() - period
    count, last = db.session.execute(
        select(func.count(), func.max(Trade.closed_at)).where(
            Trade.buyer_id == buyer_id, Trade.listing_id == listing_id,
            Trade.status == TradeStatus.CANCELLED, Trade.paid_at.is_(None),
            Trade.closed_at >= since)).one()
    if count >= limit and last is not None:
        wait = max(1, int((last + period - utcnow()).total_seconds()))
        raise Conflict(
            f"You let {count} trades on this listing lapse or cancelled them unpaid; you can "
            f"buy it again in {wait // 3600} h {wait % 3600 // 60} min.",
            {"listing_id": [f"Cooling off after repeated unpaid trades: retry in {wait} s."]})


def device_frozen(listing_id: int) -> str | None:
    """Any trade on the listing, or any offer ever accepted on it, freezes the device."""
    if db.session.scalar(select(exists().where(Trade.listing_id == listing_id))):
        return "a trade on this listing exists"
    if db.session.scalar(select(exists().where(Offer.listing_id == listing_id,
                                               Offer.status == OfferStatus.ACCEPTED))):
        return "an offer on this listing was accepted"
    return None


def price_frozen(listing_id: int) -> str | None:
    """An accepted offer whose buyer may still purchase at its price freezes the price."""
    if db.session.scalar(select(exists().where(
            Offer.listing_id == listing_id, Offer.status == OfferStatus.ACCEPTED,
            Offer.purchase_deadline > utcnow()))):
        return "an accepted offer on this listing can still be bought"
    return None
