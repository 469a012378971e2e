"""Periodic jobs: thin wrappers that take ids (or nothing) and call one service.

The jobs that features enqueue themselves (outbox drains, payout transfers, re-estimating
listings) are the services' own functions, enqueued through ``marketplace.core.jobs``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from carbon.incentives import vouchers
from marketplace.accounts import retention
from marketplace.core import mail, outbox, realtime
from marketplace.core.http import idempotency
from marketplace.notifications import personal_data as notifications
from marketplace.offers import services as offers
from marketplace.payments import payouts
from marketplace.trades import services as trades
from marketplace.trades.shipping import tracking
from marketplace.uploads import services as uploads
from marketplace.webhooks import delivery as webhook_delivery
from workers.decorators import job


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_GRACE_SECONDS"])


@job("periodic", timeout=600)
def reconcile_outbox() -> int:
    return outbox.reconcile_due()


@job("periodic", timeout=600)
def reconcile_payouts() -> int:
    return payouts.reconcile(_grace())


@job("periodic", timeout=600)
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


@job("periodic")
def expire_offers() -> int:
    return offers.expire_due()


@job("periodic", timeout=600)
def advance_trades() -> int:
    return trades.advance_due()


@job("periodic", timeout=600)
def redeliver_emails() -> int:
    return mail.redeliver_stale(_grace())


@job("periodic", timeout=600)
def purge_personal_data() -> dict[str, int]:
    """Retention (docs/privacy.md): expired and used tokens, old exports, closed accounts'
    leftovers, old notifications, sent emails, expired idempotency keys."""
    config = current_app.config
    counts = retention.purge()
    counts["notifications"] = notifications.purge(
        timedelta(days=config["NOTIFICATION_RETENTION_DAYS"]))
    counts["sent_emails"] = mail.purge_sent(timedelta(days=config["SENT_EMAIL_RETENTION_DAYS"]))
    counts["idempotency_keys"] = idempotency.purge_expired()
    return counts


@job("periodic", timeout=600)
def poll_shipments() -> int:
    return tracking.poll_due()


@job("periodic", timeout=600)
def purge_uploads() -> int:
    return uploads.purge_unreferenced()


@job("periodic", timeout=600)
def retry_thumbnails() -> int:
    return uploads.retry_thumbnails(_grace())


@job("periodic", timeout=600)
def redeliver_webhooks() -> int:
    return webhook_delivery.redeliver_due()


@job("periodic", timeout=600)
def purge_stream_events() -> int:
    return realtime.purge(timedelta(days=7))


@job("periodic", timeout=600)
def remind_expiring_vouchers() -> int:
    return vouchers.remind_expiring(timedelta(days=3))
