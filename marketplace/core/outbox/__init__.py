"""Transactional outbox: side effects that must not be lost.

A service calls ``write(topic, payload)`` inside the transaction that changes state; the record
commits or rolls back with it. Right after commit a drain of the topic's queue is requested
(coalesced: one waiting drain per queue); drains claim due records in batches with ``FOR UPDATE
SKIP LOCKED``, apply them and mark them processed in one transaction, so each record takes
effect exactly once however often drains run (``processing`` has the details). A periodic
reconciler requests drains for anything left behind (Redis down, worker killed).

Topics registered with ``batch=True`` (the carbon ledger, rule evaluation) give their handler a
whole run of records at once, for set-based SQL.
"""

from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.outbox.processing import (
    dispatch,
    drain,
    init_app,
    pending_count,
    process,
    reconcile,
    reconcile_due,
    request_drain,
)
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
    "drain", "init_app", "pending_count", "process", "reconcile", "reconcile_due",
    "register_handler", "registry", "request_drain", "write", "write_many",
]
