"""Which handler applies each topic, which topics features write, and writing records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import insert, text

from marketplace.core.db import db
from marketplace.core.dbtypes import json_dumps, utcnow
from marketplace.core.outbox.models import BATCH_SIZE, OutboxMessage


@dataclass(frozen=True)
class Handler:
    func: Callable[[Any], None]
    queue: str
    batch: bool = False
    partitions: int = 0  # > 0: records carry a partition key; one drain per partition
    linger_ms: int = 0  # a partition's drain waits this long before claiming (a trickle)
    batch_size: int = 0  # > 0: records claimed at a time (else OUTBOX_BATCH_SIZE)


@dataclass
class Registry:
    """An app's outbox topics: who handles each, and which ones the features write."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)


_EXTENSION = "reloop.outbox"


def install(app: Flask) -> None:
    app.extensions[_EXTENSION] = Registry()


def registry(app: Flask | None = None) -> Registry:
    return (app or current_app).extensions[_EXTENSION]


def register_handler(app: Flask, topic: str, func: Callable[[Any], None], *,
                     queue: str = "default", batch: bool = False, partitions: int = 0,
                     linger_ms: int = 0, batch_size: int = 0) -> None:
    """Register the function that applies records of ``topic`` (inside the record's
    transaction: it must not commit). Registering a topic twice is an error.

    With ``batch=True`` the function takes a list of records (objects with ``id``, ``topic``,
    ``payload`` and ``created_at``, in id order) and applies them all in the one transaction;
    it must apply each exactly as it would alone (the per-record fallback calls it with a
    one-element list).

    With ``partitions=N`` writers give each record a ``partition_by`` value (e.g. a user id)
    and records go to partition ``partition_by % N``; each partition is drained on its own, so
    records of one partition (one user's) are applied in order by one worker at a time while
    other workers take other partitions. ``linger_ms``: a partition's drain first waits that
    long, so that under a trickle it claims the records of several commits at once (commits
    made meanwhile do not request another drain: it is still waiting). ``batch_size``: the
    records a drain of this topic claims at a time (0: ``OUTBOX_BATCH_SIZE``; a drain of
    several topics claims the smallest of theirs).
    """
    handlers = registry(app).handlers
    if topic in handlers:
        raise ValueError(f"two handlers for outbox topic {topic!r}")
    if partitions < 0 or partitions > 1024:
        raise ValueError("partitions must be between 0 and 1024")
    if batch_size < 0:
        raise ValueError("batch_size must be positive (or 0: the default)")
    handlers[topic] = Handler(func, queue, batch, partitions, max(0, int(linger_ms)),
                              int(batch_size))


def declare_writes(app: Flask, *topics: str) -> None:
    """Declare the topics a feature writes; ``check`` fails start-up if one has no handler."""
    registry(app).written.update(topics)


def check(app: Flask) -> None:
    """Fail loudly at start-up if a topic that code writes has no handler."""
    reg = registry(app)
    missing = sorted(reg.written - reg.handlers.keys())
    if missing:
        raise RuntimeError(f"outbox topics written but not handled: {', '.join(missing)}")


def handlers() -> dict[str, Handler]:
    return registry().handlers


def _checked(topic: str) -> Handler:
    reg = registry()
    if topic not in reg.written or topic not in reg.handlers:
        raise ValueError(f"outbox topic {topic!r} is not declared with a handler")
    return reg.handlers[topic]


def _partition(h: Handler, topic: str, partition_by: int | None) -> int | None:
    if not h.partitions:
        if partition_by is not None:
            raise ValueError(f"outbox topic {topic!r} is not partitioned")
        return None
    if partition_by is None:
        raise ValueError(f"outbox topic {topic!r} needs a partition_by value")
    return int(partition_by) % h.partitions


def batch_size(topics: list[str] | None = None) -> int:
    """Records claimed at a time: ``OUTBOX_BATCH_SIZE``, or for a drain of ``topics`` the
    smallest of their handlers' own sizes where they set one."""
    if not has_app_context():
        return BATCH_SIZE
    own = [h.batch_size for t in topics or () if (h := handlers().get(t)) and h.batch_size]
    return min(own) if own else int(current_app.config.get("OUTBOX_BATCH_SIZE") or BATCH_SIZE)


# One record: a Core statement compiled once (an ORM object's flush cost about a quarter of
# a trade completion's CPU).
_WRITE_ONE = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)


def write(topic: str, payload: dict[str, Any], *, partition_by: int | None = None) -> int:
    """Insert a record in the current transaction (its payload as it is now); it is
    dispatched after commit. Returns its id."""
    h = _checked(topic)
    key = _partition(h, topic, partition_by)
    message_id = db.session.execute(_WRITE_ONE, {
        "topic": topic, "payload": payload, "partition_key": key, "created_at": utcnow(),
        "attempts": 0}).scalar_one()
    db.session.info.setdefault("outbox_written", []).append((message_id, topic, key))
    return message_id


# The records travel as one JSON document ``[[payload, partition key], …]``: one parameter
# serialised by ``json_dumps`` (an array of JSON texts costs the driver a regular expression
# per quote of every payload).
_PG_WRITE_MANY = text("""
    INSERT INTO outbox_messages (topic, payload, partition_key, created_at, attempts)
    SELECT :topic, r.e -> 0, CAST(r.e ->> 1 AS smallint), :now, 0
    FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS r(e, n)
    ORDER BY r.n
    RETURNING id, partition_key
""")


def write_many(topic: str, payloads: list[dict[str, Any]],
               partition_by: list[int] | None = None) -> list[int]:
    """Add many records of one topic to the current transaction with one statement (the
    ledger's batch path); like ``write``, they are dispatched after commit. ``partition_by``:
    one value per payload for a partitioned topic."""
    h = _checked(topic)
    if not payloads:
        return []
    if partition_by is not None and len(partition_by) != len(payloads):
        raise ValueError("one partition_by value per payload")
    if partition_by is None and not h.partitions:
        keys: list[int | None] = [None] * len(payloads)
    else:
        keys = [_partition(h, topic, None if partition_by is None else partition_by[i])
                for i in range(len(payloads))]
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(_PG_WRITE_MANY, {
            "topic": topic, "now": now,
            "rows": json_dumps([[p, k] for p, k in zip(payloads, keys, strict=True)])}).all()
    else:
        rows = db.session.execute(
            insert(OutboxMessage).values([
                {"topic": topic, "payload": p, "partition_key": k, "created_at": now,
                 "attempts": 0} for p, k in zip(payloads, keys, strict=True)])
            .returning(OutboxMessage.id, OutboxMessage.partition_key)).all()
    db.session.info.setdefault("outbox_written", []).extend(
        (r[0], topic, r[1]) for r in rows)
    return [r[0] for r in rows]


