"""The Stripe client against localstripe (a real HTTP Stripe emulator), end to end with
signed webhooks delivered to the app over real HTTP."""

from __future__ import annotations

import socket
import uuid

import pytest
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.payments import stripe_client
from marketplace.payments.models import StripeEvent
from marketplace.payments.stripe_client import (
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from tests.stripe_fixtures import WEBHOOK_SECRET, wait_for


def _trade_id() -> int:
    # localstripe's store outlives a test; keep ids (and so idempotency keys) unique.
    return uuid.uuid4().int % 10**9


def _paid_intent(app, localstripe, amount=1000, card="pm_card_visa"):
    trade_id = _trade_id()
    with app.app_context():
        pi = stripe_client.create_payment_intent(
            amount, "EUR", trade_id, stripe_client.trade_key(trade_id, "create"),
            {"listing_id": 9})
    buyer = localstripe.client()
    buyer.v1.payment_intents.update(pi.id, params={"payment_method": card})
    return trade_id, pi, buyer


def test_create_payment_intent(stripe_app):
    with stripe_app.app_context():
        key = f"trade-7-create-{uuid.uuid4().hex}"
        pi = stripe_client.create_payment_intent(2599, "EUR", 7, key, {"listing_id": 3})
        assert pi.id.startswith("pi_") and pi.amount == 2599 and pi.currency == "eur"
        assert pi.status == "requires_payment_method" and pi.client_secret
        assert pi.metadata["trade_id"] == "7" and pi.metadata["listing_id"] == "3"
        assert pi.capture_method == "automatic"
        again = stripe_client.retrieve_payment_intent(pi.id)
        assert again.id == pi.id and again.metadata["trade_id"] == "7"
        cancelled = stripe_client.cancel_payment_intent(pi.id, f"trade-7-cancel-{pi.id}")
        assert cancelled.status == "canceled"


def test_idempotency_keys_are_derived_from_the_trade():
    assert stripe_client.trade_key(12, "create") == "trade-12-create"
    assert stripe_client.trade_key(12, "refund", 2) == "trade-12-refund-2"
    assert stripe_client.payout_key(5) == "payout-5-transfer"
    assert stripe_client.transfer_group(12) == "trade-12"


def test_payment_succeeded_webhook_arrives_signed_and_is_applied(
        stripe_app, localstripe, live_server, handlers, drain_jobs):
    applied = []
    handlers.on("payment_intent.succeeded")(applied.append)
    localstripe.register_webhook("reloop", f"{live_server}/api/v1/payments/stripe/webhook",
                                 WEBHOOK_SECRET,
                                 ["payment_intent.succeeded", "payment_intent.payment_failed"])
    trade_id, pi, buyer = _paid_intent(stripe_app, localstripe)
    confirmed = buyer.v1.payment_intents.confirm(pi.id)
    assert confirmed.status == "succeeded"

    def stored():
        with stripe_app.app_context():
            return db.session.scalars(select(StripeEvent).where(
                StripeEvent.object_id == pi.id,
                StripeEvent.type == "payment_intent.succeeded")).first()

    event = wait_for(stored)
    drain_jobs()  # with Redis, the event is applied by a worker

    def outcome():  # embedded, the server thread applies it just after storing it
        with stripe_app.app_context():
            return db.session.get(StripeEvent, event.id).outcome

    assert wait_for(outcome, timeout=10) == "applied"
    assert len(applied) == 1
    assert applied[0].object["id"] == pi.id
    assert applied[0].object["metadata"]["trade_id"] == str(trade_id)
    assert applied[0].object["status"] == "succeeded"


def test_declined_card_and_payment_failed_webhook(stripe_app, localstripe, live_server,
                                                  handlers, drain_jobs):
    failed = []
    handlers.on("payment_intent.payment_failed")(failed.append)
    localstripe.register_webhook("reloop", f"{live_server}/api/v1/payments/stripe/webhook",
                                 WEBHOOK_SECRET,
                                 ["payment_intent.succeeded", "payment_intent.payment_failed"])
    _, pi, _ = _paid_intent(stripe_app, localstripe, card="pm_card_chargeCustomerFail")
    with stripe_app.app_context():
        # A confirmation made through our client maps the card error to PaymentDeclined.
        with pytest.raises(PaymentDeclined) as info:
            stripe_client._call("confirm", lambda: stripe_client.client().v1.payment_intents
                                .confirm(pi.id))
        assert info.value.status == 402 and info.value.code == "card_declined"
        assert stripe_client.retrieve_payment_intent(pi.id).status == "requires_payment_method"

    def stored():
        with stripe_app.app_context():
            return db.session.scalars(select(StripeEvent).where(
                StripeEvent.object_id == pi.id,
                StripeEvent.type == "payment_intent.payment_failed")).first()

    wait_for(stored)
    drain_jobs()
    assert [e.object["id"] for e in failed] == [pi.id]


def test_full_and_partial_refunds(stripe_app, localstripe):
    trade_id, pi, buyer = _paid_intent(stripe_app, localstripe, amount=5000)
    buyer.v1.payment_intents.confirm(pi.id)
    with stripe_app.app_context():
        partial = stripe_client.refund(pi.id, 1500, stripe_client.trade_key(trade_id, "refund", 1),
                                       {"reason": "dispute"})
        assert partial.amount == 1500 and partial.status == "succeeded"
        assert partial.payment_intent == pi.id

    trade_id, pi, buyer = _paid_intent(stripe_app, localstripe, amount=3000)
    buyer.v1.payment_intents.confirm(pi.id)
    with stripe_app.app_context():
        full = stripe_client.refund(pi.id, None, stripe_client.trade_key(trade_id, "refund", 1))
        assert full.amount == 3000 and full.status == "succeeded"


def test_refunding_a_failed_payment_is_rejected(stripe_app, localstripe):
    trade_id, pi, buyer = _paid_intent(stripe_app, localstripe,
                                       card="pm_card_chargeCustomerFail")
    with pytest.raises(Exception):  # noqa: B017 - the buyer's own client sees the decline
        buyer.v1.payment_intents.confirm(pi.id)
    with stripe_app.app_context(), pytest.raises(PaymentRejected) as info:
        stripe_client.refund(pi.id, None, stripe_client.trade_key(trade_id, "refund", 1))
    assert info.value.status == 409


def test_stripe_unreachable_raises_provider_unavailable(app, stripe_config):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stripe_config["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    with app.app_context():
        with pytest.raises(PaymentProviderUnavailable) as info:
            stripe_client.create_payment_intent(1000, "eur", 1, "trade-1-create")
        assert info.value.status == 503 and info.value.headers["Retry-After"]
        for call in (lambda: stripe_client.retrieve_payment_intent("pi_x"),
                     lambda: stripe_client.cancel_payment_intent("pi_x", "trade-1-cancel"),
                     lambda: stripe_client.refund("pi_x", None, "trade-1-refund-1"),
                     lambda: stripe_client.create_transfer(1, "eur", "acct_1", "trade-1",
                                                           "payout-1-transfer")):
            with pytest.raises(PaymentProviderUnavailable):
                call()


def test_unconfigured_stripe_is_provider_unavailable(app, stripe_config):
    stripe_config["STRIPE_API_KEY"] = None
    with app.app_context(), pytest.raises(PaymentProviderUnavailable):
        stripe_client.retrieve_payment_intent("pi_x")


def test_transfer_sends_group_and_idempotency_key(app, fake_transfers):
    """localstripe has no Connect endpoints: this runs against a minimal local fake of only
    ``POST /v1/transfers`` (tests/stripe_fixtures.py::FakeTransfers)."""
    with app.app_context():
        transfer = stripe_client.create_transfer(
            9500, "EUR", "acct_seller1", "trade-77", "payout-3-transfer",
            metadata={"payout_id": 3}, source_transaction="ch_123")
    assert transfer.id.startswith("tr_") and transfer.amount == 9500
    (req,) = fake_transfers.requests
    assert req["headers"]["Idempotency-Key"] == "payout-3-transfer"
    assert req["headers"]["Authorization"] == "Bearer sk_test_reloop"
    assert req["form"] == {"amount": "9500", "currency": "eur", "destination": "acct_seller1",
                           "transfer_group": "trade-77", "metadata[payout_id]": "3",
                           "source_transaction": "ch_123"}


def test_library_retries_reuse_the_idempotency_key(app, stripe_config, fake_transfers):
    """A 5xx is retried by the library with the same key, so Stripe can never apply it twice
    (fake of ``/v1/transfers`` only, as localstripe has no Connect)."""
    stripe_config["STRIPE_MAX_NETWORK_RETRIES"] = 2
    fake_transfers.responses = [(500, {"error": {"type": "api_error", "message": "boom"}})]
    with app.app_context():
        stripe_client.create_transfer(100, "eur", "acct_x", "trade-1", "payout-9-transfer")
    keys = [r["headers"]["Idempotency-Key"] for r in fake_transfers.requests]
    assert keys == ["payout-9-transfer", "payout-9-transfer"]
