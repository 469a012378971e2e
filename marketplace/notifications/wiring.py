"""Wiring of in-app notifications: the outbox handlers that write them."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts.services import REGISTERED_TOPIC
from marketplace.core import outbox
from marketplace.notifications import models


def register(app: Flask) -> None:
    outbox.register_handler(app, REGISTERED_TOPIC, models.welcome, queue="notifications")
