"""The PaymentIntent of a new trade, asked of Stripe with no transaction (and no lock) open.

``services.create`` commits the reservation first (listing reserved, voucher reserved, trade
``pending_payment`` with its payment timer) in one short transaction; then
``attach_payment_intent``:

1. reads what Stripe needs and ends the read transaction;
2. asks Stripe for the PaymentIntent (idempotency key ``trade-<id>-create-<salt>``), with no
   transaction open, so a slow Stripe holds no row lock;
3. stores the intent's id and client secret in a second short transaction.

If Stripe is down or refuses, the reservation is undone in its own transaction (voucher
restored, listing active, the trade and its event deleted: the client's 503 or 409 means that
nothing was bought, as before) and the error goes to the client. If the process dies between
the steps, the trade stays ``pending_payment`` without an intent and its payment timer
(``expire``) releases the listing and the voucher; an intent Stripe created meanwhile was never
shown to anyone, so it is never paid.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from carbon.incentives import vouchers
from marketplace.core.db import db
from marketplace.listings import status as listing_status
from marketplace.listings.models import Listing, ListingStatus
from marketplace.payments import stripe_client
from marketplace.trades import engine
from marketplace.trades.announce import announce
from marketplace.trades.models import Trade, TradeEvent, TradeStatus

log = logging.getLogger("marketplace.trades.checkout")


def attach_payment_intent(trade_id: int) -> str:
    """Create and store the PaymentIntent of a committed, reserved trade; return its id.
    Commits. Raises the Stripe client's error after undoing the reservation."""
    trade = db.session.get(Trade, trade_id)
    meta = {"listing_id": trade.listing_id, "buyer_id": trade.buyer_id}
    if trade.discount_amount:
        meta.update(price=trade.amount, discount=trade.discount_amount)
    args = (trade.amount_charged, trade.currency, trade.id, trade.stripe_key("create"), meta)
    db.session.commit()  # nothing open while Stripe is called
    try:
        pi = stripe_client.create_payment_intent(*args)
    except Exception:
        db.session.rollback()
        _undo(trade_id)
        raise
    trade = engine.lock(trade_id)
    trade.payment_intent_id, trade.client_secret = pi.id, pi.client_secret
    created = db.session.scalars(select(TradeEvent).where(
        TradeEvent.trade_id == trade_id, TradeEvent.transition == "create")).first()
    if created is not None:
        created.details = {**(created.details or {}), "payment_intent_id": pi.id}
    # The seller hears of the trade now, not at the reservation: a reservation undone because
    # Stripe failed was never a trade (the client got a 503 and nothing was bought).
    announce(trade, "create")
    db.session.commit()
    return pi.id


def _undo(trade_id: int) -> None:
    """Undo a reservation whose PaymentIntent could not be created (best effort: the payment
    timer expires the trade otherwise)."""
    try:
        trade = engine.lock(trade_id)
        if trade is None or trade.status != TradeStatus.PENDING_PAYMENT.value \
                or trade.payment_intent_id is not None:
            db.session.rollback()
            return
        vouchers.restore_for_trade(trade_id)
        listing = db.session.get(Listing, trade.listing_id)
        if listing.status == ListingStatus.RESERVED.value:
            listing_status.release(listing)
        db.session.execute(delete(TradeEvent).where(TradeEvent.trade_id == trade_id))
        db.session.delete(trade)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.warning("could not undo the reservation of trade %s; its payment timer will",
                    trade_id, exc_info=True)
