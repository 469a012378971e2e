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

from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.outbox.processing import dispatch, init_app, pending_count, process, reconcile
from marketplace.core.outbox.registry import (
    Handler,
    Registry,
    batch_size,
    check,
    declare_writes,
    register_handler,
    registry,
    write,
    write_many,
)

__all__ = [
    "Handler", "OutboxMessage", "Registry", "batch_size", "check", "declare_writes", "dispatch",
    "init_app", "pending_count", "process", "reconcile", "register_handler", "registry", "write",
    "write_many",
]
