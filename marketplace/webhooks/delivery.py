"""Delivering one webhook: claim, POST with no transaction open, record, schedule a retry.

``deliver(delivery_id)`` (an RQ job on the ``notifications`` queue) claims the delivery with
a conditional update (due, not delivered or failed) that also sets a lease
(``next_attempt_at`` = now + timeout + a margin) and commits: a second job for the same
delivery finds it leased and does nothing. The POST runs with no transaction and no row
lock. The outcome is written in a short transaction: 2xx ``delivered``; anything else (or a
network error) ``retrying`` with the next attempt after ``WEBHOOK_RETRY_SECONDS[attempt-1]``
(RQ's scheduler runs it; an interval of 0 enqueues at once), or ``failed`` when the intervals
are used up. ``redeliver_due`` (periodic) re-enqueues deliveries whose time or lease has
passed (a lost job, a killed worker).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import or_, select, update

from marketplace.core import jobs
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.webhooks import signing
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger("marketplace.webhooks")

OPEN = ("pending", "retrying")


def _claim(delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    now = utcnow()
    lease = now + timedelta(seconds=int(current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) + 60)
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status.in_(OPEN),
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(next_attempt_at=lease, attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    db.session.commit()  # the lease is taken; nothing is held while we talk to the partner
    return delivery, endpoint


def deliver(delivery_id: int) -> str:
    """Attempt one delivery (the ``notifications`` queue job); return its status."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return "skipped"
    delivery, endpoint = claimed
    attempts, url, secret, active = (delivery.attempts, endpoint.url, endpoint.secret,
                                     endpoint.active)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    db.session.rollback()
    code, error = None, None
    if not active:
        error = "endpoint disabled"
    else:
        try:
            resp = requests.post(url, data=body, timeout=float(
                current_app.config["WEBHOOK_TIMEOUT_SECONDS"]), allow_redirects=False, headers={
                "Content-Type": "application/json", "User-Agent": "Reloop-Webhooks/1",
                signing.HEADER: signing.sign(secret, body),
                "Reloop-Event": delivery.event_kind, "Reloop-Delivery": str(delivery_id)})
            code = resp.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
    return _record(delivery_id, attempts, code, error, disabled=not active)


def _record(delivery_id: int, attempts: int, code: int | None, error: str | None,
            disabled: bool) -> str:
    now = utcnow()
    intervals = current_app.config["WEBHOOK_RETRY_SECONDS"]
    if error is None:
        values = {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
    elif disabled or attempts > len(intervals):
        values = {"status": "failed", "next_attempt_at": None}
    else:
        wait = int(intervals[attempts - 1])
        values = {"status": "retrying", "next_attempt_at": now + timedelta(seconds=wait)}
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
        last_status_code=code, last_error=error, **values))
    db.session.commit()
    if values["status"] == "retrying":
        log.info("webhook delivery %s failed (%s); attempt %d in %s", delivery_id, error,
                 attempts + 1, values["next_attempt_at"])
        _schedule(delivery_id, values["next_attempt_at"])
    return values["status"]


def _schedule(delivery_id: int, when) -> None:
    try:
        if when <= utcnow() or jobs.is_inline():
            if not jobs.is_inline():  # inline: the periodic redelivery picks it up
                jobs.enqueue(deliver, delivery_id, queue="notifications", retry=None)
            return
        jobs.enqueue_at(when, deliver, delivery_id, queue="notifications")
    except Exception:
        log.warning("could not schedule webhook delivery %s; redelivery will", delivery_id,
                    exc_info=True)


def enqueue(delivery_id: int) -> None:
    jobs.enqueue(deliver, delivery_id, queue="notifications", retry=None)


def redeliver_due(limit: int = 1000) -> int:
    """Enqueue deliveries whose attempt (or lease) is due: lost jobs, killed workers."""
    ids = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status.in_(OPEN), or_(WebhookDelivery.next_attempt_at.is_(None),
                                              WebhookDelivery.next_attempt_at <= utcnow()))
        .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.rollback()
    for delivery_id in ids:
        enqueue(delivery_id)
    return len(ids)
