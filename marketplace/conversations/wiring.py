"""Wiring of conversations: the API, and system messages from domain events."""

from __future__ import annotations

from flask import Flask

from marketplace.conversations import personal_data, system, views
from marketplace.core import events
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api, document_field


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    document_field("PostMessage", "body", maxLength=app.config["MESSAGE_MAX_CHARS"])
    events.subscribe(app, system.on_event)
    registry.register_exporter(app, "conversations", personal_data.export)
    registry.register_eraser(app, "conversations", personal_data.erase)
