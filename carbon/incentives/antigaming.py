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

from marketplace.core.db import db
from marketplace.core.http.pagination import id_page

from .models import CreditEvaluation

if TYPE_CHECKING:
    from .evaluate import Credit

SELF_TRADE, PAIR_LIMIT, DAILY_CAP = "self_trade", "pair_limit", "daily_cap"


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(CreditEvaluation)
                             .where(*conditions)) or 0


def check(c: Credit) -> str | None:
    """The reason the credit earns no rewards, or None (from the user's evaluations)."""
    window = timedelta(days=current_app.config["INCENTIVE_PAIR_WINDOW_DAYS"])
    day = _day(c.occurred_at)
    lo = min(day, c.occurred_at - window)
    prior = db.session.execute(select(
        CreditEvaluation.counterparty_id, CreditEvaluation.occurred_at,
        CreditEvaluation.eligible).where(
        CreditEvaluation.user_id == c.user_id, CreditEvaluation.occurred_at >= lo,
        CreditEvaluation.occurred_at < day + timedelta(days=1))).all()
    return check_against(c, [tuple(r) for r in prior])


def _day(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def limits() -> tuple[timedelta, int, int]:
    """(pair window, pair limit, rewarded trades per day) from the configuration."""
    config = current_app.config
    return (timedelta(days=config["INCENTIVE_PAIR_WINDOW_DAYS"]),
            config["INCENTIVE_PAIR_LIMIT"], config["INCENTIVE_REWARDED_TRADES_PER_DAY"])


def check_against(c: Credit, prior: list[tuple[int, datetime, bool]],
                  limits_: tuple[timedelta, int, int] | None = None) -> str | None:
    """``check`` given the user's other evaluations ``(counterparty, occurred_at, eligible)``
    (at least those within the pair window and the credit's UTC day); ``limits_``:
    ``limits()``, read once by a caller checking many credits."""
    if c.user_id == c.counterparty_id:
        return SELF_TRADE
    window, pair_limit, per_day = limits_ or limits()
    lo = c.occurred_at - window
    pair = sum(1 for cp, at, _ in prior
               if cp == c.counterparty_id and lo < at <= c.occurred_at)
    if pair >= pair_limit:
        return PAIR_LIMIT
    day = _day(c.occurred_at)
    end = day + timedelta(days=1)
    today = sum(1 for _, at, ok in prior if ok and day <= at < end)
    if today >= per_day:
        return DAILY_CAP
    return None


def flagged(cursor: str | None, limit: int) -> dict[str, Any]:
    """Flagged credits, newest first (core pagination)."""
    page = id_page(select(CreditEvaluation).where(CreditEvaluation.flag.is_not(None)),
                   CreditEvaluation.id, limit, cursor)
    page["items"] = [{
        "id": e.id, "trade_id": e.trade_id, "ledger_transaction_id": e.transaction_id,
        "user_id": e.user_id, "counterparty_id": e.counterparty_id, "reason": e.flag,
        "amount_g": e.amount_g, "amount_kgco2e": round(e.amount_g / 1000, 3),
        "occurred_at": e.occurred_at, "evaluated_at": e.evaluated_at} for e in page["items"]]
    return page
