"""The ledger's scrape-time gauge for ``/metrics`` (registered in wiring)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from carbon.ledger.models import LedgerTransaction
from marketplace.core.db import db
from marketplace.core.metrics import Gauge


def gauges() -> Iterator[Gauge]:
    # The id high-water mark: an index lookup, not a count of the table; rate() of it is the
    # number of ledger transactions (credits and reversals) written per second.
    top = db.session.scalar(select(func.max(LedgerTransaction.id)))
    db.session.rollback()
    yield Gauge("reloop_ledger_transactions_written",
                "Ledger transactions written so far (id high-water mark; use rate())", top or 0)
