"""Wiring of outbound webhooks: the admin API, the event subscription, the delivery topic,
their share of account erasure."""

from __future__ import annotations

from flask import Flask

from marketplace.core import events, outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.webhooks import personal_data, services, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    events.subscribe(app, services.on_event)
    outbox.register_handler(app, services.TOPIC, services.enqueue_deliveries,
                            queue="notifications")
    outbox.declare_writes(app, services.TOPIC)
    registry.register_eraser(app, "webhooks", personal_data.erase)
