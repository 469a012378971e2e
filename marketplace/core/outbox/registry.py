"""Which handler applies each topic, which topics features write, and writing records."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import insert, text

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox.models import BATCH_SIZE, OutboxMessage


@dataclass(frozen=True)
class Handler:
    func: Callable[[Any], None]
    queue: str
    batch: bool = False


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
                     queue: str = "default", batch: bool = False) -> None:
    """Register the function that applies records of ``topic`` (inside the record's
    transaction: it must not commit). Registering a topic twice is an error.

    With ``batch=True`` the function takes a list of records (objects with ``id``, ``topic``,
    ``payload`` and ``created_at``, in id order) and applies them all in the one transaction;
    it must apply each exactly as it would alone (the per-record fallback calls it with a
    one-element list).
    """
    handlers = registry(app).handlers
    if topic in handlers:
        raise ValueError(f"two handlers for outbox topic {topic!r}")
    handlers[topic] = Handler(func, queue, batch)


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


def _checked(topic: str) -> str:
    reg = registry()
    if topic not in reg.written or topic not in reg.handlers:
        raise ValueError(f"outbox topic {topic!r} is not declared with a handler")
    return topic


def batch_size() -> int:
    if has_app_context():
        return int(current_app.config.get("OUTBOX_BATCH_SIZE") or BATCH_SIZE)
    return BATCH_SIZE


def write(topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Add a record to the current transaction; it is dispatched after commit."""
    _checked(topic)
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
    _checked(topic)
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


