"""Data wiping on a trade: the seller declares how the device was wiped before shipping it
(``ship`` refuses a phone, tablet, laptop or desktop without a declaration); the buyer confirms
at receipt that it came wiped, or reports it, which opens a dispute (the ``dispute``
transition, in the same transaction)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.errors import Conflict, Forbidden
from marketplace.devices import wiping
from marketplace.trades import engine, services
from marketplace.trades.models import Trade
from marketplace.trades.models import TradeStatus as S

_DECLARABLE = (S.PENDING_PAYMENT, S.PAID)
_ANSWERABLE = (S.SHIPPED, S.DISPUTED, S.COMPLETED)


def summary(trade: Trade) -> dict[str, Any] | None:
    """The trade's data-wipe state as shown on it (null when not required nor declared)."""
    wipe = wiping.get(trade.id)
    required = wiping.required(trade.category)
    if wipe is None:
        return {"required": True, "declared": False} if required else None
    return {"required": required, "declared": True, "method": wipe.method,
            "wiped_on": wipe.wiped_on, "certificate_ref": wipe.certificate_ref,
            "declared_at": wipe.declared_at, "buyer_answer": wipe.buyer_answer,
            "answered_at": wipe.answered_at}


def _party(trade_id: int, user: User, role: str) -> Trade:
    trade = services.get(trade_id, user)  # 404 for strangers; due timers applied
    if trade.role_of(user.id) != role:
        raise Forbidden(f"Only the {role} can do this.")
    return trade


def declare(trade_id: int, user: User, data: dict[str, Any]) -> Trade:
    """The seller's declaration, before shipping (a new one replaces the last). Commits."""
    trade = _party(trade_id, user, "seller")
    if trade.status not in _DECLARABLE:
        raise Conflict(f"The wipe is declared before shipping; the trade is {trade.status}.")
    try:
        wiping.declare(trade.id, data["method"], data["wiped_on"], data.get("certificate_ref"))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade_id)


def answer(trade_id: int, user: User, wiped: bool, note: str | None) -> Trade:
    """The buyer's answer at receipt; ``wiped=False`` opens a dispute. Commits."""
    trade = _party(trade_id, user, "buyer")
    if trade.status not in _ANSWERABLE:
        raise Conflict(f"Answer once the device has been shipped; the trade is {trade.status}.")
    if not wiped and trade.status != S.SHIPPED:
        raise Conflict("A device that came with someone's data is reported before receipt is "
                       f"confirmed (the trade is {trade.status}); contact support.")
    try:
        wiping.answer(trade.id, wiped, note)
        if not wiped:
            reason = "The device arrived with the previous owner's data" + (
                f": {note}" if note else ".")
            engine.apply(trade.id, "dispute", "buyer", user.id,
                         {"reason": reason, "data_wipe": wiping.REPORTED})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(Trade, trade_id)
