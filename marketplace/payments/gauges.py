"""Payments' scrape-time gauges for ``/metrics`` (registered in wiring)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.metrics import Gauge
from marketplace.payments.models import Payout, PayoutStatus, StripeEvent


def gauges() -> Iterator[Gauge]:
    oldest = db.session.scalar(select(func.min(StripeEvent.received_at))
                               .where(StripeEvent.processed_at.is_(None)))
    failing = db.session.scalar(select(func.count()).select_from(Payout)
                                .where(Payout.status == PayoutStatus.FAILED.value))
    db.session.rollback()
    lag = 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
    yield Gauge("reloop_webhook_lag_seconds",
                "Age of the oldest received but unprocessed Stripe event (0: none waiting)", lag)
    yield Gauge("reloop_payouts_failed", "Payouts Stripe refused, waiting for a human",
                failing or 0)
