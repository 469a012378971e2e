"""Wiring of organisations: their API, their share of data export and account erasure."""

from __future__ import annotations

from flask import Flask

from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.organisations import personal_data, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    registry.register_exporter(app, "organisations", personal_data.export)
    registry.register_eraser(app, "organisations", personal_data.erase)
