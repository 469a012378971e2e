"""Stripe webhook handlers for trades, applied once per event, in any order.

- ``payment_intent.succeeded``: ``pending_payment`` → ``paid``, when the PaymentIntent's
  amount and currency are the trade's; otherwise the payment is not applied: the trade is put
  on hold for an admin (``payment_hold``, its payment timer stopped, audit action
  ``trade.payment_held``, trade event ``payment_held``). If the trade was already
  cancelled (it expired, or the buyer's earlier attempt failed) the money arrived for a dead
  trade: ``refund_late_payment`` refunds it. Already paid or later: nothing to do.
- ``payment_intent.payment_failed`` / ``payment_intent.canceled``: ``pending_payment`` →
  ``cancelled``; in any later state (e.g. a ``failed`` delivered after ``succeeded``) ignored.
- ``charge.refunded``: refunds we made are already recorded (refunds table keyed by Stripe
  refund id; the trade row is locked by both sides, so the webhook waits for our commit);
  a refund made elsewhere (the dashboard) is recorded, reduces the payout and, after
  completion, reverses the carbon credit in proportion.

A handler raises ``NotReady`` when no trade has the PaymentIntent yet (the create transaction
has not committed): the event is kept and applied after the commit or by the retries.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from marketplace.core import audit
from marketplace.core.db import db
from marketplace.payments import webhooks
from marketplace.trades import engine, settlement
from marketplace.trades.models import Trade, TradeRefund, TradeStatus

log = logging.getLogger("marketplace.trades.stripe")


def _trade(pi_id: Any) -> Trade:
    trade = None
    if isinstance(pi_id, str) and pi_id:
        trade = db.session.scalars(
            select(Trade).where(Trade.payment_intent_id == pi_id).with_for_update()
            .execution_options(populate_existing=True)).first()
    if trade is None:
        raise webhooks.NotReady(f"no trade has PaymentIntent {pi_id!r} yet")
    return trade


def _details(event: webhooks.WebhookEvent, **extra: Any) -> dict[str, Any]:
    return {"stripe_event": event.id, **{k: v for k, v in extra.items() if v is not None}}


def payment_succeeded(event: webhooks.WebhookEvent) -> None:
    obj = event.object
    trade = _trade(obj.get("id"))
    charge = obj.get("latest_charge")
    charge = charge.get("id") if isinstance(charge, dict) else charge
    details = _details(event, charge_id=charge, amount_received=obj.get("amount_received"))
    mismatch = _mismatch(trade, obj)
    if trade.payment_hold:
        log.info("trade %s is on hold: %s ignored", trade.id, event.type)
    elif mismatch and trade.status == TradeStatus.PENDING_PAYMENT.value:
        _hold(trade, event, mismatch)
    elif trade.status == TradeStatus.PENDING_PAYMENT.value:
        engine.apply(trade.id, "payment_succeeded", "stripe", details=details)
    elif trade.status == TradeStatus.CANCELLED.value and trade.paid_at is None:
        engine.apply(trade.id, "refund_late_payment", "stripe", details=details)
    else:
        log.info("trade %s is %s: %s ignored", trade.id, trade.status, event.type)


def _mismatch(trade: Trade, obj: dict[str, Any]) -> str | None:
    """Why a succeeded PaymentIntent does not pay this trade (None when it does)."""
    expected = (trade.amount_charged, trade.currency.lower())
    for field in ("amount", "amount_received"):
        value = obj.get(field)
        if value is not None and value != expected[0]:
            return f"{field} {value} differs from the trade's {expected[0]}"
    currency = obj.get("currency")
    if not isinstance(currency, str) or currency.lower() != expected[1]:
        return f"currency {str(currency)[:8]!r} differs from the trade's {expected[1]!r}"
    return None


def _hold(trade: Trade, event: webhooks.WebhookEvent, reason: str) -> None:
    log.error("trade %s: payment held for an admin: %s (event %s)", trade.id, reason, event.id)
    trade.payment_hold = reason[:255]
    trade.due_at = None  # the payment timer would cancel (or apply) the payment
    details = _details(event, reason=reason, payment_intent=event.object.get("id"))
    engine.record(trade, "payment_held", "stripe", details)
    audit.record("trade.payment_held", "trade", trade.id, details=details)


def payment_failed(event: webhooks.WebhookEvent) -> None:
    trade = _trade(event.object.get("id"))
    error = event.object.get("last_payment_error") or {}
    if trade.status == TradeStatus.PENDING_PAYMENT.value:
        engine.apply(trade.id, "payment_failed", "stripe", details=_details(
            event, reason=error.get("code") or error.get("message") or "payment_failed"))


def payment_canceled(event: webhooks.WebhookEvent) -> None:
    trade = _trade(event.object.get("id"))
    if trade.status == TradeStatus.PENDING_PAYMENT.value:
        engine.apply(trade.id, "payment_failed", "stripe",
                     details=_details(event, reason="canceled", payment_intent="canceled"))


def charge_refunded(event: webhooks.WebhookEvent) -> None:
    obj = event.object
    trade = _trade(obj.get("payment_intent"))
    refunds = ((obj.get("refunds") or {}).get("data")) or []
    known = set(db.session.scalars(select(TradeRefund.stripe_refund_id)
                                   .where(TradeRefund.trade_id == trade.id)))
    for r in refunds:
        if not isinstance(r, dict) or not webhooks.is_stripe_id(r.get("id")) \
                or r.get("id") in known or r.get("status") == "failed":
            continue
        amount = min(int(r.get("amount") or 0), trade.amount_charged - trade.refunded_amount)
        if amount <= 0:
            continue
        row = TradeRefund(trade_id=trade.id, stripe_refund_id=r["id"], amount=amount,
                          reason="external", after_completion=trade.completed_at is not None)
        db.session.add(row)
        trade.refunded_amount += amount
        if row.after_completion:
            settlement.apply_refund_to_payout(trade, row)
            settlement.write_reversal(trade, row)
        engine.record(trade, "refund_reconciled", "stripe", _details(
            event, refund={"id": r["id"], "amount": amount},
            payout_reduced_by=row.payout_reduced_by if row.after_completion else None))


EVENT_HANDLERS: dict[str, webhooks.Handler] = {
    "payment_intent.succeeded": payment_succeeded,
    "payment_intent.payment_failed": payment_failed,
    "payment_intent.canceled": payment_canceled,
    "charge.refunded": charge_refunded,
}
