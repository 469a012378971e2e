"""Wiring of moderation: its API, its share of data export and erasure."""

from __future__ import annotations

from flask import Flask

from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.moderation import personal_data, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    registry.register_exporter(app, "reports", personal_data.export)
    registry.register_eraser(app, "reports", personal_data.erase)
