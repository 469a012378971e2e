"""Settlement effects of the trade machine: refunds, payouts and carbon events.

Split from ``engine`` (which imports these into its effects table); they run inside the
transition's transaction, like every effect.
"""

from __future__ import annotations

from sqlalchemy import func, select

from carbon.ledger import posting
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.payments import payouts, stripe_client
from marketplace.payments.models import Payout, PayoutStatus
from marketplace.trades.context import Context
from marketplace.trades.models import REFUNDS_KEEPING_CREDIT, Trade, TradeRefund


def refund_full(ctx: Context) -> None:
    remaining = ctx.trade.amount_charged - ctx.trade.refunded_amount
    if remaining > 0:
        _refund(ctx, remaining)


def refund_amount(ctx: Context) -> None:
    """Refund ``details.amount`` (default: what is left) of what the buyer was charged."""
    remaining = ctx.trade.amount_charged - ctx.trade.refunded_amount
    amount = ctx.details.get("amount") or remaining
    if remaining <= 0:
        raise Conflict("cannot refund: the trade is already fully refunded",
                       {"status": [ctx.trade.status]})
    if not 0 < amount <= remaining:
        raise InvalidInput("The refund is more than what is left to refund.",
                           {"amount": {"amount": [f"At most {remaining}."]}})
    _refund(ctx, amount)


def _refund(ctx: Context, amount: int) -> None:
    trade = ctx.trade
    # Numbered by our own refunds only: a refund recorded from Stripe's webhook (``external``,
    # e.g. ours whose response was lost) must not shift the key of a retry, or the retry
    # would refund a second time.
    n = 1 + (db.session.scalar(select(func.count()).select_from(TradeRefund)
                               .where(TradeRefund.trade_id == trade.id,
                                      TradeRefund.reason != "external")) or 0)
    key = trade.stripe_key("refund", n)
    refund = stripe_client.refund(trade.payment_intent_id, amount, key,
                                  {"trade_id": trade.id, "reloop_key": key})
    known = db.session.scalar(select(TradeRefund).where(
        TradeRefund.stripe_refund_id == refund.id))
    if known is not None:
        # Already recorded from the webhook, with its effects: adopt it, count it once.
        known.reason = ctx.transition.name
        ctx.details["refund"] = {"id": refund.id, "amount": known.amount, "adopted": True}
        return
    row = TradeRefund(trade_id=trade.id, stripe_refund_id=refund.id, amount=amount,
                      reason=ctx.transition.name,
                      after_completion=trade.completed_at is not None, created_at=ctx.now)
    db.session.add(row)
    trade.refunded_amount += amount
    ctx.refund = row
    ctx.details["refund"] = {"id": refund.id, "amount": amount}


def schedule_payout(ctx: Context) -> None:
    trade = ctx.trade
    payable = trade.seller_payable
    if payable > 0:
        payouts.schedule_payout(trade.id, trade.seller_id, payable, trade.currency,
                                trade.charge_id)
    ctx.details["payout"] = payable


def credit_carbon(ctx: Context) -> None:
    trade = ctx.trade
    trade.completed_at = ctx.now
    snap = trade.footprint_snapshot or {}
    posting.announce_completion({
        "trade_id": trade.id, "buyer_id": trade.buyer_id, "seller_id": trade.seller_id,
        "avoided_g": trade.avoided_g, "category": trade.category,
        "ewaste_avoided_g": int((snap.get("ewaste_avoided_g") or {}).get("central") or 0),
        "materials_avoided_g": round(
            ((snap.get("materials_avoided_kg") or {}).get("central") or 0) * 1000),
        "listing_id": trade.listing_id, "listing_title": trade.listing_title,
        "buyer_org_id": trade.buyer_organisation_id,
        "seller_org_id": trade.seller_organisation_id,
        "completed_at": ctx.now.isoformat()})
    # Money refunded before completion (from Stripe's dashboard) takes its share of the credit
    # back at once: the same reversal as a refund after completion.
    # Not a refund after which the buyer keeps the device (a partial dispute refund): the
    # device was reused, the credit stays whole.
    for refund in db.session.scalars(select(TradeRefund).where(
            TradeRefund.trade_id == trade.id,
            TradeRefund.reason.not_in(REFUNDS_KEEPING_CREDIT)).order_by(TradeRefund.id)):
        write_reversal(trade, refund)


def reduce_payout(ctx: Context) -> None:
    if ctx.refund is not None:
        apply_refund_to_payout(ctx.trade, ctx.refund)
        ctx.details["payout_reduced_by"] = ctx.refund.payout_reduced_by
        ctx.details["platform_borne"] = ctx.refund.platform_borne


def apply_refund_to_payout(trade: Trade, refund: TradeRefund) -> None:
    """A refund after completion comes out of the seller's payout while it is not transferred
    yet; what cannot (already transferred) is borne by the platform, and recorded. Called
    after ``trade.refunded_amount`` includes the refund. With a voucher discount the payout
    is reduced by the refund's share of the price (``Trade.at_price``)."""
    payout = db.session.scalars(select(Payout).where(Payout.trade_id == trade.id)
                                .with_for_update()
                                .execution_options(populate_existing=True)).first()
    reducible = 0
    if payout is not None and payout.status in (PayoutStatus.PENDING.value,
                                                PayoutStatus.ACCRUED.value,
                                                PayoutStatus.FAILED.value):
        share = (trade.at_price(trade.refunded_amount)
                 - trade.at_price(trade.refunded_amount - refund.amount))
        reducible = min(share, payout.amount)
        payout.amount -= reducible
        if payout.amount == 0:
            payout.status = PayoutStatus.CANCELLED.value
    refund.payout_reduced_by = reducible
    refund.platform_borne = max(0, refund.amount - reducible)


def reverse_carbon(ctx: Context) -> None:
    # Only a completed trade was credited; before completion there is nothing to reverse.
    if ctx.refund is not None and ctx.refund.after_completion:
        write_reversal(ctx.trade, ctx.refund)


def write_reversal(trade: Trade, refund: TradeRefund) -> None:
    outbox.write(posting.REFUNDED_TOPIC, {
        "trade_id": trade.id, "refund_id": refund.stripe_refund_id,
        # The reversed share is refunded / charged (a discounted trade's full refund reverses
        # all of its credit).
        "refunded_amount": refund.amount, "trade_amount": trade.amount_charged})
