"""``apply``: the one way a trade changes state, and the effects named in ``machine``.

``apply(trade_id, name, actor, ...)`` locks the trade row (``SELECT ... FOR UPDATE`` on
PostgreSQL), checks the transition's source states and actors against the table, runs its
effects in order, sets the target status and writes the audit event (with what the effects
did: refund ids, payout amounts...). It never commits: the caller does, so the state change,
the listing change, the payout row and the outbox records commit or roll back together. An
effect that calls Stripe raises ``PaymentProviderUnavailable`` (503) when Stripe is down, and
the caller's rollback leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from carbon.incentives import vouchers
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput
from marketplace.core.money import min_charge
from marketplace.devices import passport, wiping
from marketplace.listings import status as listing_status
from marketplace.listings.models import Listing, ListingStatus
from marketplace.payments import stripe_client
from marketplace.payments.stripe_client import PaymentProviderUnavailable, PaymentRejected
from marketplace.trades import fulfilment, machine, recourse, settlement
from marketplace.trades.announce import announce
from marketplace.trades.context import Context
from marketplace.trades.models import Trade, TradeEvent
from marketplace.trades.shipping import tracking


class PaymentArrived(Exception):
    """Cancelling the PaymentIntent showed it had succeeded: the trade is paid instead."""


def verb(name: str) -> str:
    return name.split("_")[0] if name.startswith("resolve") else name.replace("_", " ")


def lock(trade_id: int, skip_locked: bool = False) -> Trade | None:
    return db.session.scalars(
        select(Trade).where(Trade.id == trade_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)).first()


def apply(trade_id: int, name: str, actor: str, actor_id: int | None = None,
          details: dict[str, Any] | None = None) -> Trade:
    """Lock the trade and apply transition ``name`` (see the module docstring)."""
    t = machine.get(name)
    trade = lock(trade_id)
    if trade is None:
        raise LookupError(f"trade {trade_id} does not exist")
    check(trade, t, actor)
    try:
        return run(trade, t, actor, actor_id, dict(details or {}))
    except PaymentArrived as arrived:
        if name not in ("expire", "payment_failed", "cancel_unpaid"):
            raise
        return run(trade, machine.get("payment_succeeded"), "system", None,
                   {"detected_by": name, "charge_id": arrived.args[0]})


def check(trade: Trade, t: machine.Transition, actor: str) -> None:
    """403 unless ``actor`` may trigger ``t``; 409 unless the trade is in one of its sources."""
    if actor not in t.actors:
        who = " or ".join(sorted(t.actors))
        raise Forbidden(f"Only the {who} can {verb(t.name)} this trade.")
    if trade.status not in t.sources:
        raise Conflict(f"cannot {verb(t.name)}: trade is {trade.status}",
                       {"status": [trade.status], "allowed": machine.allowed(trade.status)})


def run(trade: Trade, t: machine.Transition, actor: str, actor_id: int | None,
        details: dict[str, Any]) -> Trade:
    """Run ``t``'s effects on a trade already checked (and locked), then record it."""
    ctx = Context(trade, t, actor, actor_id, details)
    for effect in t.effects:
        EFFECTS[effect](ctx)
    before = None if not t.sources else trade.status
    trade.status = t.target
    trade.updated_at = ctx.now
    db.session.add(TradeEvent(trade_id=trade.id, transition=t.name, from_status=before,
                              to_status=t.target, actor=actor, actor_id=actor_id,
                              details=_jsonable(ctx.details), created_at=ctx.now))
    if t.name != "create":  # announced by checkout once the PaymentIntent exists
        announce(trade, t.name)
    return trade


def record(trade: Trade, name: str, actor: str, details: dict[str, Any]) -> None:
    """An audit event that is bookkeeping, not a transition (e.g. a dashboard refund)."""
    db.session.add(TradeEvent(trade_id=trade.id, transition=name, from_status=trade.status,
                              to_status=trade.status, actor=actor, details=_jsonable(details),
                              created_at=utcnow()))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()}


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[key]))


def _listing(trade: Trade) -> Listing:
    return db.session.get(Listing, trade.listing_id)


# ---- effects ----------------------------------------------------------------------------
def reserve_listing(ctx: Context) -> None:
    listing_status.reserve(_listing(ctx.trade))


def apply_voucher(ctx: Context) -> None:
    """Reserve the buyer's voucher for this trade (same transaction: a later failure, e.g.
    Stripe down, rolls the reservation back too). The discount is capped so that at least the
    currency's minimum charge is left to pay (Stripe refuses less, and 0); a price at or below
    that minimum takes no voucher (422)."""
    trade = ctx.trade
    if not trade.voucher_code:
        return
    room = trade.amount - min_charge(trade.currency)
    if room <= 0:
        msg = (f"A voucher needs a price above {min_charge(trade.currency)} "
               f"(the minimum charge in {trade.currency}).")
        raise InvalidInput(msg, {"voucher_code": [msg]})
    db.session.flush()  # the trade's id, held by the voucher
    trade.discount_amount = vouchers.reserve_for_trade(
        trade.voucher_code, trade.buyer_id, trade.amount, trade.currency, trade.id,
        max_discount=room)
    ctx.details["voucher"] = {"code": trade.voucher_code, "discount": trade.discount_amount}


def confirm_voucher(ctx: Context) -> None:
    if ctx.trade.voucher_code:
        vouchers.confirm_for_trade(ctx.trade.id)


def restore_voucher(ctx: Context) -> None:
    if ctx.trade.voucher_code and vouchers.restore_for_trade(ctx.trade.id):
        ctx.details["voucher"] = "restored"


def give_back_voucher(ctx: Context) -> None:
    if ctx.trade.voucher_code and vouchers.give_back_for_trade(ctx.trade.id):
        ctx.details["voucher"] = "given back"


def start_payment_timer(ctx: Context) -> None:
    ctx.trade.due_at = ctx.trade.expires_at


def hold_funds(ctx: Context) -> None:
    ctx.trade.paid_at = ctx.now
    ctx.trade.charge_id = ctx.details.get("charge_id") or ctx.trade.charge_id


def start_ship_timer(ctx: Context) -> None:
    ctx.trade.ship_by = ctx.trade.due_at = ctx.now + _seconds("TRADE_SHIP_WINDOW_SECONDS")


def cancel_payment_intent(ctx: Context) -> None:
    """Cancel the PaymentIntent so it can no longer be paid. Best effort: with Stripe down the
    trade is cancelled anyway, and a payment arriving later is refunded
    (``refund_late_payment``). If the intent has succeeded meanwhile, the trade is paid."""
    trade = ctx.trade
    if not trade.payment_intent_id or ctx.details.get("payment_intent") == "canceled":
        return
    try:
        stripe_client.cancel_payment_intent(trade.payment_intent_id, trade.stripe_key("cancel"))
        ctx.details["payment_intent"] = "canceled"
    except PaymentRejected:
        try:
            pi = stripe_client.retrieve_payment_intent(trade.payment_intent_id)
        except PaymentProviderUnavailable:
            ctx.details["payment_intent"] = "cancel refused; state unknown"
            return
        if pi.status == "succeeded":
            charge = getattr(pi, "latest_charge", None)
            raise PaymentArrived(getattr(charge, "id", charge)) from None
        ctx.details["payment_intent"] = pi.status
    except PaymentProviderUnavailable:
        ctx.details["payment_intent"] = "cancel deferred: provider unavailable"


def release_listing(ctx: Context) -> None:
    listing = _listing(ctx.trade)
    if listing.status == ListingStatus.RESERVED.value:
        listing_status.release(listing)
    ctx.details["listing"] = listing.status
    ctx.trade.closed_at = ctx.now


def close_listing(ctx: Context) -> None:
    listing = _listing(ctx.trade)
    if listing.status == ListingStatus.RESERVED.value:
        listing_status.mark_sold(listing)
    ctx.trade.closed_at = ctx.now


def stop_timer(ctx: Context) -> None:
    ctx.trade.due_at = None


def record_shipment(ctx: Context) -> None:
    ctx.trade.carrier = ctx.details["carrier"]
    ctx.trade.tracking_number = ctx.details["tracking_number"]
    ctx.trade.shipped_at = ctx.now


def start_confirm_timer(ctx: Context) -> None:
    ctx.trade.confirm_by = ctx.trade.due_at = ctx.now + _seconds("TRADE_CONFIRM_WINDOW_SECONDS")


def record_dispute(ctx: Context) -> None:
    ctx.trade.dispute_reason = ctx.details["reason"]


def require_data_wipe(ctx: Context) -> None:
    """Phones, tablets, laptops and desktops ship only once declared wiped (409)."""
    wipe = wiping.require_declared(ctx.trade.id, ctx.trade.category)
    if wipe is not None:
        ctx.details["data_wipe"] = wipe.method


def record_passport(ctx: Context) -> None:
    """An identified device's passport gains this trade (no personal data)."""
    listing = _listing(ctx.trade)
    if listing.device_identity_id is not None:
        passport.record(listing.device_identity_id, ctx.trade.id, ctx.now, ctx.trade.category,
                        listing.condition, ctx.trade.avoided_g,
                        (listing.footprint_assumptions or {}).get("age_years"))

def open_reviews(ctx: Context) -> None:
    ctx.trade.review_deadline = ctx.now + _seconds("REVIEW_WINDOW_SECONDS")


def _effect(name: str) -> Callable[[Context], None]:
    """An effect named in the transitions table: defined here, in ``settlement``, in
    ``fulfilment``, in ``shipping.tracking`` or (returns and disputes) in ``recourse``."""
    if name in globals():
        return globals()[name]
    return next(getattr(m, name) for m in (settlement, fulfilment, tracking, recourse)
                if hasattr(m, name))


EFFECTS: dict[str, Callable[[Context], None]] = {
    name: _effect(name) for t in machine.TRANSITIONS for name in t.effects}
