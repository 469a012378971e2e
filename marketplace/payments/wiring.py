"""Wiring of payments: the webhook and payout API, and the outbox topics payments handle."""

from __future__ import annotations

from flask import Flask

from marketplace.core import metrics, outbox
from marketplace.core.http.api import api
from marketplace.payments import gauges, payouts, views, webhooks


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    outbox.declare_writes(app, webhooks.TOPIC, payouts.TOPIC)
    outbox.register_handler(app, webhooks.TOPIC, webhooks.apply_from_outbox, queue="payments")
    outbox.register_handler(app, payouts.TOPIC, payouts.enqueue_transfer, queue="payments")
    metrics.register_gauges(app, gauges.gauges)
