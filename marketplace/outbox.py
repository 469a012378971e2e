"""Transactional outbox: side effects that must not be lost.

A service calls ``write(topic, payload)`` inside the transaction that changes state; the record
commits or rolls back with it. Right after commit the records are enqueued (``dispatch``); a
periodic reconciler re-enqueues any left behind (Redis down, worker killed). ``process`` applies
a record's handler and marks it processed in one transaction, with the row locked, so each
record takes effect exactly once however often it is enqueued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, String, Text, event, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.extensions import db

log = logging.getLogger("marketplace.outbox")

BATCH_SIZE = 200


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_pending", "created_at",
              postgresql_where=text("processed_at IS NULL"),
              sqlite_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


@dataclass(frozen=True)
class Handler:
    func: Callable[[OutboxMessage], None]
    queue: str


_HANDLERS: dict[str, Handler] = {}


def handler(topic: str, queue: str = "default"):
    """Register the function that applies records of ``topic`` (inside the record's
    transaction: it must not commit)."""

    def decorator(func: Callable[[OutboxMessage], None]):
        if topic in _HANDLERS:
            raise ValueError(f"two handlers for outbox topic {topic!r}")
        _HANDLERS[topic] = Handler(func, queue)
        return func

    return decorator


def write(topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Add a record to the current transaction; it is dispatched after commit."""
    if topic not in _HANDLERS:
        raise ValueError(f"no handler for outbox topic {topic!r}")
    message = OutboxMessage(topic=topic, payload=payload)
    db.session.add(message)
    db.session.info.setdefault("outbox_new", []).append(message)
    return message


def dispatch(message_ids: Iterable[tuple[int, str]]) -> None:
    """Enqueue processing jobs for (id, topic) pairs, one batch job per queue.

    Never raises: a record that could not be enqueued is picked up by the reconciler.
    """
    from workers.jobs import process_outbox  # the job module imports services: late import
    from workers.queues import enqueue

    by_queue: dict[str, list[int]] = defaultdict(list)
    for message_id, topic in message_ids:
        by_queue[_HANDLERS[topic].queue].append(message_id)
    for queue, ids in by_queue.items():
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = sorted(ids[start:start + BATCH_SIZE])
            try:
                enqueue(process_outbox, chunk, queue=queue)
            except Exception:
                log.warning("could not enqueue outbox records %s; the reconciler will",
                            chunk, exc_info=True)


def process(message_ids: list[int]) -> int:
    """Apply each unprocessed record once; return how many were applied.

    Each record gets its own transaction. On PostgreSQL the row is locked with SKIP LOCKED, so
    a record being applied by another worker is skipped (it will be done, or, if that worker
    dies, released and retried). A failing record does not stop the others; the first error is
    re-raised at the end so the job is retried.
    """
    applied = 0
    first_error: Exception | None = None
    for message_id in message_ids:
        try:
            if _process_one(message_id):
                applied += 1
        except Exception as exc:
            db.session.rollback()
            _record_failure(message_id, exc)
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return applied


def _process_one(message_id: int) -> bool:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if message is None:
        db.session.rollback()
        return False
    _HANDLERS[message.topic].func(message)
    message.processed_at = utcnow()
    message.attempts += 1
    db.session.commit()
    return True


def _record_failure(message_id: int, exc: Exception) -> None:
    log.exception("outbox record %s failed", message_id, exc_info=exc)
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=repr(exc)[:2000])
    )
    db.session.commit()


def reconcile(grace: timedelta, limit: int = 10_000) -> int:
    """Re-enqueue records still unprocessed ``grace`` after their last enqueue."""
    now = utcnow()
    cutoff = now - grace
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.topic)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.created_at < cutoff)
        .where((OutboxMessage.enqueued_at.is_(None)) | (OutboxMessage.enqueued_at < cutoff))
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 1000):
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[start:start + 1000]))
            .values(enqueued_at=now)
        )
    db.session.commit()
    dispatch((r.id, r.topic) for r in rows)
    return len(rows)


def pending_count() -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None))
    ) or 0


# Record ids once flushed; after commit, enqueue what the transaction wrote; after a
# rollback, forget it.
@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    new = session.info.pop("outbox_new", None)
    if new:
        session.info.setdefault("outbox_flushed", []).extend((m.id, m.topic) for m in new)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    flushed = session.info.pop("outbox_flushed", None)
    if flushed:
        dispatch(flushed)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("outbox_new", None)
        session.info.pop("outbox_flushed", None)
