"""Wiring of recycling: its API and the outbox topic its confirmations write."""

from __future__ import annotations

from flask import Flask

from carbon.ledger import recycling as ledger_recycling
from marketplace.core import outbox
from marketplace.core.http.api import api
from marketplace.recycling import views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    outbox.declare_writes(app, ledger_recycling.TOPIC)
