"""Partner endpoints (admin), and the deliveries domain events turn into.

``on_event`` (subscribed to ``core.events``) runs in the drain transaction applying an event:
for each active endpoint subscribed to its kind (or to ``*``) it inserts a delivery (unique
per endpoint and event: a replay adds none) and writes a ``webhooks.deliver`` outbox record;
that record's handler enqueues the delivery jobs once the transaction has committed, so a job
never looks for a delivery that is not there yet.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.errors import NotFound
from marketplace.core.events import Event
from marketplace.core.http.pagination import id_page
from marketplace.webhooks import delivery
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint

TOPIC = "webhooks.deliver"


def create_endpoint(url: str, event_types: list[str], description: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, event_types=sorted(set(event_types)),
                               description=description,
                               secret="whsec_" + secrets.token_hex(24))
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def endpoints(limit: int, cursor: str | None) -> dict[str, Any]:
    return id_page(select(WebhookEndpoint), WebhookEndpoint.id, limit, cursor)


def set_active(endpoint_id: int, active: bool) -> WebhookEndpoint:
    endpoint = get_endpoint(endpoint_id)
    endpoint.active = active
    db.session.commit()
    return endpoint


def deliveries(endpoint_id: int, limit: int, cursor: str | None,
               status: str | None) -> dict[str, Any]:
    get_endpoint(endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return id_page(query, WebhookDelivery.id, limit, cursor)


def on_event(event: Event) -> None:
    targets = [e for e in db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.active.is_(True))) if event.kind in e.event_types
        or "*" in e.event_types]
    if not targets:
        return
    done = set(db.session.scalars(select(WebhookDelivery.endpoint_id).where(
        WebhookDelivery.event_id == event.id)))
    payload = {"id": f"evt_{event.id}", "type": event.kind,
               "created": int(event.created_at.timestamp()), "data": event.data}
    new = []
    for endpoint in targets:
        if endpoint.id in done:
            continue
        row = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                              event_kind=event.kind, payload=payload)
        db.session.add(row)
        new.append(row)
    if new:
        db.session.flush()
        outbox.write(TOPIC, {"delivery_ids": [row.id for row in new]})


def enqueue_deliveries(message: outbox.OutboxMessage) -> None:
    for delivery_id in message.payload["delivery_ids"]:
        delivery.enqueue(int(delivery_id))
