"""Wiring of trades: the API, the Stripe events that move trades, what trades write to the
outbox, and the ledger cross-check against the trades table."""

from __future__ import annotations

from flask import Flask

from carbon.ledger import posting, verify
from marketplace.core import outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.listings import hooks as listing_hooks
from marketplace.payments import webhooks
from marketplace.trades import (
    data_wipe_views,
    fulfilment_views,
    holds,
    ledger_check,
    personal_data,
    recourse_views,
    stripe_events,
    views,
)


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    api.register_blueprint(fulfilment_views.blp)
    listing_hooks.freeze_device_while(app, holds.device_frozen)
    listing_hooks.freeze_price_while(app, holds.price_frozen)
    api.register_blueprint(recourse_views.blp)
    api.register_blueprint(data_wipe_views.blp)
    for event_type, handler in stripe_events.EVENT_HANDLERS.items():
        webhooks.register_event_handler(app, event_type, handler)
    outbox.declare_writes(app, posting.COMPLETED_TOPIC, posting.REFUNDED_TOPIC)
    verify.register_check(app, ledger_check.NAME, ledger_check.credits_match_trades_table)
    registry.register_exporter(app, "trades", personal_data.export_trades)
    registry.register_exporter(app, "reviews_written", personal_data.export_reviews)
    registry.register_erasure_blocker(app, "trades", personal_data.trades_in_flight)
    registry.register_eraser(app, "trades", personal_data.erase)
