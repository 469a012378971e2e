"""Job enqueueing: the Redis connection, queues named by purpose, and the one enqueue path.

With ``REDIS_URL`` unset (the embedded default) an enqueued job runs at once, in-process, in
its own application context and database session. With it set, jobs go to Redis and separate
``rq worker`` processes run them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import current_app
from redis import Redis, RedisError
from redis.exceptions import LockError
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.core.db import db

log = logging.getLogger("marketplace.jobs")

# Queues named by purpose (as Redash does), listed in the order a worker serves them.
QUEUES: tuple[str, ...] = (
    "ledger", "incentives", "payments", "notifications", "default", "periodic")

DEFAULT_RETRY = Retry(max=5, interval=[5, 15, 60, 300, 900])


def redis_connection(app=None) -> Redis | None:
    app = app or current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("reloop_redis")
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["reloop_redis"] = conn
    return conn


def get_queue(name: str, app=None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    conn = redis_connection(app)
    if conn is None:
        raise RuntimeError("REDIS_URL is not set: jobs run in-process")
    return Queue(name, connection=conn)


def is_inline(app=None) -> bool:
    app = app or current_app._get_current_object()
    return not app.config.get("REDIS_URL")


def enqueue(func: Callable[..., Any], *args: Any, queue: str = "default",
            job_id: str | None = None, retry: Retry | None = DEFAULT_RETRY,
            timeout: int = 300, inline_after_commit: bool = False) -> str | None:
    """Enqueue ``func(*args)`` and return the job id, or run it now when inline.

    ``inline_after_commit``: inline, a job enqueued inside a transaction that writes (e.g. from
    an outbox handler) runs once that transaction commits, as a worker would see it. Raises
    when Redis is unreachable; callers that must not fail (the outbox) catch that.
    """
    app = current_app._get_current_object()
    if is_inline(app):
        if inline_after_commit:
            _run_inline_after_commit(app, func, args)
        else:
            run_inline(app, func, args)
        return None
    job = get_queue(queue, app).enqueue(
        func, *args, job_id=job_id, retry=retry, job_timeout=timeout,
        result_ttl=3600, failure_ttl=7 * 86400,
    )
    return job.id


COALESCE_TTL_SECONDS = 30


def _coalesce_key(key: str) -> str:
    return f"reloop:coalesce:{key}"


def enqueue_coalesced(func: Callable[..., Any], *args: Any, queue: str, key: str,
                      force: bool = False, timeout: int = 300) -> str | None:
    """Enqueue ``func(*args)`` unless a job under ``key`` is already waiting (``force``:
    enqueue anyway). The job calls ``clear_coalesced(key)`` before it starts its work, so
    anything requested after that point gets a job of its own. The mark expires after
    ``COALESCE_TTL_SECONDS`` in case its job was lost. Inline: runs now."""
    app = current_app._get_current_object()
    if is_inline(app):
        run_inline(app, func, args)
        return None
    conn = redis_connection(app)
    if not conn.set(_coalesce_key(key), "1", nx=True, ex=COALESCE_TTL_SECONDS) and not force:
        return None
    return enqueue(func, *args, queue=queue, retry=None, timeout=timeout)


def clear_coalesced(key: str) -> None:
    conn = redis_connection()
    if conn is not None:
        conn.delete(_coalesce_key(key))


EXCLUSIVE_TTL_SECONDS = 30


@contextmanager
def exclusive(key: str, on_missed: Callable[[], None],
              ttl: int = EXCLUSIVE_TTL_SECONDS) -> Iterator[Callable[[], None] | None]:
    """A section run by at most one process at a time under ``key`` (a Redis lock with a
    token, expiring after ``ttl`` seconds unless renewed, so a killed holder frees it).

    Yields ``renew`` (call it between steps to keep the lock) to the process that got in, or
    ``None`` to one that found the section taken: that one leaves a *missed* mark before
    trying the lock, and the holder, once out of the section, calls ``on_missed()`` if it
    finds the mark, so that work requested during its last step is not left waiting for the
    reconciler. Without Redis (inline jobs), or with Redis unreachable, every caller gets in:
    the section saves contention, correctness never depends on it."""
    conn = redis_connection()
    if conn is None:
        yield no_renew
        return
    lock = conn.lock(f"reloop:exclusive:{key}", timeout=ttl, blocking=False)
    missed = f"reloop:exclusive-missed:{key}"
    try:
        conn.set(missed, "1", ex=2 * ttl)
        got = lock.acquire()
        if got:
            conn.delete(missed)  # the holder's own steps start after this: nothing missed
    except RedisError:
        log.warning("exclusive section %s: Redis unreachable, running unguarded", key)
        yield no_renew
        return
    if not got:
        yield None
        return
    try:
        yield lambda: _renew(lock)
    finally:
        try:
            lock.release()
            if conn.getdel(missed):
                on_missed()
        except LockError:  # expired and possibly taken over: the new holder goes on
            pass
        except RedisError:
            log.warning("exclusive section %s: Redis unreachable on release", key)


def no_renew() -> None:
    """The ``renew`` of a section that holds no lock."""


def _renew(lock: Any) -> None:
    try:
        lock.reacquire()
    except (LockError, RedisError):
        log.warning("exclusive section: lock lost (expired or Redis unreachable)")


def enqueue_at(when: datetime, func: Callable[..., Any], *args: Any, queue: str,
               timeout: int = 300) -> None:
    """Run ``func(*args)`` at ``when`` (RQ's scheduler, which ``python -m workers`` runs).
    Inline: nothing is scheduled; the periodic reconciler picks the work up."""
    app = current_app._get_current_object()
    if is_inline(app):
        return
    get_queue(queue, app).enqueue_at(when, func, *args, job_timeout=timeout,
                                     result_ttl=3600, failure_ttl=7 * 86400)


_DEFERRED = "reloop_inline_jobs"


def _run_inline_after_commit(app, func: Callable[..., Any], args: tuple) -> None:
    """Inline mode: a job enqueued inside an open transaction (e.g. by an outbox handler)
    runs once that transaction commits, as a worker would see it; never if it rolls back. Run
    at once, the job's own session would wait on the caller's write lock (SQLite) or miss its
    uncommitted rows."""
    session = db.session()
    if not session.in_transaction():
        run_inline(app, func, args)
        return
    session.info.setdefault(_DEFERRED, []).append((app, func, args))


def init_app(app) -> None:
    """Run inline jobs deferred by ``_run_inline_after_commit`` when their transaction ends."""
    if not event.contains(Session, "after_commit", _run_deferred):
        event.listen(Session, "after_commit", _run_deferred)
        event.listen(Session, "after_soft_rollback", _drop_deferred)


def _run_deferred(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not the commit
        return
    for app, func, args in session.info.pop(_DEFERRED, ()):
        run_inline(app, func, args)


def _drop_deferred(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_DEFERRED, None)


def run_inline(app, func: Callable[..., Any], args: tuple) -> None:
    """Run a job in a fresh app context (and so a fresh DB session); log, never raise."""
    try:
        with app.app_context():
            func(*args)
    except Exception:
        log.exception("inline job %s failed; the reconciler will retry it", func.__name__)
