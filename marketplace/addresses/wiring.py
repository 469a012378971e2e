"""Wiring of the address book: its API."""

from __future__ import annotations

from flask import Flask

from marketplace.addresses import views
from marketplace.core.http.api import api


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
