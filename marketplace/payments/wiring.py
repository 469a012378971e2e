"""Wiring of payments: the webhook and payout API, and the outbox topics payments handle."""

from __future__ import annotations

from flask import Flask

from marketplace.core import metrics, outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.payments import connect, gauges, payouts, personal_data, views, webhooks


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    outbox.declare_writes(app, webhooks.TOPIC, payouts.TOPIC)
    outbox.register_handler(app, webhooks.TOPIC, webhooks.apply_from_outbox, queue="payments")
    outbox.register_handler(app, payouts.TOPIC, payouts.enqueue_transfer, queue="payments")
    registry.register_exporter(app, "payouts", personal_data.export)
    registry.register_erasure_blocker(app, "payouts", personal_data.money_owed)
    webhooks.register_event_handler(app, connect.EVENT_TYPE, connect.on_account_updated)
    metrics.register_gauges(app, gauges.gauges)
