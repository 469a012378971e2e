"""The platform's own scrape-time gauges: the outbox backlog and the RQ queues
(registered with ``metrics.register_gauges`` by the app factory)."""

from __future__ import annotations

from collections.abc import Iterator

from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from marketplace.core import jobs
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.metrics import Gauge
from marketplace.core.outbox.models import OutboxMessage


def outbox() -> Iterator[Gauge]:
    """Unprocessed outbox records and the age of the oldest, by topic."""
    now = utcnow()
    rows = db.session.execute(
        select(OutboxMessage.topic, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.processed_at.is_(None)).group_by(OutboxMessage.topic)).all()
    db.session.rollback()
    for topic, count, oldest in rows:
        yield Gauge("reloop_outbox_pending", "Unprocessed outbox records", count,
                    {"topic": topic})
        yield Gauge("reloop_outbox_oldest_age_seconds", "Age of the oldest unprocessed record",
                    max(0.0, (now - oldest).total_seconds()), {"topic": topic})


def queues() -> Iterator[Gauge]:
    """Jobs waiting and failed jobs kept by RQ, by queue (nothing when jobs run inline)."""
    if jobs.is_inline():
        return
    for name in jobs.QUEUES:
        queue = jobs.get_queue(name)
        yield Gauge("reloop_queue_depth", "Jobs waiting in the RQ queue", queue.count,
                    {"queue": name})
        yield Gauge("reloop_queue_failed_jobs", "Jobs in the RQ failed job registry",
                    FailedJobRegistry(queue=queue).count, {"queue": name})
