"""Incentives' scrape-time gauge for ``/metrics`` (registered in wiring)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from carbon.incentives.models import Reward
from marketplace.core.db import db
from marketplace.core.metrics import Gauge


def gauges() -> Iterator[Gauge]:
    # Id high-water mark, as for ledger transactions: rate() gives rewards issued per second.
    top = db.session.scalar(select(func.max(Reward.id)))
    db.session.rollback()
    yield Gauge("reloop_rewards_written",
                "Rewards issued so far (id high-water mark; use rate())", top or 0)
