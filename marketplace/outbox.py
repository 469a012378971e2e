"""Transactional outbox: side effects that must not be lost.

A service calls ``write(topic, payload)`` inside the transaction that changes state; the record
commits or rolls back with it. Right after commit the records are enqueued (``dispatch``); a
periodic reconciler re-enqueues any left behind (Redis down, worker killed). ``process`` applies
a record's handler and marks it processed in one transaction, with the row locked, so each
record takes effect exactly once however often it is enqueued.

Topics registered with ``batch=True`` (the carbon ledger) take a faster path: a whole job's
records are locked at once (``FOR UPDATE SKIP LOCKED``), applied by one call of the handler
with set-based SQL, marked processed and committed together. If that fails, the batch is rolled
back and its records are applied one by one, so one bad record does not block the others.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    String,
    Text,
    any_,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.extensions import db

log = logging.getLogger("marketplace.outbox")

BATCH_SIZE = 2000  # default of OUTBOX_BATCH_SIZE, used outside an app context


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
    func: Callable[[Any], None]
    queue: str
    batch: bool = False


_HANDLERS: dict[str, Handler] = {}


def handler(topic: str, queue: str = "default", *, batch: bool = False):
    """Register the function that applies records of ``topic`` (inside the record's
    transaction: it must not commit).

    With ``batch=True`` the function takes a list of records (objects with ``id``, ``topic``,
    ``payload`` and ``created_at``, in id order) and applies them all in the one transaction;
    it must apply each exactly as it would alone (the per-record fallback calls it with a
    one-element list).
    """

    def decorator(func: Callable[[Any], None]):
        if topic in _HANDLERS:
            raise ValueError(f"two handlers for outbox topic {topic!r}")
        _HANDLERS[topic] = Handler(func, queue, batch)
        return func

    return decorator


def batch_size() -> int:
    if has_app_context():
        return int(current_app.config.get("OUTBOX_BATCH_SIZE") or BATCH_SIZE)
    return BATCH_SIZE


def write(topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Add a record to the current transaction; it is dispatched after commit."""
    if topic not in _HANDLERS:
        raise ValueError(f"no handler for outbox topic {topic!r}")
    message = OutboxMessage(topic=topic, payload=payload)
    db.session.add(message)
    db.session.info.setdefault("outbox_new", []).append(message)
    return message


_PG_WRITE_MANY = text("""
    INSERT INTO outbox_messages (topic, payload, created_at, attempts)
    SELECT :topic, p, :now, 0 FROM json_array_elements(CAST(:rows AS json)) AS p
    RETURNING id
""")


def write_many(topic: str, payloads: list[dict[str, Any]]) -> list[int]:
    """Add many records of one topic to the current transaction with one statement (the
    ledger's batch path); like ``write``, they are dispatched after commit."""
    if topic not in _HANDLERS:
        raise ValueError(f"no handler for outbox topic {topic!r}")
    if not payloads:
        return []
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(_PG_WRITE_MANY, {
            "topic": topic, "now": now, "rows": json.dumps(payloads)}))
    else:
        ids = list(db.session.scalars(
            insert(OutboxMessage).values([
                {"topic": topic, "payload": p, "created_at": now, "attempts": 0}
                for p in payloads]).returning(OutboxMessage.id)))
    db.session.info.setdefault("outbox_flushed", []).extend((i, topic) for i in ids)
    return ids


def dispatch(message_ids: Iterable[tuple[int, str]]) -> None:
    """Enqueue processing jobs for (id, topic) pairs, one batch job per queue.

    Never raises: a record that could not be enqueued is picked up by the reconciler.
    """
    from workers.jobs import process_outbox  # the job module imports services: late import
    from workers.queues import enqueue

    by_queue: dict[str, list[int]] = defaultdict(list)
    for message_id, topic in message_ids:
        by_queue[_HANDLERS[topic].queue].append(message_id)
    size = batch_size()
    for queue, ids in by_queue.items():
        for start in range(0, len(ids), size):
            chunk = sorted(ids[start:start + size])
            try:
                enqueue(process_outbox, chunk, queue=queue)
            except Exception:
                log.warning("could not enqueue outbox records %s; the reconciler will",
                            chunk, exc_info=True)


def process(message_ids: list[int]) -> int:
    """Apply each unprocessed record once; return how many were applied.

    Records of batch topics are applied together in one transaction (``_process_batch``); the
    others, and any batch that failed, get one transaction per record. On PostgreSQL rows are
    locked with SKIP LOCKED, so a record being applied by another worker is skipped (it will be
    done, or, if that worker dies, released and retried). A failing record does not stop the
    others; the first error is re-raised at the end so the job is retried.
    """
    applied = 0
    first_error: Exception | None = None
    ids = sorted(set(message_ids))
    batch_topics = [topic for topic, h in _HANDLERS.items() if h.batch]
    if batch_topics and ids:
        try:
            done = _process_batch(ids, batch_topics)
        except Exception:
            db.session.rollback()
            log.warning("outbox batch of %d records failed; applying them one by one",
                        len(ids), exc_info=True)
            done = set()
        applied += len(done)
        ids = [i for i in ids if i not in done]
        if done and ids:
            # Only what is still pending goes through the slow path (one query, no lock).
            pending = set(db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.processed_at.is_(None))))
            db.session.rollback()
            ids = [i for i in ids if i in pending]
    for message_id in ids:
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


def _id_in(ids: list[int]):
    """``id IN (...)``; on PostgreSQL ``id = ANY(array)``: one parameter, not one per id."""
    if db.session.get_bind().dialect.name == "postgresql":
        return OutboxMessage.id == any_(db.literal(ids, ARRAY(BigInteger)))
    return OutboxMessage.id.in_(ids)


def _process_batch(ids: list[int], topics: list[str]) -> set[int]:
    """Lock the unprocessed records of ``topics`` among ``ids`` (skipping any locked by another
    worker), apply them in runs of one topic, mark them processed and commit once."""
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload,
               OutboxMessage.created_at)
        .where(_id_in(ids), OutboxMessage.processed_at.is_(None),
               OutboxMessage.topic.in_(topics))
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        db.session.rollback()
        return set()
    # Consecutive runs keep id order across topics (a refund after its trade's completion).
    for topic, run in itertools.groupby(rows, key=lambda r: r.topic):
        _HANDLERS[topic].func(list(run))
    done = [r.id for r in rows]
    db.session.execute(
        update(OutboxMessage).where(_id_in(done))
        .values(processed_at=utcnow(), attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return set(done)


def _process_one(message_id: int) -> bool:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if message is None:
        db.session.rollback()
        return False
    h = _HANDLERS[message.topic]
    if h.batch:
        h.func([message])
    else:
        h.func(message)
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
