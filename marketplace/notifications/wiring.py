"""Wiring of notifications: the outbox handlers and event subscription that write them."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts.services import REGISTERED_TOPIC
from marketplace.core import events, outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.notifications import personal_data, services, stream, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    api.register_blueprint(stream.blp)
    outbox.register_handler(app, REGISTERED_TOPIC, services.welcome, queue="notifications")
    registry.register_exporter(app, "notifications", personal_data.export)
    registry.register_eraser(app, "notifications", personal_data.erase)
    events.subscribe(app, services.on_event)
