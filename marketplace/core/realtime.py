"""Real-time fan-out: a per-user event log in the database, woken through Redis pub/sub.

``record(user_id, kind, payload)`` adds a ``stream_events`` row in the caller's transaction
(a new message, a new notification). After the commit the user ids concerned are published
on the Redis channel ``reloop:realtime`` (embedded default, no Redis: an in-process call).
Each web process runs one listener thread (started by the first open stream) that wakes the
streams of those users; a woken stream reads its user's rows past the last id it sent and
writes them. The database row is the truth and the publish only a wake-up, so a lost publish
(Redis blip, process killed between commit and publish) delays an event to the next re-read
(every 30-60 s, ``RESYNC_SECONDS``, spread so idle streams do not query together) rather than
losing it, and ``Last-Event-ID`` resumes from the table.

Ids come from one sequence but transactions commit in any order, so a row can become visible
after a later id was sent. A stream therefore also re-reads rows of the last ``LOOKBACK``
seconds and sends those it has not sent yet: delivery is at least once (clients drop ids
they have seen), never with a gap.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from redis import Redis
from sqlalchemy import JSON, ForeignKey, Index, String, event, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

log = logging.getLogger("marketplace.realtime")

CHANNEL = "reloop:realtime"
KEEPALIVE_SECONDS = 15.0  # a comment on idle streams (proxies close silent connections)
RESYNC_SECONDS = 60.0     # an idle stream re-reads its rows every 30-60 s (a lost wake-up)
LOOKBACK = timedelta(seconds=10)
BATCH = 200
# Streams of one process reading the table at once: the rest wait here, not on the database
# pool, so a burst of wake-ups can never take the connections the ordinary requests need.
READERS = threading.BoundedSemaphore(8)


class StreamEvent(db.Model):
    __tablename__ = "stream_events"
    __table_args__ = (Index("ix_stream_events_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))   # "notification" | "message"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(user_id: int, kind: str, payload: dict[str, Any]) -> None:
    """Add an event to ``user_id``'s stream in the current transaction."""
    db.session.add(StreamEvent(user_id=user_id, kind=kind, payload=payload))
    db.session.info.setdefault("realtime_users", set()).add(user_id)


# ---- wake-ups ------------------------------------------------------------------------------
class Hub:
    """This process's open streams, by user, and the listener that wakes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[threading.Event]] = defaultdict(set)
        self._listener: threading.Thread | None = None
        self._subscribed = threading.Event()

    def subscribe(self, user_id: int) -> threading.Event:
        waiter = threading.Event()
        with self._lock:
            self._waiters[user_id].add(waiter)
        return waiter

    def unsubscribe(self, user_id: int, waiter: threading.Event) -> None:
        with self._lock:
            self._waiters[user_id].discard(waiter)
            if not self._waiters[user_id]:
                del self._waiters[user_id]

    def open_streams(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    def wake(self, user_ids: list[int]) -> None:
        with self._lock:
            waiters = [w for u in user_ids for w in self._waiters.get(u, ())]
        for waiter in waiters:
            waiter.set()

    def ensure_listener(self, redis_url: str) -> None:
        """Start this process's listener unless it runs; wait (2 s at most) until it is
        subscribed, so a stream opened now misses no wake-up."""
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, args=(redis_url,),
                                                  name="realtime-listener", daemon=True)
                self._listener.start()
        self._subscribed.wait(2.0)

    def _listen(self, redis_url: str) -> None:
        while True:
            try:
                pubsub = Redis.from_url(redis_url, socket_connect_timeout=2,
                                        health_check_interval=30).pubsub(
                    ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                pubsub.get_message(timeout=2.0)  # the subscribe confirmation
                self._subscribed.set()
                for message in pubsub.listen():
                    self.wake([int(u) for u in json.loads(message["data"])])
            except Exception:
                self._subscribed.clear()
                log.warning("realtime listener lost Redis; reconnecting", exc_info=True)
                self.wake(list(self._waiters))  # let every stream re-read the table
                time.sleep(1)


HUB = Hub()


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not the commit
        return
    users = session.info.pop("realtime_users", None)
    if not users:
        return
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    url = app.config.get("REDIS_URL")
    if not url:
        HUB.wake(sorted(users))
        return
    try:
        _redis(app).publish(CHANNEL, json.dumps(sorted(users)))
    except Exception:
        log.warning("could not publish a realtime wake-up; streams will poll", exc_info=True)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint's wake-ups are only extra polls
        session.info.pop("realtime_users", None)


def _redis(app: Flask) -> Redis:
    conn = app.extensions.get("reloop_realtime_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                              socket_timeout=5)
        app.extensions["reloop_realtime_redis"] = conn
    return conn


def init_app(app: Flask) -> None:
    for name, listener in (("after_commit", _after_commit),
                           ("after_soft_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# ---- reading a stream ----------------------------------------------------------------------
def _rows(user_id: int, after_id: int, seen: set[int]) -> list[tuple[int, str, Any]]:
    """The user's rows past ``after_id``, and rows of the last ``LOOKBACK`` seconds not in
    ``seen``: ids first (cheap), then the payloads of the unseen ones only."""
    with READERS:
        return _read(user_id, after_id, seen)


def _read(user_id: int, after_id: int, seen: set[int]) -> list[tuple[int, str, Any]]:
    ids = [i for i in db.session.scalars(
        select(StreamEvent.id).where(
            StreamEvent.user_id == user_id,
            or_(StreamEvent.id > after_id, StreamEvent.created_at >= utcnow() - LOOKBACK))
        .order_by(StreamEvent.id).limit(BATCH + 1024)) if i not in seen][:BATCH]
    rows = [tuple(r) for r in db.session.execute(
        select(StreamEvent.id, StreamEvent.kind, StreamEvent.payload)
        .where(StreamEvent.id.in_(ids)).order_by(StreamEvent.id))] if ids else []
    # Plain values, then give the connection back: nothing may lazy-load (and so take a
    # connection again) while the stream waits.
    db.session.rollback()
    return rows


def _frame(event_id: int, kind: str, payload: Any) -> str:
    data = json.dumps(payload, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n"


def _latest(user_id: int) -> int:
    with READERS:
        latest = db.session.scalar(select(func.max(StreamEvent.id))
                                   .where(StreamEvent.user_id == user_id))
        db.session.rollback()
    return int(latest or 0)


def stream(user_id: int, last_event_id: int | None, max_seconds: float) -> Iterator[str]:
    """The SSE frames of ``user_id``'s events, as they come, for at most ``max_seconds`` (the
    client then reconnects with ``Last-Event-ID``). Without ``last_event_id``: from now on.
    With it: everything after it, and rows of the last ``LOOKBACK`` seconds with a lower id
    (a transaction that committed late), so a resume has no gap; ids may repeat."""
    app = current_app._get_current_object()
    waiter = HUB.subscribe(user_id)
    if app.config.get("REDIS_URL"):
        HUB.ensure_listener(app.config["REDIS_URL"])
    sent: deque[int] = deque(maxlen=1024)
    seen: set[int] = set()
    floor = _latest(user_id) if last_event_id is None else 0
    last = floor if last_event_id is None else last_event_id
    deadline = time.monotonic() + max_seconds
    try:
        yield "retry: 3000\n\n"
        read, next_read = True, 0.0
        while time.monotonic() < deadline:
            if read:
                waiter.clear()
                fresh = [r for r in _rows(user_id, last, seen) if r[0] > floor]
                for event_id, kind, payload in fresh:
                    if len(sent) == sent.maxlen:
                        seen.discard(sent[0])
                    sent.append(event_id)
                    seen.add(event_id)
                    last = max(last, event_id)
                    yield _frame(event_id, kind, payload)
                if len(fresh) >= BATCH:
                    continue
                # Spread the safety re-reads of idle streams (no burst every period).
                next_read = time.monotonic() + random.uniform(0.5, 1.0) * RESYNC_SECONDS
            now = time.monotonic()
            if waiter.wait(max(0.0, min(KEEPALIVE_SECONDS, deadline - now, next_read - now))):
                read = True
                continue
            read = time.monotonic() >= next_read
            if not read:
                yield ": keep-alive\n\n"
    finally:
        HUB.unsubscribe(user_id, waiter)


def purge(older_than: timedelta) -> int:
    """Delete stream rows older than ``older_than`` (resuming further back is not offered)."""
    result = db.session.execute(StreamEvent.__table__.delete().where(
        StreamEvent.created_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount or 0
