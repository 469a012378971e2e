"""What a transition's effects receive: the locked trade, the transition and who moves it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marketplace.core.dbtypes import utcnow
from marketplace.trades import machine
from marketplace.trades.models import Trade, TradeRefund


@dataclass
class Context:
    trade: Trade
    transition: machine.Transition
    actor: str
    actor_id: int | None
    details: dict[str, Any]
    now: datetime = field(default_factory=utcnow)
    refund: TradeRefund | None = None
