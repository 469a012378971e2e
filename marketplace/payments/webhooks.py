"""Stripe webhooks: verified, stored once per event id, applied exactly once.

Receiving (``POST /api/v1/payments/stripe/webhook``)
    ``verify`` checks ``Stripe-Signature`` against ``STRIPE_WEBHOOK_SECRET`` with
    ``stripe.Webhook.construct_event`` (tolerance 300 s, both ways: a timestamp more than
    300 s in the future is refused like one 300 s old); a missing, invalid, too old or too
    new signature is a 400. The event id, type and object id must look like Stripe's (ids:
    letters, digits and ``_``, at most 255 characters; type: at most 128): otherwise 400.
    ``receive`` inserts the event into ``stripe_events`` (unique Stripe
    event id) and, when a handler is registered for its type, an outbox record
    (``stripe.event``, queue ``payments``) in the same transaction, then answers 200. A second
    delivery of the same event id hits the unique constraint and is acknowledged without doing
    anything. Events of types nobody handles are stored already marked ``ignored``.

Applying
    ``apply_event`` runs the type's handler and marks the event processed in one transaction,
    with the event row locked, so an event takes effect once however often it is delivered or
    its outbox record is enqueued. Handlers are registered at start-up by the features that own
    the state (``register_event_handler(app, "payment_intent.succeeded", _paid)``)::

        def _paid(event: webhooks.WebhookEvent) -> None:
            trade = find_trade(event.object["metadata"]["trade_id"])
            if trade is None:
                raise webhooks.NotReady("trade not committed yet")
            ...  # change state; do not commit

    A handler runs inside the transaction that marks the event processed: it must not commit.
    It receives a ``WebhookEvent`` (id, type, ``object`` = ``data.object`` as a dict, the full
    ``payload``), rebuilt from the stored JSON, so a later retry sees exactly what Stripe sent.

The early-event race (a PaymentIntent's ``succeeded`` before the trade row is committed)
    A trade is created by inserting the trade, calling Stripe, then committing; a fast client
    and a fast webhook can deliver ``payment_intent.succeeded`` before that commit is visible.
    The event is never lost and never applied to nothing:

    1. the handler raises ``NotReady`` when the row it needs is not visible; the transaction
       rolls back, the event stays stored and unprocessed, and the outbox record fails and is
       retried (RQ retries at 5 s, 15 s, 1 min, ...; then the outbox reconciler, every
       ``RECONCILE_INTERVAL_SECONDS``), each retry applying the event only if still unprocessed;
    2. the creating code calls ``apply_stored_events(payment_intent_id)`` right after its
       commit, which applies at once any event that arrived early (the events table is indexed
       by ``data.object.id``), so the usual case does not wait for a retry;
    3. an event still ``NotReady`` ``MAX_DEFER`` after it was received (e.g. a PaymentIntent
       whose trade transaction rolled back) is marked processed with outcome ``abandoned`` and
       logged as an error, instead of being retried for ever.

    A handler must raise ``NotReady`` before writing anything. Stripe does not order events, and
    neither do retries: handlers should check the object's status rather than assume order.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import stripe
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import DomainError, ServiceUnavailable
from marketplace.payments.models import StripeEvent

log = logging.getLogger("marketplace.payments.webhooks")

TOLERANCE_SECONDS = 300
MAX_DEFER = timedelta(hours=1)
TOPIC = "stripe.event"  # outbox topic: apply one stored event
# Stripe ids (evt_..., pi_..., ch_..., re_...): what fits the 255-character columns.
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,128}")
_TIMESTAMP = re.compile(r"(?:^|,)\s*t=(\d{1,12})(?:,|$)")


def is_stripe_id(value: Any) -> bool:
    return isinstance(value, str) and STRIPE_ID.fullmatch(value) is not None


class InvalidWebhook(DomainError):
    status = 400


class NotReady(Exception):
    """Raised by a handler when the state the event refers to is not visible yet."""


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object: dict[str, Any]
    payload: dict[str, Any]
    record_id: int


Handler = Callable[[WebhookEvent], None]
HANDLERS_EXTENSION = "reloop.stripe_event_handlers"


def register_event_handler(app: Flask, event_type: str, func: Handler) -> None:
    """Register the handler applying events of ``event_type`` (one per type)."""
    handlers = app.extensions.setdefault(HANDLERS_EXTENSION, {})
    if event_type in handlers:
        raise ValueError(f"two handlers for Stripe event type {event_type!r}")
    handlers[event_type] = func


def _handlers() -> dict[str, Handler]:
    return current_app.extensions.get(HANDLERS_EXTENSION, {})


def check(app: Flask) -> None:
    """Fail loudly at start-up if an event type the app subscribes to
    (``STRIPE_WEBHOOK_EVENTS``) has no handler."""
    missing = sorted(set(app.config["STRIPE_WEBHOOK_EVENTS"])
                     - app.extensions.get(HANDLERS_EXTENSION, {}).keys())
    if missing:
        raise RuntimeError(f"Stripe event types subscribed but not handled: {', '.join(missing)}")


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once its signature is checked; ``InvalidWebhook`` (400) otherwise."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("STRIPE_WEBHOOK_SECRET is not set: rejecting a Stripe webhook")
        raise ServiceUnavailable("Webhooks are not configured.")
    if not signature:
        raise InvalidWebhook("Missing Stripe-Signature header.",
                             {"Stripe-Signature": ["Missing."]})
    stamp = _TIMESTAMP.search(signature)
    if stamp and int(stamp.group(1)) > time.time() + TOLERANCE_SECONDS:
        # The library only refuses old timestamps; a future one is as suspicious.
        raise InvalidWebhook("Invalid or expired Stripe-Signature.",
                             {"Stripe-Signature": ["Timestamp outside the tolerance zone."]})
    try:
        stripe.Webhook.construct_event(payload, signature, secret,
                                       tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("Invalid or expired Stripe-Signature.",
                             {"Stripe-Signature": [str(exc.user_message or exc)]}) from None
    except (ValueError, AttributeError, TypeError):
        # Signed but not a JSON object (the library trips on e.g. a JSON list).
        raise InvalidWebhook("The webhook body is not a Stripe event.") from None
    # Store exactly what Stripe sent (construct_event has parsed it as JSON already).
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise InvalidWebhook("The webhook body is not a Stripe event.")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str) \
            or data.get("object") != "event":
        raise InvalidWebhook("The webhook body is not a Stripe event.")
    errors = {}
    if not is_stripe_id(data["id"]):
        errors["id"] = ["Not a Stripe id (letters, digits, _; at most 255 characters)."]
    if not _EVENT_TYPE.fullmatch(data["type"]):
        errors["type"] = ["Not a Stripe event type."]
    obj = (data.get("data") or {}).get("object") if isinstance(data.get("data"), dict) else None
    if isinstance(obj, dict) and "id" in obj and not is_stripe_id(obj["id"]):
        errors["data.object.id"] = ["Not a Stripe id (letters, digits, _; at most 255 "
                                    "characters)."]
    if errors:
        raise InvalidWebhook("The webhook event has invalid ids.", errors)
    return data


def _object_id(payload: dict[str, Any]) -> str | None:
    obj = (payload.get("data") or {}).get("object") or {}
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def receive(payload: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a verified event once; return (row, created). Commits."""
    now = utcnow()
    handled = payload["type"] in _handlers()
    record = StripeEvent(stripe_event_id=payload["id"], type=payload["type"],
                         object_id=_object_id(payload), payload=payload, received_at=now,
                         processed_at=None if handled else now,
                         outcome=None if handled else "ignored")
    db.session.add(record)
    try:
        db.session.flush()
        if handled:
            outbox.write(TOPIC, {"stripe_event": record.id})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(StripeEvent).where(StripeEvent.stripe_event_id == payload["id"]))
        if existing is None:  # pragma: no cover - an integrity error of another kind
            raise
        return existing, False
    return record, True


def apply_event(record_id: int) -> bool:
    """Apply a stored event if still unprocessed; return whether it was applied now.

    Runs in the caller's transaction and does not commit. Raises ``NotReady`` (or the
    handler's error) for the caller to roll back and retry later.
    """
    record = db.session.scalars(
        select(StripeEvent).where(StripeEvent.id == record_id)
        .with_for_update().execution_options(populate_existing=True)
    ).first()
    if record is None or record.processed_at is not None:
        return False
    now = utcnow()
    handler = _handlers().get(record.type)
    if handler is None:  # handler unregistered since the event was stored
        record.processed_at, record.outcome = now, "ignored"
        return False
    event = WebhookEvent(id=record.stripe_event_id, type=record.type,
                         object=dict((record.payload.get("data") or {}).get("object") or {}),
                         payload=record.payload, record_id=record.id)
    try:
        handler(event)
    except NotReady as exc:
        if now - record.received_at < MAX_DEFER:
            raise
        log.error("abandoning Stripe event %s (%s): not ready after %s: %s",
                  record.stripe_event_id, record.type, MAX_DEFER, exc)
        record.processed_at, record.outcome = now, "abandoned"
        record.last_error = f"NotReady: {exc}"[:2000]
        return False
    record.processed_at, record.outcome = now, "applied"
    return True


def apply_stored_events(object_id: str) -> int:
    """Apply, each in its own transaction, the unprocessed events about ``object_id`` (e.g. a
    PaymentIntent id). Call it right after committing the row those events need. Events still
    not ready, or whose handler fails, are left for the outbox retries (never raises for
    them). Returns how many were applied."""
    ids = db.session.scalars(
        select(StripeEvent.id)
        .where(StripeEvent.object_id == object_id, StripeEvent.processed_at.is_(None))
        .order_by(StripeEvent.id)
    ).all()
    applied = 0
    for record_id in ids:
        try:
            if apply_event(record_id):
                applied += 1
            db.session.commit()
        except NotReady:
            db.session.rollback()
        except Exception:
            # Best effort: the caller's own work is committed; the outbox retries this one.
            db.session.rollback()
            log.warning("applying Stripe event row %s failed; left for retry", record_id,
                        exc_info=True)
    return applied



def apply_from_outbox(message: outbox.OutboxMessage) -> None:
    apply_event(message.payload["stripe_event"])
