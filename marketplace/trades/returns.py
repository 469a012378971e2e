"""Returns: the buyer asks to send the device back within ``RETURN_WINDOW_SECONDS`` of
receipt (``recourse.received_at``); the seller accepts (the buyer ships it back and is
refunded in full when the seller confirms receipt) or refuses (the trade is disputed, for an
admin to settle). Transitions are in ``machine``; their effects in ``recourse``.

A returned trade never completed, so it earned no carbon credit and nothing is reversed; its
listing is active again (the seller has the device back and may withdraw it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketplace.accounts.models import User
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import NotFound
from marketplace.trades import refunding, services
from marketplace.trades.models import Trade
from marketplace.trades.recourse import return_of
from marketplace.trades.recourse_models import TradeReturn

HOLD_TIMER = timedelta(minutes=15)


def request(trade_id: int, buyer: User, reason: str) -> Trade:
    return services.act(trade_id, buyer, "request_return", {"reason": reason})


def accept(trade_id: int, seller: User) -> Trade:
    return services.act(trade_id, seller, "accept_return")


def refuse(trade_id: int, seller: User, reason: str) -> Trade:
    return services.act(trade_id, seller, "refuse_return", {"reason": reason})


def ship_back(trade_id: int, buyer: User, data: dict[str, Any]) -> Trade:
    return services.act(trade_id, buyer, "ship_return", data)


def receive(trade_id: int, seller: User) -> Trade:
    """The seller has the device back: the buyer is refunded in full (Stripe called outside
    the row lock, ``refunding``)."""
    trade = services.get(trade_id, seller)  # 404 for strangers; applies a due timer first
    role = trade.role_of(seller.id)
    if role is None:
        raise NotFound("No such trade.")
    return refunding.refund_then_apply(trade_id, "receive_return", role, seller.id, {},
                                       "return-refund", _decide)


def _decide(trade: Trade) -> int:
    """Under the lock: everything left is refunded. The return timer is held off meanwhile,
    so it cannot turn the trade into a dispute between the refund and its recording."""
    hold = utcnow() + HOLD_TIMER
    if trade.due_at is not None and trade.due_at < hold:
        trade.due_at = hold
    return refunding.checked_amount(trade, None)


def get(trade_id: int, user: User) -> TradeReturn:
    services.get(trade_id, user)  # 404 for strangers
    ret = return_of(trade_id)
    if ret is None:
        raise NotFound("No return was requested for this trade.")
    return ret
