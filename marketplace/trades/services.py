"""Trades: create, read, act, and the timers (eager periodic job and lazy on read/act).

Creating a trade (why nothing is half-written when Stripe is down)
    A short transaction reserves: the listing with a conditional update (``active`` →
    ``reserved``; on PostgreSQL the row is locked until this commit, so of concurrent buyers
    one wins and the others get 409), the voucher if any (``engine.apply_voucher``), and the
    trade row (``pending_payment``, payment timer running); it commits. Then
    ``checkout.attach_payment_intent`` asks Stripe for the PaymentIntent with no transaction
    open (idempotency key ``trade-<id>-create-<salt>``) and stores it in a second short
    transaction. If Stripe is down (``PaymentProviderUnavailable``) or refuses, the
    reservation is undone (trade deleted, listing active, voucher available) and the client
    gets a 503 (or 409) it may retry; a crash in between is undone by the payment timer.
    Right after, ``apply_stored_events`` applies any webhook that arrived before the trade had
    its PaymentIntent.

Timers
    Each state with a timer stores its deadline in ``due_at`` (payment window, ship window,
    confirm window). ``advance_due`` (the periodic ``advance-trades`` job) applies the timed
    transition of every trade past due, one transaction each, skipping rows locked by a
    request; ``enforce_due`` does the same for one trade before it is read or acted on.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from marketplace.accounts.models import User
from marketplace.conversations.blocking import ensure_not_blocked
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page
from marketplace.core.money_schemas import money
from marketplace.listings import floors
from marketplace.listings import visibility as listing_visibility
from marketplace.offers.services import offer_for_purchase
from marketplace.organisations import services as organisations
from marketplace.payments import webhooks
from marketplace.payments.stripe_client import PaymentProviderUnavailable
from marketplace.trades import checkout, engine, fulfilment, holds, machine
from marketplace.trades.models import Trade, TradeEvent

log = logging.getLogger("marketplace.trades")


# ---- create ------------------------------------------------------------------------------
SNAPSHOT_KEYS = ("embodied_kgco2e", "avoided_kgco2e", "ewaste_avoided_g",
                 "materials_avoided_kg", "method", "methodology_version", "channel",
                 "credit_note")


def snapshot(listing, amount: int, footprint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The listing's estimate (or ``footprint``, the estimate for the trade's route) as the
    trade freezes it; at a price below the category's floor the credit is withheld (avoided,
    e-waste and materials 0, with a ``credit_note``)."""
    fp = footprint or listing.footprint
    snap = {k: fp.get(k) for k in SNAPSHOT_KEYS}
    if floors.below_floor(listing.category, amount, listing.price_currency):
        zero = {"low": 0, "central": 0, "high": 0}
        snap.update(avoided_kgco2e=zero, ewaste_avoided_g=zero, materials_avoided_kg=zero,
                    credit_note=floors.note(listing.category, amount, listing.price_currency))
    return snap


def create(buyer: User, listing_id: int, offer_id: int | None = None,
           voucher_code: str | None = None, fulfilment_kind: str | None = None,
           shipping_address_id: int | None = None, organisation_id: int | None = None) -> Trade:
    if organisation_id is not None:  # buying for an organisation: an owner or buyer of it
        organisations.require_acting(organisation_id, buyer.id)
    listing = listing_visibility.get_visible(listing_id, buyer)
    if listing.seller_id == buyer.id:
        raise Conflict("You cannot buy your own listing.")
    ensure_not_blocked(buyer.id, listing.seller_id, "buy from this seller")
    holds.check_cooling_off(buyer.id, listing.id)
    route = fulfilment.fields_for(buyer, listing, fulfilment_kind, shipping_address_id)
    unpaid = db.session.scalar(select(func.count()).select_from(Trade).where(
        Trade.buyer_id == buyer.id, Trade.status == "pending_payment"))
    if unpaid >= current_app.config["MAX_UNPAID_TRADES_PER_BUYER"]:
        # Otherwise one account could keep many listings reserved without ever paying.
        raise Conflict(f"You already have {unpaid} trades awaiting payment; pay or let them "
                       "expire first.")
    amount = listing.price_amount
    if offer_id is not None:
        amount = offer_for_purchase(offer_id, buyer.id, listing.id).amount
    now = utcnow()
    snap = snapshot(listing, amount, fulfilment.route_footprint(listing, route["fulfilment"]))
    fee = amount * int(current_app.config["PLATFORM_FEE_BPS"]) // 10_000
    trade = Trade(
        listing_id=listing.id, buyer_id=buyer.id, seller_id=listing.seller_id,
        offer_id=offer_id, status=machine.get("create").target, amount=amount,
        currency=listing.price_currency, platform_fee=fee, refunded_amount=0,
        voucher_code=(voucher_code or "").strip().upper() or None, discount_amount=0,
        footprint_snapshot=snap, avoided_g=round(snap["avoided_kgco2e"]["central"] * 1000),
        category=listing.category, listing_title=listing.title,
        buyer_organisation_id=organisation_id, seller_organisation_id=listing.organisation_id,
        key_salt=secrets.token_hex(4), created_at=now, updated_at=now,
        expires_at=now + timedelta(seconds=current_app.config["TRADE_PAYMENT_WINDOW_SECONDS"]),
        **route)
    db.session.add(trade)
    try:
        engine.run(trade, machine.get("create"), "buyer", buyer.id,
                   {"amount": amount, "offer_id": offer_id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    trade_id = trade.id
    pi_id = checkout.attach_payment_intent(trade_id)  # Stripe, with no transaction open
    webhooks.apply_stored_events(pi_id)  # a `succeeded` that beat our commit
    return db.session.get(Trade, trade_id)


# ---- read --------------------------------------------------------------------------------
def _visible(trade_id: int, user: User) -> Trade:
    trade = db.session.get(Trade, trade_id)
    if trade is None or not (user.is_admin or trade.role_of(user.id)):
        raise NotFound("No such trade.")
    return trade


def get(trade_id: int, user: User) -> Trade:
    _visible(trade_id, user)
    enforce_due(trade_id)  # best effort: a failing timer is deferred, the trade shown as it is
    return _visible(trade_id, user)


# Event details only the seller (and admins) may see: what the seller is paid.
SELLER_ONLY_DETAILS = ("payout", "payout_reduced_by", "platform_borne")
_MONEY_DETAILS = ("amount", "amount_received", "payout", "payout_reduced_by", "platform_borne")


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def visible_details(details: dict[str, Any], currency: str,
                    viewer_role: str | None) -> dict[str, Any]:
    """An event's details as ``viewer_role`` may see them: amounts as ``{amount, currency}``
    (in the trade's currency), nulls dropped, and the seller-only fields left out for the
    buyer."""
    out = {k: v for k, v in (details or {}).items() if v is not None}
    if viewer_role == "buyer":
        for key in SELLER_ONLY_DETAILS:
            out.pop(key, None)
    for key in _MONEY_DETAILS:
        if _is_amount(out.get(key)):
            out[key] = money(out[key], currency)
    refund = out.get("refund")
    if isinstance(refund, dict) and _is_amount(refund.get("amount")):
        out["refund"] = {**refund, "amount": money(refund["amount"], currency)}
    voucher = out.get("voucher")
    if voucher == "restored":
        out["voucher"] = {"restored": True}
    elif isinstance(voucher, dict) and _is_amount(voucher.get("discount")):
        out["voucher"] = {**voucher, "discount": money(voucher["discount"], currency)}
    return out


def events(trade_id: int, user: User, limit: int = 20,
           cursor: str | None = None) -> dict[str, Any]:
    """A page of the trade's audit trail, oldest first (chronological), each event's details
    as ``user`` may see them (``visible_details``)."""
    trade = get(trade_id, user)
    role = trade.role_of(user.id)
    page = id_page(select(TradeEvent).where(TradeEvent.trade_id == trade_id), TradeEvent.id,
                   limit, cursor, descending=False)
    page["items"] = [{
        "id": e.id, "transition": e.transition, "from_status": e.from_status,
        "to_status": e.to_status, "actor": e.actor, "actor_id": e.actor_id,
        "details": visible_details(e.details, trade.currency, role),
        "created_at": e.created_at} for e in page["items"]]
    return page


def list_trades(user: User, role: str | None, status: str | None, limit: int = 20,
                cursor: str | None = None) -> dict[str, Any]:
    """The user's trades, newest first by id."""
    if role == "buyer":
        conds = [Trade.buyer_id == user.id]
    elif role == "seller":
        conds = [Trade.seller_id == user.id]
    else:
        conds = [or_(Trade.buyer_id == user.id, Trade.seller_id == user.id)]
    if status:
        conds.append(Trade.status == status)
    return id_page(select(Trade).where(*conds), Trade.id, limit, cursor)


def refund_amount_of(trade_id: int, requested: dict[str, Any] | None) -> int | None:
    """The minor units of a requested refund ``{amount, currency}`` (None: the default).
    422 under ``amount.currency`` unless it is the trade's currency; 404 for no trade."""
    trade = db.session.get(Trade, trade_id)
    if trade is None:
        raise NotFound("No such trade.")
    if requested is None:
        return None
    if requested["currency"] != trade.currency.upper():
        msg = f"Must be the trade's currency, {trade.currency.upper()}."
        raise InvalidInput(f"The refund must be in {trade.currency.upper()}.",
                           {"amount": {"currency": [msg]}})
    return requested["amount"]


# ---- act ---------------------------------------------------------------------------------
def act(trade_id: int, user: User, name: str, details: dict[str, Any] | None = None) -> Trade:
    """A party's transition (ship, cancel, confirm, dispute). Commits."""
    trade = _visible(trade_id, user)
    role = trade.role_of(user.id)
    if role is None:
        raise NotFound("No such trade.")
    if name == "cancel":  # before payment, the buyer's release (holds.cancel_name)
        name = holds.cancel_name(trade)
    return _apply_now(trade_id, name, role, user.id, details)


def require_uninvolved_admin(trade_id: int, admin: User) -> Trade:
    """The trade, for an admin who is neither its buyer nor its seller (403 otherwise: an
    admin does not refund or settle their own trade)."""
    trade = db.session.get(Trade, trade_id)
    if trade is None:
        raise NotFound("No such trade.")
    if trade.role_of(admin.id) is not None:
        raise Forbidden("You are a party to this trade: another admin must act on it.")
    return trade


def admin_act(trade_id: int, admin: User, name: str,
              details: dict[str, Any] | None = None) -> Trade:
    require_uninvolved_admin(trade_id, admin)
    return _apply_now(trade_id, name, "admin", admin.id, details)


def _apply_now(trade_id: int, name: str, actor: str, actor_id: int,
               details: dict[str, Any] | None) -> Trade:
    enforce_due(trade_id)
    try:
        trade = engine.apply(trade_id, name, actor, actor_id, details)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade.id)


# ---- timers ------------------------------------------------------------------------------
def enforce_due(trade_id: int, now: datetime | None = None) -> bool:
    """Apply the trade's timed transition if its deadline has passed (lazy enforcement).

    Best effort: if the transition fails (Stripe down, or refusing the refund of an
    auto-cancel), it is deferred (``_defer``) and the trade stays as it is, so neither the
    reader nor the periodic job is blocked by one trade.
    """
    due = db.session.scalar(select(Trade.due_at).where(Trade.id == trade_id))
    if due is None or due > (now or utcnow()):
        return False
    try:
        return advance_one(trade_id, now)
    except Exception as exc:
        _defer(trade_id, exc)
        return False


TIMER_RETRY = timedelta(minutes=15)


def _defer(trade_id: int, exc: Exception) -> None:
    """A timed transition failed. Stripe unavailable: retried at the next tick. Anything else
    (e.g. Stripe refusing the refund of an auto-cancel): recorded in the audit trail for an
    admin and retried after ``TIMER_RETRY``, so it cannot hold up the trades due after it."""
    db.session.rollback()
    if isinstance(exc, PaymentProviderUnavailable):
        log.warning("trade %s: timed transition deferred, provider unavailable", trade_id)
        return
    log.error("trade %s: timed transition failed, retried in %s: %r", trade_id, TIMER_RETRY,
              exc)
    trade = db.session.get(Trade, trade_id)
    if trade is None or trade.due_at is None:
        return
    trade.due_at = utcnow() + TIMER_RETRY
    db.session.add(TradeEvent(trade_id=trade_id, transition="timer_failed",
                              from_status=trade.status, to_status=trade.status,
                              actor="system", details={"error": repr(exc)[:500]}))
    db.session.commit()


def advance_one(trade_id: int, now: datetime | None = None, skip_locked: bool = False) -> bool:
    """Lock the trade, re-check its deadline and apply its timed transition. Commits."""
    now = now or utcnow()
    try:
        trade = engine.lock(trade_id, skip_locked=skip_locked)
        if trade is None or trade.due_at is None or trade.due_at > now:
            db.session.rollback()
            return False
        name = machine.TIMED.get(trade.status)
        if name is None:  # a stale timer (should not happen): stop it
            trade.due_at = None
        else:
            engine.apply(trade_id, name, "system", None, {"due_at": trade.due_at})
        db.session.commit()
        return name is not None
    except Exception:
        db.session.rollback()
        raise


def advance_due(now: datetime | None = None, limit: int = 1000) -> int:
    """The periodic job: apply every due timed transition; return how many were applied."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(Trade.id).where(Trade.due_at <= now)
                                  .order_by(Trade.due_at).limit(limit)))
    db.session.rollback()
    applied = 0
    for trade_id in ids:
        try:
            applied += advance_one(trade_id, now, skip_locked=True)
        except Exception as exc:  # one trade must not stop the others
            _defer(trade_id, exc)
    return applied
