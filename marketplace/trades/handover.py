"""Local pickup: the buyer's one-time handover code, and the seller's submission of it.

When buyer and seller meet, the buyer shows the code (``GET /trades/{id}/handover-code``,
buyer only, a paid local-pickup trade) and the seller submits it
(``POST /trades/{id}/handover``): the right code completes the trade (``handover``
transition: payout, carbon credit, reviews), as a buyer's confirmation would for a parcel.
The code is 8 random digits, used once.

Guessing (per trade: only the seller can submit, so only the seller can guess)
    Each wrong code counts; after ``HANDOVER_MAX_ATTEMPTS`` (5) wrong codes, submissions are
    refused for ``HANDOVER_LOCKOUT_SECONDS`` (15 min; 429 with ``Retry-After``), the count
    starts again and the code is replaced by a new one (the buyer's app shows the new code).
    That bounds a seller to 5 guesses per 15 minutes against 10^8 codes: over the 5-day
    ship window, about 2,400 guesses, a 0.0024% chance. The legitimate buyer is never locked
    out: reading the code is never limited, and a lockout ends by itself after 15 minutes.
    Every step runs under the trade's row lock, so concurrent guesses are counted one by one.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import UTCDateTime, utcnow
from marketplace.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from marketplace.trades import engine, services
from marketplace.trades.fulfilment import LOCAL_PICKUP
from marketplace.trades.models import Trade, TradeStatus

CODE_DIGITS = 8


class TradeHandover(db.Model):
    __tablename__ = "trade_handovers"

    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"),
                                          primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TooManyAttempts(DomainError):
    status = 429


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def _pickup_trade(trade_id: int, user: User, role: str) -> Trade:
    """The locked local-pickup trade, if ``user`` is its ``role`` (stranger: 404; the other
    party: 403; not a paid pickup: 409)."""
    trade = services.get(trade_id, user)  # 404 for strangers; applies a due timer first
    if trade.role_of(user.id) != role:
        if trade.role_of(user.id) is None:
            raise NotFound("No such trade.")
        raise Forbidden(f"Only the {role} can do this.")
    trade = engine.lock(trade_id)
    if trade.fulfilment != LOCAL_PICKUP:
        raise Conflict("This trade is shipped, not collected: there is no handover code.")
    if trade.status != TradeStatus.PAID:
        raise Conflict(f"No handover: trade is {trade.status}.",
                       {"status": [trade.status]})
    return trade


def _handover(trade: Trade) -> TradeHandover:
    handover = db.session.get(TradeHandover, trade.id)
    if handover is None:
        handover = TradeHandover(trade_id=trade.id, code=_new_code(), failed_attempts=0,
                                 created_at=utcnow())
        db.session.add(handover)
        db.session.flush()
    return handover


def code_for_buyer(trade_id: int, buyer: User) -> dict[str, Any]:
    """The buyer's current code (created on first read). Commits."""
    try:
        trade = _pickup_trade(trade_id, buyer, "buyer")
        handover = _handover(trade)
        result = {"trade_id": trade.id, "code": handover.code,
                  "pickup_city": trade.pickup_city}
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _norm(code: str) -> str:
    """The code's digits in ASCII: a phone keyboard may type Arabic-Indic or fullwidth digits
    (``unicodedata.decimal``); anything else (spaces, dashes) is dropped."""
    return "".join(str(unicodedata.decimal(ch)) for ch in code if ch.isdecimal())


def submit(trade_id: int, seller: User, code: str) -> Trade:
    """The seller submits the buyer's code: the right one completes the trade. Commits."""
    try:
        trade = _pickup_trade(trade_id, seller, "seller")
        handover = _handover(trade)
        now = utcnow()
        if handover.locked_until is not None and handover.locked_until > now:
            wait = max(1, int((handover.locked_until - now).total_seconds()))
            raise TooManyAttempts("Too many wrong codes: wait, then ask the buyer for the "
                                  "code again (it has changed).",
                                  headers={"Retry-After": str(wait)})
        if not secrets.compare_digest(_norm(code).encode(), handover.code.encode()):
            _wrong(handover, now)
            db.session.commit()
            left = int(current_app.config["HANDOVER_MAX_ATTEMPTS"]) - handover.failed_attempts
            msg = (f"Wrong code; {left} attempts left." if handover.locked_until is None
                   else "Wrong code; no attempts left for now.")
            raise InvalidInput(msg, {"code": [msg]})
        handover.used_at = now
        engine.apply(trade.id, "handover", "seller", seller.id, {})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade_id)


def _wrong(handover: TradeHandover, now: datetime) -> None:
    if handover.locked_until is not None:  # an earlier lockout has ended: count afresh
        handover.locked_until, handover.failed_attempts = None, 0
    handover.failed_attempts += 1
    if handover.failed_attempts >= int(current_app.config["HANDOVER_MAX_ATTEMPTS"]):
        lockout = timedelta(seconds=int(current_app.config["HANDOVER_LOCKOUT_SECONDS"]))
        handover.locked_until = now + lockout
        handover.code = _new_code()
