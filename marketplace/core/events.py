"""Domain events: what happened to whom, published in the transaction that made it happen.

``publish(kind, users, data)`` writes one outbox record (topic ``events.published``) in the
caller's transaction: the event exists if and only if the change committed. Any layer may
publish (``carbon`` as well as marketplace features), since this module is platform. When a
drain applies the record, every subscriber (``subscribe(app, func)``, from a feature's wiring)
is called with the ``Event``, inside the drain's transaction: notifications write the in-app
rows and queue emails, conversations add system messages, webhooks queue deliveries. The
outbox applies each record exactly once; subscribers also key what they write by
``event.id`` (the outbox record id), so a replay writes nothing twice.

Kinds are dotted, ``<subject>.<what>``: ``offer.received``, ``trade.paid``,
``carbon.credited``... (``KINDS`` lists them; publishing another kind is an error, so a typo
cannot silently produce an event nobody can subscribe to).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from marketplace.core import outbox

TOPIC = "events.published"
_EXTENSION = "reloop.events"

KINDS: tuple[str, ...] = (
    "offer.received", "offer.countered", "offer.accepted", "offer.declined", "offer.expired",
    "trade.opened", "trade.paid", "trade.shipped", "trade.delivered", "trade.completed",
    "trade.cancelled", "trade.refunded", "dispute.opened", "dispute.resolved",
    "return.requested", "return.resolved", "review.received", "message.received",
    "carbon.credited", "reward.earned", "voucher.expiring",
)


@dataclass(frozen=True)
class Event:
    id: int                 # the outbox record's id: unique, stable across replays
    kind: str
    users: tuple[int, ...]  # who it concerns (notified)
    data: dict[str, Any]
    created_at: datetime


Subscriber = Callable[[Event], None]


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")


def publish(kind: str, users: Iterable[int], data: dict[str, Any]) -> None:
    """Record an event for ``users`` in the current transaction (does not commit)."""
    _check(kind)
    outbox.write(TOPIC, {"kind": kind, "users": sorted({int(u) for u in users}), "data": data})


def publish_many(events: list[tuple[str, Iterable[int], dict[str, Any]]]) -> None:
    """Many events in one statement (the ledger's and the incentives' batch paths)."""
    for kind, _, _ in events:
        _check(kind)
    outbox.write_many(TOPIC, [{"kind": k, "users": sorted({int(u) for u in users}), "data": d}
                              for k, users, d in events])


def subscribe(app: Flask, func: Subscriber) -> None:
    """Call ``func(event)`` for every event, inside the transaction that applies it (it must
    not commit, and should not talk to the network: queue that through the outbox)."""
    app.extensions[_EXTENSION].append(func)


def _apply(records: list[Any]) -> None:
    subscribers = current_app.extensions[_EXTENSION]
    for record in records:
        p = record.payload
        event = Event(record.id, p["kind"], tuple(p.get("users") or ()), p.get("data") or {},
                      record.created_at)
        for func in subscribers:
            func(event)


def register(app: Flask) -> None:
    """Wire the ``events.published`` topic (called by ``create_app``)."""
    app.extensions[_EXTENSION] = []
    outbox.register_handler(app, TOPIC, _apply, queue="notifications", batch=True)
    outbox.declare_writes(app, TOPIC)
