"""Periodic jobs, declared as data.

Each entry names a job and the config key holding its interval in seconds. The worker entry
point registers them with RQ's cron scheduler; with no Redis, ``run_inline_ticker`` runs them
in a background thread of the serving process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from workers import jobs

log = logging.getLogger("workers.schedule")


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[], object]
    interval_key: str


PERIODIC: tuple[Periodic, ...] = (
    Periodic("reconcile-outbox", jobs.reconcile_outbox, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("reconcile-payouts", jobs.reconcile_payouts, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("purge-idempotency-keys", jobs.purge_idempotency_keys,
             "RECONCILE_INTERVAL_SECONDS"),
    Periodic("redeliver-emails", jobs.redeliver_emails, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("redeliver-webhooks", jobs.redeliver_webhooks, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("remind-expiring-vouchers", jobs.remind_expiring_vouchers,
             "RECONCILE_INTERVAL_SECONDS"),
    Periodic("purge-stream-events", jobs.purge_stream_events, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("expire-offers", jobs.expire_offers, "OFFER_EXPIRY_INTERVAL_SECONDS"),
    Periodic("advance-trades", jobs.advance_trades, "TRADE_ADVANCE_INTERVAL_SECONDS"),
    Periodic("retention", jobs.purge_personal_data, "RETENTION_INTERVAL_SECONDS"),
    Periodic("poll-shipments", jobs.poll_shipments, "SHIPMENT_POLL_INTERVAL_SECONDS"),
    Periodic("purge-uploads", jobs.purge_uploads, "RECONCILE_INTERVAL_SECONDS"),
    Periodic("retry-thumbnails", jobs.retry_thumbnails, "RECONCILE_INTERVAL_SECONDS"),
)


def register_cron(cron, app) -> None:
    """Register every periodic job with an ``rq.cron.CronScheduler``."""
    for p in PERIODIC:
        cron.register(p.func, queue_name=p.func.queue_name, interval=app.config[p.interval_key],
                      name=p.name)


def run_inline_ticker(app, stop: threading.Event) -> threading.Thread:
    """Embedded mode: run each periodic job in-process at its interval until ``stop``."""

    def loop() -> None:
        due = {p.name: time.monotonic() + app.config[p.interval_key] for p in PERIODIC}
        while not stop.wait(1.0):
            now = time.monotonic()
            for p in PERIODIC:
                if now >= due[p.name]:
                    due[p.name] = now + app.config[p.interval_key]
                    try:
                        with app.app_context():
                            p.func()
                    except Exception:
                        log.exception("periodic job %s failed", p.name)

    thread = threading.Thread(target=loop, name="reloop-periodic", daemon=True)
    thread.start()
    return thread
