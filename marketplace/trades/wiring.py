"""Wiring of trades: the API, the Stripe events that move trades, what trades write to the
outbox, and the ledger cross-check against the trades table."""

from __future__ import annotations

from flask import Flask

from carbon.ledger import posting, verify
from marketplace.core import outbox
from marketplace.core.http.api import api
from marketplace.payments import webhooks
from marketplace.trades import data_wipe_views, ledger_check, stripe_events, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    api.register_blueprint(data_wipe_views.blp)
    for event_type, handler in stripe_events.EVENT_HANDLERS.items():
        webhooks.register_event_handler(app, event_type, handler)
    outbox.declare_writes(app, posting.COMPLETED_TOPIC, posting.REFUNDED_TOPIC)
    verify.register_check(app, ledger_check.NAME, ledger_check.credits_match_trades_table)
