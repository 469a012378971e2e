"""Enqueueing, applying and reconciling outbox records (exactly once per record)."""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from flask import Flask
from sqlalchemy import BigInteger, any_, event, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from marketplace.core import jobs
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.outbox.registry import batch_size, handlers, install

log = logging.getLogger("marketplace.outbox")


def init_app(app: Flask) -> None:
    """Give ``app`` an empty registry; enqueue what a transaction wrote once it commits."""
    install(app)
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_soft_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def dispatch(message_ids: Iterable[tuple[int, str]]) -> None:
    """Enqueue processing jobs for (id, topic) pairs, one batch job per queue.

    Never raises: a record that could not be enqueued is picked up by the reconciler.
    """

    by_queue: dict[str, list[int]] = defaultdict(list)
    for message_id, topic in message_ids:
        by_queue[handlers()[topic].queue].append(message_id)
    size = batch_size()
    for queue, ids in by_queue.items():
        for start in range(0, len(ids), size):
            chunk = sorted(ids[start:start + size])
            try:
                jobs.enqueue(process, chunk, queue=queue)
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
    batch_topics = [topic for topic, h in handlers().items() if h.batch]
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
        handlers()[topic].func(list(run))
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
    h = handlers()[message.topic]
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
def _after_flush(session: Session, flush_context) -> None:
    new = session.info.pop("outbox_new", None)
    if new:
        session.info.setdefault("outbox_flushed", []).extend((m.id, m.topic) for m in new)


def _after_commit(session: Session) -> None:
    flushed = session.info.pop("outbox_flushed", None)
    if flushed:
        dispatch(flushed)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("outbox_new", None)
        session.info.pop("outbox_flushed", None)
