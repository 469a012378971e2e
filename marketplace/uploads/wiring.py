"""Wiring of uploads: storage, decoders, the API and the thumbnail topic."""

from __future__ import annotations

from flask import Flask

from marketplace.core import outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.uploads import imaging, personal_data, services, storage, views


def register(app: Flask) -> None:
    storage.init_app(app)
    imaging.register_decoders()
    api.register_blueprint(views.blp)
    outbox.register_handler(app, services.THUMBNAIL_TOPIC, services.enqueue_thumbnail)
    outbox.declare_writes(app, services.THUMBNAIL_TOPIC)
    registry.register_exporter(app, "uploads", personal_data.export)
    registry.register_eraser(app, "uploads", personal_data.erase)
