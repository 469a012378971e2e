"""create_app wires every feature explicitly and refuses a wiring with holes in it."""

from __future__ import annotations

import pytest
from flask import Flask

from carbon.ledger import verify
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.http.api import api
from marketplace.payments import webhooks


@pytest.fixture
def restore_api():
    saved = (api._app, api.config, api.spec)
    yield
    api._app, api.config, api.spec = saved


def test_the_app_has_a_handler_for_every_topic_it_writes(app):
    reg = outbox.registry(app)
    assert reg.written and reg.written <= reg.handlers.keys()
    assert {"trade.completed", "trade.refunded", "incentives.evaluate", "incentives.reverse",
            "stripe.event", "payout.requested", "user.registered", "recycling.confirmed"
            } <= reg.handlers.keys()
    assert set(app.config["STRIPE_WEBHOOK_EVENTS"]) <= app.extensions[
        webhooks.HANDLERS_EXTENSION].keys()
    assert len(verify.checks(app)) == 7  # ledger (4 + recycling), trades (1), incentives (1)


def test_start_up_fails_for_a_subscribed_stripe_event_without_a_handler(app_config,
                                                                        restore_api):
    events = ("payment_intent.succeeded", "invoice.paid")
    with pytest.raises(RuntimeError, match="invoice.paid"):
        create_app({**app_config, "STRIPE_WEBHOOK_EVENTS": events})


def test_a_written_topic_without_a_handler_fails_the_check():
    app = Flask("wiring-test")
    outbox.init_app(app)
    outbox.declare_writes(app, "parcel.lost")
    with pytest.raises(RuntimeError, match="parcel.lost"):
        outbox.check(app)
    outbox.register_handler(app, "parcel.lost", lambda record: None)
    outbox.check(app)


def test_registering_a_name_twice_is_an_error():
    app = Flask("wiring-test")
    outbox.init_app(app)
    outbox.register_handler(app, "a.topic", lambda record: None)
    with pytest.raises(ValueError, match="two handlers"):
        outbox.register_handler(app, "a.topic", lambda record: None)
    webhooks.register_event_handler(app, "charge.refunded", lambda event: None)
    with pytest.raises(ValueError, match="two handlers"):
        webhooks.register_event_handler(app, "charge.refunded", lambda event: None)
    verify.register_check(app, "a check", lambda section: None)
    with pytest.raises(ValueError, match="two ledger checks"):
        verify.register_check(app, "a check", lambda section: None)


def test_writing_an_undeclared_topic_is_refused(app_ctx):
    with pytest.raises(ValueError, match="not declared"):
        outbox.write("nobody.handles.this", {})
