"""Transitions that refund, with the Stripe call made outside any row lock.

``refund_then_apply`` runs in three steps: (1) lock the trade, check the transition is
allowed (state and actor), decide the amount, let the caller record its decision, commit
(the lock is released); (2) ask Stripe for the refund with an idempotency key fixed by the
trade and the action, holding no lock; (3) apply the transition, which records the refund
(``recourse.record_refund``), and commit. A retry after a failure in (2) or (3) asks Stripe
again with the same key and gets the same refund back, so money is returned once; a refund
whose recording was lost is also recorded by the ``charge.refunded`` webhook and adopted by
the retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.core.db import db
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.payments import stripe_client
from marketplace.trades import engine, machine
from marketplace.trades.models import Trade


def remaining(trade: Trade) -> int:
    return trade.amount_charged - trade.refunded_amount


def checked_amount(trade: Trade, amount: int | None) -> int:
    """``amount`` (default: all that is left), 409 when nothing is left, 422 when more."""
    left = remaining(trade)
    if left <= 0:
        raise Conflict("cannot refund: the trade is already fully refunded",
                       {"status": [trade.status]})
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise InvalidInput("The refund is more than what is left to refund.",
                           {"amount": {"amount": [f"At most {left}."]}})
    return amount


def refund_then_apply(trade_id: int, name: str, actor: str, actor_id: int | None,
                      details: dict[str, Any], key_action: str,
                      decide: Callable[[Trade], int]) -> Trade:
    """See the module docstring. ``decide(trade)`` runs under the lock and returns the amount
    to refund (it may raise, or record the decision); commits twice."""
    try:
        trade = engine.lock(trade_id)
        if trade is None:
            raise LookupError(f"trade {trade_id} does not exist")
        engine.check(trade, machine.get(name), actor)
        amount = decide(trade)
        pi_id, key = trade.payment_intent_id, trade.stripe_key(key_action)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    refund = stripe_client.refund(pi_id, amount, key,
                                  {"trade_id": trade_id, "reloop_key": key})
    try:
        trade = engine.apply(trade_id, name, actor, actor_id,
                             {**details, "stripe_refund": {"id": refund.id, "amount": amount}})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade.id)
