"""Draining, applying and reconciling outbox records (exactly once per record).

Jobs drain rather than carry: after a commit that wrote records, a *drain* of each queue
concerned is requested (``request_drain``), coalesced so that at most one is waiting per queue
however many commits ask. A drain claims up to ``OUTBOX_BATCH_SIZE`` due records of its
queue's topics, oldest first, ``FOR UPDATE SKIP LOCKED`` (so several workers share a backlog
without waiting on each other), applies them in one transaction and repeats until the queue is
empty or its time budget is spent. A partitioned topic's partition is drained by one worker at
a time (``jobs.exclusive``): a drain that finds its partition taken returns at once, and the
holder runs again if that happened during its last claim. A trickle and a backlog take the
same batched path, and the number of jobs in flight does not set the number of transactions.

Applying: consecutive records of one topic form a run; a batch topic's run goes to its handler
in one call, other topics record by record, all in the claim's transaction, then every record
is marked processed and the transaction commits. If anything fails, the claim is rolled back
and its records are applied one at a time, each in its own transaction; a record that still
fails keeps ``attempts`` and ``last_error`` and is not retried before ``available_at`` (an
exponential backoff); a drain is scheduled for then (RQ's scheduler), and the reconciler
catches anything left behind (Redis down, worker killed mid-batch: its locks die with its
connection and the records are claimed again).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from marketplace.core import jobs
from marketplace.core.db import any_of, db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.outbox.registry import batch_size, handlers, install

log = logging.getLogger("marketplace.outbox")

DRAIN_SECONDS = 60.0  # a drain hands over to a fresh job after this long (job timeout: 300 s)
# A partition's drain hands over sooner: its job goes to the back of the queue, behind the other
# partitions' drains (and the worker looks at its higher-priority queues first). Holding one
# partition for a minute let the others pile up behind it (with fewer workers than
# partitions, or workers busy with the ledger), and a backlog then ended on one worker alone,
# the others idle: a partition is drained by one worker at a time.
PARTITION_SLICE_SECONDS = 2.0
BACKOFF_SECONDS = (5, 15, 60, 300, 900, 3600)


def init_app(app: Flask) -> None:
    """Give ``app`` an empty registry; request drains for what a transaction wrote once it
    commits."""
    install(app)
    for name, listener in (("after_commit", _after_commit),
                           ("after_soft_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def queue_topics(queue: str, partitioned: bool = False) -> list[str]:
    """The topics of ``queue`` drained without a partition, or (``partitioned``) with one."""
    return sorted(topic for topic, h in handlers().items()
                  if h.queue == queue and bool(h.partitions) == partitioned)


def _drain_key(queue: str, partition: int | None) -> str:
    return f"outbox-drain:{queue}" + ("" if partition is None else f":{partition}")


def request_drain(queue: str, partition: int | None = None, *, force: bool = False) -> None:
    """Have a drain of ``queue`` (of one partition of its partitioned topics) run soon:
    enqueued unless one is already waiting (``force``: enqueue anyway). Never raises: what is
    not drained now is drained by the reconciler."""
    try:
        jobs.enqueue_coalesced(drain, queue, partition, queue=queue,
                               key=_drain_key(queue, partition), force=force)
    except Exception:
        log.warning("could not request a drain of queue %s; the reconciler will", queue,
                    exc_info=True)


def dispatch(records: Iterable[tuple[int, str, int | None]]) -> None:
    """After a commit: request a drain for each (queue, partition) the records belong to."""
    for queue, partition in sorted({(handlers()[topic].queue, key)
                                    for _, topic, key in records},
                                   key=lambda qp: (qp[0], -1 if qp[1] is None else qp[1])):
        request_drain(queue, partition)


def drain(queue: str, partition: int | None = None) -> int:
    """Apply the due records of ``queue``'s topics (with ``partition``: of its partitioned
    topics, that partition only), a claim at a time, until none is left or ``DRAIN_SECONDS``
    (a partition: ``PARTITION_SLICE_SECONDS``) have passed (then another drain is requested).
    Returns how many were applied. Failures are recorded on their records, never raised."""
    topics = queue_topics(queue, partitioned=partition is not None)
    linger = max((handlers()[t].linger_ms for t in topics), default=0) if partition is not None \
        else 0
    if linger:  # collect a trickle's records; drains requested meanwhile coalesce into this one
        time.sleep(linger / 1000)
    jobs.clear_coalesced(_drain_key(queue, partition))
    if not topics:
        return 0
    if partition is None:  # unpartitioned: drains share a backlog (SKIP LOCKED)
        return _drain(queue, None, topics, jobs.no_renew)
    # A partition is drained by one worker at a time (its records share users' rows: two
    # drains would wait on each other); a drain that finds it taken leaves it to the holder.
    with jobs.exclusive(_drain_key(queue, partition),
                        lambda: request_drain(queue, partition, force=True)) as renew:
        if renew is None:
            return 0
        return _drain(queue, partition, topics, renew)


def _drain(queue: str, partition: int | None, topics: list[str], renew: Any) -> int:
    condition = _due(topics)
    if partition is not None:
        condition = condition & (OutboxMessage.partition_key == partition)
    seconds = DRAIN_SECONDS if partition is None else PARTITION_SLICE_SECONDS
    # Inline jobs (no Redis): no other worker to hand over to, and a drain requested now would
    # run nested in this one (a long backlog would recurse): drain it all here.
    hand_over = not jobs.is_inline()
    size, deadline, applied, failed = batch_size(topics), time.monotonic() + seconds, 0, 0
    while True:
        claimed, done = _apply_claim(condition, size, renew=renew)
        applied += done
        failed += claimed - done  # failed, or taken by another worker meanwhile
        if claimed < size:
            break
        if hand_over and time.monotonic() > deadline:
            request_drain(queue, partition, force=True)
            break
        renew()
    if failed:  # (one query saved per drain in the usual case)
        _schedule_retry(queue, partition, topics)
    return applied


def process(message_ids: list[int]) -> int:
    """Apply these records if still unprocessed, whatever their backoff; return how many were
    applied. The first failure is re-raised once all were tried (tests and manual replays)."""
    ids = sorted(set(message_ids))
    if not ids:
        return 0
    _, applied = _apply_claim(any_of(OutboxMessage.id, ids), len(ids), raise_errors=True)
    return applied


def _due(topics: list[str]):
    now = utcnow()
    return (OutboxMessage.topic.in_(topics)
            & or_(OutboxMessage.available_at.is_(None), OutboxMessage.available_at <= now))


def _apply_claim(condition: Any, limit: int, *, raise_errors: bool = False,
                 renew: Any = jobs.no_renew) -> tuple[int, int]:
    """Claim up to ``limit`` unprocessed records matching ``condition`` and apply them in one
    transaction (falling back to one transaction per record, ``renew`` called after each:
    a partition's lock outlives a fallback of thousands); return (claimed, applied)."""
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload,
               OutboxMessage.created_at)
        .where(OutboxMessage.processed_at.is_(None), condition)
        .order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        db.session.rollback()
        return 0, 0
    try:
        _apply(rows)
        db.session.execute(
            update(OutboxMessage).where(any_of(OutboxMessage.id, [r.id for r in rows]))
            .values(processed_at=utcnow(), attempts=OutboxMessage.attempts + 1))
        db.session.commit()
        return len(rows), len(rows)
    except Exception:
        db.session.rollback()
        if len(rows) > 1:
            log.warning("outbox claim of %d records failed; applying them one by one",
                        len(rows), exc_info=True)
    applied, first_error = 0, None
    for row in rows:
        try:
            if _apply_one(row.id):
                applied += 1
        except Exception as exc:
            db.session.rollback()
            _record_failure(row.id, exc)
            first_error = first_error or exc
        renew()
    if first_error is not None and raise_errors:
        raise first_error
    return len(rows), applied


def _apply(rows: list[Any]) -> None:
    """Apply claimed records in id order: runs of one topic (a refund stays after its trade's
    completion); a batch topic's run in one call of its handler."""
    for topic, run in itertools.groupby(rows, key=lambda r: r.topic):
        h = handlers()[topic]
        if h.batch:
            h.func(list(run))
        else:
            for record in run:
                h.func(record)


def _apply_one(message_id: int) -> bool:
    row = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload,
               OutboxMessage.created_at)
        .where(OutboxMessage.id == message_id, OutboxMessage.processed_at.is_(None))
        .with_for_update(skip_locked=True)).first()
    if row is None:
        db.session.rollback()
        return False
    _apply([row])
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                       .values(processed_at=utcnow(), attempts=OutboxMessage.attempts + 1))
    db.session.commit()
    return True


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def _record_failure(message_id: int, exc: Exception) -> None:
    log.error("outbox record %s failed: %r", message_id, exc, exc_info=exc)
    attempts = db.session.scalar(select(OutboxMessage.attempts)
                                 .where(OutboxMessage.id == message_id)) or 0
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id)
        .values(attempts=attempts + 1, last_error=repr(exc)[:2000],
                available_at=utcnow() + backoff(attempts + 1)))
    db.session.commit()


def _schedule_retry(queue: str, partition: int | None, topics: list[str]) -> None:
    """If records of this drain wait out a backoff, schedule a drain for the first of them."""
    query = (select(func.min(OutboxMessage.available_at))
             .where(OutboxMessage.processed_at.is_(None), OutboxMessage.topic.in_(topics),
                    OutboxMessage.available_at > utcnow()))
    if partition is not None:
        query = query.where(OutboxMessage.partition_key == partition)
    first: datetime | None = db.session.scalar(query)
    db.session.rollback()
    if first is None:
        return
    try:
        jobs.enqueue_at(first, drain, queue, partition, queue=queue)
    except Exception:
        log.warning("could not schedule a retry drain of %s; the reconciler will", queue,
                    exc_info=True)


def reconcile(grace: timedelta) -> int:
    """Request a drain of every queue with due records older than ``grace`` (missed: Redis
    was down, a worker died); return how many such records there are. One query."""
    cutoff = utcnow() - grace
    rows = db.session.execute(
        select(OutboxMessage.topic, OutboxMessage.partition_key, func.count())
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.created_at < cutoff,
               or_(OutboxMessage.available_at.is_(None),
                   OutboxMessage.available_at <= utcnow()))
        .group_by(OutboxMessage.topic, OutboxMessage.partition_key)).all()
    db.session.rollback()
    registered = handlers()
    drains = {(registered[topic].queue, key if registered[topic].partitions else None)
              for topic, key, _ in rows if topic in registered}
    for queue, partition in sorted(drains, key=lambda d: (d[0], -1 if d[1] is None else d[1])):
        request_drain(queue, partition, force=True)
    return sum(count for *_, count in rows)


def reconcile_due() -> int:
    """The periodic reconciler: ``reconcile`` with the configured grace period."""
    return reconcile(timedelta(seconds=current_app.config["OUTBOX_GRACE_SECONDS"]))


def pending_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None))
    ) or 0


# After commit, request drains for what the transaction wrote; after a rollback, forget it.
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not the commit
        return
    written = session.info.pop("outbox_written", None)
    if written:
        dispatch(written)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("outbox_written", None)
