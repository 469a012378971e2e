"""Revoking rewards when a credit is reversed (``incentives.reverse``, written by the ledger in
the transaction that posts a reversal).

For each party the reversed credit was evaluated for (``posting.evaluated_parties``): rewards
earned by that credit and still unused are revoked when the credit is fully reversed; on a
partial reversal, only the amount-based ones (thresholds, trees, amount milestones) whose
amount the user's cumulative grams no longer reach: of an aggregated threshold reward (one
per credit, ``units`` crossings), the units above the cumulative grams (``partly_revoked``;
``revoked`` if none is left). Runs after the credit's evaluation (otherwise it raises and the
outbox retries it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from carbon.ledger.models import EntryKind, LedgerAccount, LedgerLine, LedgerTransaction
from carbon.ledger.posting import evaluated_parties
from marketplace.core.db import db

from . import points, rewards
from .evaluate import cumulative_g
from .models import HELD, CreditEvaluation, IncentiveRuleVersion, Reward
from .rules import grams

TOPIC = "incentives.reverse"


class NotEvaluatedYet(RuntimeError):
    """The credit's evaluation has not run yet; the reversal waits (retried)."""


def reverse_record(message: Any) -> int:
    p = message.payload
    return reverse(int(p["credit_transaction_id"]), int(p["reversal_transaction_id"]))


def _reversed_g(user_id: int, trade_id: int | None) -> int:
    return -int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_g), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerAccount.user_id == user_id, LedgerTransaction.trade_id == trade_id,
               LedgerTransaction.kind == EntryKind.REVERSAL.value)) or 0)


def amount_g(reward: Reward) -> int | None:
    """The cumulative grams an amount-based reward stands for; None for the others."""
    key = reward.period_key.split("~", 1)[0]
    if key.startswith(("g:", "tree:")):
        return int(key.split(":", 1)[1])
    if key == "milestone":
        version = db.session.get(IncentiveRuleVersion, reward.rule_version_id)
        at = (version.params or {}).get("at_kg") if version else None
        return grams(at) if at is not None else None
    return None


def reverse(credit_transaction_id: int, reversal_transaction_id: int) -> int:
    credit = db.session.get(LedgerTransaction, credit_transaction_id)
    if credit is None:
        raise LookupError(f"no ledger transaction {credit_transaction_id}")
    meta = credit.meta or {}
    revoked = 0
    # The parties the credit was evaluated for: nobody else earned anything from it (an
    # organisation's share, a credit of 0 g), and waiting for their evaluation would hold
    # the other party's revocation back for ever.
    for user_id in evaluated_parties(meta):
        points.lock_user(user_id)
        evaluation = db.session.scalar(select(CreditEvaluation).where(
            CreditEvaluation.transaction_id == credit.id, CreditEvaluation.user_id == user_id))
        if evaluation is None:
            raise NotEvaluatedYet(f"credit {credit.id} of user {user_id} not evaluated yet")
        fully = _reversed_g(user_id, credit.trade_id) >= evaluation.amount_g
        cumulative = cumulative_g(user_id, reversal_transaction_id)
        earned = db.session.scalars(select(Reward).where(
            Reward.source_transaction_id == credit.id, Reward.user_id == user_id,
            Reward.status.in_(HELD)).order_by(Reward.id)).all()
        for reward in earned:
            if reward.step_g is not None and not fully:  # aggregated crossings
                held = reward.thresholds()[:reward.units - reward.revoked_units]
                if rewards.revoke_units(reward, sum(1 for g in held if g <= cumulative)):
                    revoked += 1
                continue
            needed = amount_g(reward)
            if (fully or (needed is not None and needed > cumulative)) and rewards.revoke(
                    reward):
                revoked += 1
    return revoked
