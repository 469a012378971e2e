"""Wiring of the address book: its API."""

from __future__ import annotations

from flask import Flask

from marketplace.addresses import personal_data, views
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    registry.register_exporter(app, "addresses", personal_data.export)
    registry.register_eraser(app, "addresses", personal_data.erase)
