"""Anti-gaming checks on each credit before it can earn rewards (the carbon credit itself is
never withheld):

- ``self_trade``: buyer and seller are the same user;
- ``pair_limit``: more than ``INCENTIVE_PAIR_LIMIT`` trades between the same two users within
  ``INCENTIVE_PAIR_WINDOW_DAYS`` (the extra ones earn nothing);
- ``daily_cap``: the user already had ``INCENTIVE_REWARDED_TRADES_PER_DAY`` rewardable trades
  that UTC day.

Flagged credits are kept in ``incentive_evaluations`` with their reason and listed for admins
(``GET /api/v1/admin/incentives/flags``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import func, select

from marketplace.extensions import db

from .models import CreditEvaluation

if TYPE_CHECKING:
    from .evaluate import Credit

SELF_TRADE, PAIR_LIMIT, DAILY_CAP = "self_trade", "pair_limit", "daily_cap"


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(CreditEvaluation)
                             .where(*conditions)) or 0


def check(c: Credit) -> str | None:
    """The reason the credit earns no rewards, or None."""
    config = current_app.config
    if c.user_id == c.counterparty_id:
        return SELF_TRADE
    window = timedelta(days=config["INCENTIVE_PAIR_WINDOW_DAYS"])
    pair = _count(CreditEvaluation.user_id == c.user_id,
                  CreditEvaluation.counterparty_id == c.counterparty_id,
                  CreditEvaluation.occurred_at > c.occurred_at - window,
                  CreditEvaluation.occurred_at <= c.occurred_at)
    if pair >= config["INCENTIVE_PAIR_LIMIT"]:
        return PAIR_LIMIT
    at = c.occurred_at.astimezone(UTC)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    today = _count(CreditEvaluation.user_id == c.user_id, CreditEvaluation.eligible.is_(True),
                   CreditEvaluation.occurred_at >= day,
                   CreditEvaluation.occurred_at < day + timedelta(days=1))
    if today >= config["INCENTIVE_REWARDED_TRADES_PER_DAY"]:
        return DAILY_CAP
    return None


def flagged(cursor: int | None, limit: int) -> dict[str, Any]:
    query = (select(CreditEvaluation).where(CreditEvaluation.flag.is_not(None))
             .order_by(CreditEvaluation.id.desc()).limit(limit + 1))
    if cursor is not None:
        query = query.where(CreditEvaluation.id < cursor)
    rows = db.session.scalars(query).all()
    items = [{"id": e.id, "trade_id": e.trade_id, "ledger_transaction_id": e.transaction_id,
              "user_id": e.user_id, "counterparty_id": e.counterparty_id, "reason": e.flag,
              "amount_g": e.amount_g, "occurred_at": e.occurred_at,
              "evaluated_at": e.evaluated_at} for e in rows[:limit]]
    return {"items": items,
            "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}
