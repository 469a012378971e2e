"""Wiring of organisations: their API."""

from __future__ import annotations

from flask import Flask

from marketplace.core.http.api import api
from marketplace.organisations import views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
