"""Effects of the return and dispute transitions (``machine``), run by ``engine`` like every
effect: inside the transition's transaction, on the locked trade, never calling Stripe.

A refund they record (``record_refund``) was made by the caller before the transition,
outside any row lock (``refunding.refund_then_apply``), and arrives in
``details["stripe_refund"]``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.core import audit
from marketplace.core.db import db
from marketplace.core.errors import Conflict
from marketplace.trades.context import Context
from marketplace.trades.models import Trade, TradeRefund
from marketplace.trades.recourse_models import (
    Dispute,
    DisputeEntry,
    DisputeStatus,
    ReturnStatus,
    TradeReturn,
)
from marketplace.uploads import services as uploads


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[key]))


def received_at(trade: Trade) -> datetime | None:
    """When the buyer had the device, as far as the trade knows: the carrier's delivery
    moment once shipments are tracked (``delivered_at``), the shipping moment until then."""
    return getattr(trade, "delivered_at", None) or trade.shipped_at


def return_of(trade_id: int) -> TradeReturn | None:
    return db.session.scalar(select(TradeReturn).where(TradeReturn.trade_id == trade_id))


def dispute_of(trade_id: int) -> Dispute | None:
    return db.session.scalar(select(Dispute).where(Dispute.trade_id == trade_id))


# ---- returns -----------------------------------------------------------------------------
def record_return_request(ctx: Context) -> None:
    trade = ctx.trade
    since = received_at(trade)
    window = _seconds("RETURN_WINDOW_SECONDS")
    if since is None or ctx.now > since + window:
        raise Conflict(f"cannot request return: the return window ({window.days} days after "
                       "receipt) is over", {"status": [trade.status]})
    if return_of(trade.id) is not None:
        raise Conflict("cannot request return: a return was already requested for this trade",
                       {"status": [trade.status]})
    db.session.add(TradeReturn(trade_id=trade.id, status=ReturnStatus.REQUESTED.value,
                               reason=ctx.details["reason"], requested_at=ctx.now))


def start_return_answer_timer(ctx: Context) -> None:
    ctx.trade.due_at = ctx.now + _seconds("RETURN_ANSWER_WINDOW_SECONDS")


def _return(ctx: Context) -> TradeReturn:
    ret = return_of(ctx.trade.id)
    if ret is None:  # states return_requested / returning always have one
        raise LookupError(f"trade {ctx.trade.id} has no return")
    return ret


def record_return_accepted(ctx: Context) -> None:
    ret = _return(ctx)
    ret.status, ret.answered_at = ReturnStatus.ACCEPTED.value, ctx.now


def start_return_timer(ctx: Context) -> None:
    ctx.trade.due_at = ctx.now + _seconds("RETURN_COMPLETION_WINDOW_SECONDS")


def record_return_shipment(ctx: Context) -> None:
    ret = _return(ctx)
    ret.carrier = ctx.details["carrier"]
    ret.tracking_number = ctx.details["tracking_number"]
    ret.status, ret.shipped_at = ReturnStatus.SHIPPED_BACK.value, ctx.now


def record_return_received(ctx: Context) -> None:
    ret = _return(ctx)
    ret.status, ret.received_at = ReturnStatus.RECEIVED.value, ctx.now


def record_return_refused(ctx: Context) -> None:
    ret = _return(ctx)
    ret.status, ret.answered_at = ReturnStatus.REFUSED.value, ctx.now
    ret.refusal_reason = ctx.details["reason"]
    ctx.details.update(origin="return_refused", buyer_reason=ret.reason)


def record_return_escalated(ctx: Context) -> None:
    ret = _return(ctx)
    ret.status = ReturnStatus.ESCALATED.value
    ctx.details.update(origin="return_stalled", buyer_reason=ret.reason)


# ---- disputes ----------------------------------------------------------------------------
def open_dispute(ctx: Context) -> None:
    """The dispute and the first entries of its timeline: the buyer's reason and evidence;
    after a refused return, the seller's refusal as their first reply."""
    trade, details = ctx.trade, ctx.details
    origin = details.get("origin", "dispute")
    reason = details.get("buyer_reason") or details["reason"]
    dispute = Dispute(trade_id=trade.id, buyer_id=trade.buyer_id, seller_id=trade.seller_id,
                      origin=origin, reason=reason, status=DisputeStatus.OPEN.value,
                      created_at=ctx.now)
    db.session.add(dispute)
    db.session.flush()
    trade.dispute_reason = reason
    buyer_id = trade.buyer_id
    if origin == "dispute":
        photo_ids = details.pop("photo_ids", None) or []
        entry = DisputeEntry(dispute_id=dispute.id, author_role="buyer", author_id=buyer_id,
                             kind="opened", text="\n\n".join(filter(None, [
                                 reason, details.pop("evidence_text", None)])),
                             photo_ids=photo_ids, created_at=ctx.now)
        db.session.add(entry)
        db.session.flush()
        uploads.attach(buyer_id, photo_ids, "dispute_entry", entry.id)  # 422: not theirs
    else:
        db.session.add(DisputeEntry(dispute_id=dispute.id, author_role="buyer",
                                    author_id=buyer_id, kind="opened",
                                    text=f"Return requested: {reason}", created_at=ctx.now))
        if origin == "return_refused":
            db.session.add(DisputeEntry(dispute_id=dispute.id, author_role="seller",
                                        author_id=trade.seller_id, kind="reply",
                                        text=details["reason"], created_at=ctx.now))
        else:
            db.session.add(DisputeEntry(dispute_id=dispute.id, author_role="system",
                                        kind="note", created_at=ctx.now,
                                        text="The return stalled (no answer, or not "
                                             "confirmed received in time)."))
    details.pop("buyer_reason", None)
    ctx.details["dispute_id"] = dispute.id


def close_dispute(ctx: Context) -> None:
    dispute = dispute_of(ctx.trade.id)
    if dispute is None:  # disputes.resolve_trade makes sure there is one
        raise LookupError(f"trade {ctx.trade.id} has no dispute")
    name = ctx.transition.name.removeprefix("resolve_")
    dispute.status, dispute.outcome = DisputeStatus.RESOLVED.value, name
    dispute.refund_amount = (ctx.details.get("refund") or {}).get("amount")
    dispute.resolution_note = ctx.details.get("note")
    dispute.resolved_by, dispute.resolved_at = ctx.actor_id, ctx.now
    dispute.pending_resolution = None
    text = f"Resolved: {name}" + (f". {dispute.resolution_note}"
                                  if dispute.resolution_note else "")
    db.session.add(DisputeEntry(dispute_id=dispute.id, author_role="admin",
                                author_id=ctx.actor_id, kind="resolution", text=text,
                                created_at=ctx.now))
    ctx.details["dispute_id"] = dispute.id
    audit.record("dispute.resolved", "dispute", dispute.id, actor_id=ctx.actor_id,
                 details={"trade_id": ctx.trade.id, "outcome": name,
                          "refund_amount": dispute.refund_amount,
                          "currency": ctx.trade.currency})


# ---- refunds made before the transition ---------------------------------------------------
def record_refund(ctx: Context) -> None:
    """Record the refund the caller made with Stripe (``details["stripe_refund"]``); adopt it
    if Stripe's ``charge.refunded`` webhook recorded it first."""
    trade = ctx.trade
    made = ctx.details.pop("stripe_refund")
    known = db.session.scalar(select(TradeRefund).where(
        TradeRefund.stripe_refund_id == made["id"]))
    if known is not None:
        known.reason = ctx.transition.name
        ctx.refund = known
        ctx.details["refund"] = {"id": made["id"], "amount": known.amount, "adopted": True}
        return
    row = TradeRefund(trade_id=trade.id, stripe_refund_id=made["id"], amount=made["amount"],
                      reason=ctx.transition.name,
                      after_completion=trade.completed_at is not None, created_at=ctx.now)
    db.session.add(row)
    trade.refunded_amount += made["amount"]
    ctx.refund = row
    ctx.details["refund"] = {"id": made["id"], "amount": made["amount"]}
