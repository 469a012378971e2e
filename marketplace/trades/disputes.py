"""Disputes: the buyer's reason and evidence, the seller's replies, a timeline, the admin
queue and the admin's resolution.

A dispute opens when the buyer disputes a shipped trade, when the seller refuses a return, or
when a return stalls (``machine``; the record is written by ``recourse.open_dispute``).
Buyer, seller and admins see it and add to its timeline while it is open (evidence, replies,
notes); anyone else gets 404. Photo evidence is a list of opaque upload references, kept as
given until uploads exist to check them against (TODO: validate them then).

Resolution (admin): ``release`` (the seller is paid, the trade completes with its credit),
``refund`` (all of it by default, or ``amount``: the trade ends refunded, no credit) or
``partial_refund`` (``amount`` required, less than what is left: the buyer keeps the device,
the trade completes and keeps its carbon credit in full, the seller is paid the rest). A
refund is made with Stripe outside any row lock (``refunding``); the decision is kept on the
dispute meanwhile (``pending_resolution``) so a retry refunds the same amount once, and a
different decision is a 409 until it is done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.errors import Conflict, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page, value_id_page
from marketplace.payments.stripe_client import PaymentRejected
from marketplace.trades import engine, refunding, services
from marketplace.trades.models import Trade, TradeStatus
from marketplace.trades.recourse import dispute_of
from marketplace.trades.recourse_models import Dispute, DisputeEntry, DisputeStatus
from marketplace.uploads import services as uploads

OUTCOMES = {"release": "resolve_release", "refund": "resolve_refund",
            "partial_refund": "resolve_partial"}
ENTRY_KIND = {"buyer": "evidence", "seller": "reply", "admin": "note"}


# ---- read --------------------------------------------------------------------------------
def _role(dispute: Dispute, user: User) -> str | None:
    if user.id == dispute.buyer_id:
        return "buyer"
    if user.id == dispute.seller_id:
        return "seller"
    return "admin" if user.is_admin else None


def get(dispute_id: int, user: User) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or _role(dispute, user) is None:
        raise NotFound("No such dispute.")
    return dispute


def of_trade(trade_id: int, user: User) -> Dispute:
    services.get(trade_id, user)  # 404 for strangers
    dispute = dispute_of(trade_id)
    if dispute is None:
        raise NotFound("This trade has no dispute.")
    return dispute


def entries(dispute_id: int, user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    """The timeline, oldest first."""
    get(dispute_id, user)
    return id_page(select(DisputeEntry).where(DisputeEntry.dispute_id == dispute_id),
                   DisputeEntry.id, limit, cursor, descending=False)


def queue(status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """Admins: open disputes first, then resolved ones, each oldest first (keyset on
    ``(status, id)``: "open" sorts before "resolved")."""
    query = select(Dispute)
    if status:
        query = query.where(Dispute.status == status)
    return value_id_page(query, Dispute.status, Dispute.id, limit, cursor, _status)


def _status(value: Any) -> str:
    if value not in {s.value for s in DisputeStatus}:
        raise ValueError("not a dispute status")
    return value


# ---- act ---------------------------------------------------------------------------------
def add_entry(dispute_id: int, user: User, text: str, photo_ids: list[int]) -> DisputeEntry:
    """Evidence (buyer), a reply (seller) or a note (admin), while the dispute is open."""
    dispute = get(dispute_id, user)
    if dispute.status != DisputeStatus.OPEN.value:
        raise Conflict(f"cannot add to the dispute: it is {dispute.status}",
                       {"status": [dispute.status]})
    role = _role(dispute, user)
    entry = DisputeEntry(dispute_id=dispute.id, author_role=role, author_id=user.id,
                         kind=ENTRY_KIND[role], text=text, photo_ids=photo_ids)
    db.session.add(entry)
    db.session.flush()
    uploads.attach(user.id, photo_ids, "dispute_entry", entry.id)  # 422: not theirs, or used
    db.session.commit()
    return entry


def resolve(dispute_id: int, admin: User, outcome: str, amount: dict[str, Any] | None,
            note: str | None) -> Trade:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("No such dispute.")
    return resolve_trade(dispute.trade_id, admin, outcome, amount, note)


def resolve_trade(trade_id: int, admin: User, outcome: str, amount: dict[str, Any] | None,
                  note: str | None = None) -> Trade:
    """Resolve the dispute of a trade (also ``POST /admin/trades/{id}/resolve``)."""
    services.require_uninvolved_admin(trade_id, admin)  # 404; 403 for a party
    minor = services.refund_amount_of(trade_id, amount)  # currency 422
    _ensure_dispute(trade_id)
    details = {"outcome": outcome, "amount": minor, "note": note}
    name = OUTCOMES[outcome]
    if outcome == "release":
        return _release(trade_id, admin, details)
    try:
        return refunding.refund_then_apply(
            trade_id, name, "admin", admin.id, details, "dispute-refund",
            lambda trade: _decide(trade, outcome, minor))
    except PaymentRejected:
        _forget_decision(trade_id)
        raise


def _release(trade_id: int, admin: User, details: dict[str, Any]) -> Trade:
    try:
        engine.lock(trade_id)
        pending = _locked_dispute(trade_id).pending_resolution
        if pending:
            raise Conflict(f"cannot release: a {pending['outcome']} is being made",
                           {"pending": [pending["outcome"]]})
        trade = engine.apply(trade_id, "resolve_release", "admin", admin.id, details)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade.id)


def _decide(trade: Trade, outcome: str, minor: int | None) -> int:
    """Under the trade's lock: the amount to refund, recorded on the dispute (a retry of the
    same decision reuses it; another decision is a 409 until this one is done)."""
    dispute = _locked_dispute(trade.id)
    pending = dispute.pending_resolution
    if pending:
        if pending["outcome"] != outcome or minor not in (None, pending["amount"]):
            raise Conflict(f"cannot resolve: a {pending['outcome']} of {pending['amount']} "
                           "is being made", {"pending": [pending["outcome"]]})
        return pending["amount"]
    left = refunding.remaining(trade)
    if outcome == "partial_refund" and (minor is None or minor >= left):
        msg = f"Less than {left}: the buyer keeps part of the price."
        raise InvalidInput("A partial refund needs an amount below what is left.",
                           {"amount": {"amount": [msg]}})
    amount = refunding.checked_amount(trade, minor)
    dispute.pending_resolution = {"outcome": outcome, "amount": amount}
    return amount


def _locked_dispute(trade_id: int) -> Dispute:
    return db.session.scalars(select(Dispute).where(Dispute.trade_id == trade_id)
                              .with_for_update()
                              .execution_options(populate_existing=True)).one()


def _forget_decision(trade_id: int) -> None:
    dispute = dispute_of(trade_id)
    if dispute is not None:
        dispute.pending_resolution = None
        db.session.commit()


def _ensure_dispute(trade_id: int) -> None:
    """Trades disputed before disputes had records get one (so the decision can be kept)."""
    trade = db.session.get(Trade, trade_id)
    if trade.status != TradeStatus.DISPUTED.value or dispute_of(trade_id) is not None:
        return
    db.session.add(Dispute(trade_id=trade.id, buyer_id=trade.buyer_id,
                           seller_id=trade.seller_id, origin="dispute",
                           reason=trade.dispute_reason or "", status=DisputeStatus.OPEN.value))
    db.session.commit()
