"""Stripe webhooks for trades: over real HTTP from localstripe, repeated, early, out of order."""

from __future__ import annotations

import json

import pytest
import stripe
from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.payments import stripe_client
from marketplace.payments.models import StripeEvent
from marketplace.trades.models import TradeEvent
from tests.stripe_fixtures import WEBHOOK_SECRET, wait_for

HOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


def _count(env, transition) -> int:
    with env.app.app_context():
        return db.session.scalar(select(func.count()).select_from(TradeEvent)
                                 .where(TradeEvent.transition == transition))


def _status_becomes(env, trade_id, status):
    def check():
        env.drain()
        return env.get(trade_id)["status"] == status

    wait_for(check)


def test_end_to_end_localstripe_delivers_succeeded_over_http(env, live_server):
    env.ls.register_webhook("reloop-trades", f"{live_server}/api/v1/payments/stripe/webhook",
                            WEBHOOK_SECRET, HOOK_EVENTS)
    trade = env.create()
    assert env.confirm_pi(trade).status == "succeeded"
    _status_becomes(env, trade["id"], "paid")
    env.ship(env.get(trade["id"]))
    assert env.post(f"/trades/{trade['id']}/confirm", env.b).get_json()["status"] == "completed"


def test_declined_card_cancels_the_trade_and_frees_the_listing(env, live_server):
    env.ls.register_webhook("reloop-trades", f"{live_server}/api/v1/payments/stripe/webhook",
                            WEBHOOK_SECRET, HOOK_EVENTS)
    trade = env.create()
    with pytest.raises(stripe.CardError):
        env.confirm_pi(trade, card="pm_card_chargeCustomerFail")
    _status_becomes(env, trade["id"], "cancelled")
    listing = env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()
    assert listing["status"] == "active"
    assert _count(env, "payment_failed") == 1
    # The listing can be bought again.
    assert env.create()["status"] == "pending_payment"


def test_the_same_webhook_five_times_is_one_transition(env):
    trade = env.create()
    pi = env.confirm_pi(trade)
    for _ in range(5):
        env.deliver("payment_intent.succeeded", pi, event_id="evt_same_one")
    for _ in range(3):  # Stripe may also send distinct events about the same payment
        env.deliver("payment_intent.succeeded", pi)
    assert env.get(trade["id"])["status"] == "paid"
    assert _count(env, "payment_succeeded") == 1
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 4


def test_failed_after_succeeded_does_not_cancel_a_paid_trade(env):
    trade = env.create()
    pi = json.loads(str(env.confirm_pi(trade)))
    env.deliver("payment_intent.succeeded", pi)
    env.deliver("payment_intent.payment_failed", {**pi, "status": "requires_payment_method"})
    env.deliver("payment_intent.canceled", {**pi, "status": "canceled"})
    assert env.get(trade["id"])["status"] == "paid"


def test_canceled_payment_intent_cancels_a_pending_trade(env):
    trade = env.create()
    pi = {"id": trade["payment"]["payment_intent_id"], "object": "payment_intent",
          "status": "canceled", "metadata": {"trade_id": str(trade["id"])}}
    env.deliver("payment_intent.canceled", pi)
    assert env.get(trade["id"])["status"] == "cancelled"


def test_succeeded_before_the_trade_is_committed_is_applied_after_commit(env, monkeypatch):
    """The PaymentIntent is paid and its event stored while no trade has it yet (as when the
    webhook beats the create transaction's commit); creating the trade then applies it."""
    with env.app.app_context():
        pi = stripe_client.create_payment_intent(39000, "EUR", 0, "early-test", {})
    buyer = env.ls.client()
    buyer.v1.payment_intents.update(pi.id, params={"payment_method": "pm_card_visa"})
    paid = buyer.v1.payment_intents.confirm(pi.id)
    env.deliver("payment_intent.succeeded", paid)
    with env.app.app_context():
        event = db.session.scalar(select(StripeEvent).where(StripeEvent.object_id == pi.id))
        assert event.processed_at is None  # NotReady: kept for later
    monkeypatch.setattr(stripe_client, "create_payment_intent", lambda *a, **k: pi)
    trade = env.create()
    assert trade["status"] == "paid"
    assert _count(env, "payment_succeeded") == 1
