"""Trades tests: a seller with a listing, a buyer, an admin, the app talking to localstripe.

Webhooks are mostly delivered by the test (signed, through the test client, with the objects
localstripe returned); ``test_webhooks.py`` also has localstripe deliver them over real HTTP.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.trades.models import Trade
from tests.factories import create_listing, make_admin, make_user
from tests.stripe_fixtures import sign


@dataclass
class Env:
    client: object
    app: object
    ls: object
    drain: object
    buyer: dict
    b: dict
    seller: dict
    s: dict
    a: dict
    listing: dict

    def create(self, headers=None, key=None, **body) -> dict:
        body = {"listing_id": self.listing["id"], **body}
        extra = {"Idempotency-Key": key} if key else {}
        resp = self.client.post("/api/v1/trades", json=body, headers={**(headers or self.b),
                                                                      **extra})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def post(self, path, headers, json_body=None, key=None):
        extra = {"Idempotency-Key": key} if key else {}
        return self.client.post(f"/api/v1{path}", json=json_body,
                                headers={**headers, **extra})

    def get(self, trade_id, headers=None) -> dict:
        resp = self.client.get(f"/api/v1/trades/{trade_id}", headers=headers or self.b)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def confirm_pi(self, trade, card="pm_card_visa"):
        """Pay as the buyer's client would: attach a card, confirm the PaymentIntent."""
        buyer = self.ls.client()
        pi_id = trade["payment"]["payment_intent_id"]
        buyer.v1.payment_intents.update(pi_id, params={"payment_method": card})
        return buyer.v1.payment_intents.confirm(pi_id)

    def deliver(self, event_type, obj, event_id=None):
        obj = obj if isinstance(obj, dict) else json.loads(str(obj))
        payload = json.dumps({"id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
                              "object": "event", "type": event_type, "data": {"object": obj},
                              "created": 0, "livemode": False}).encode()
        resp = self.client.post("/api/v1/payments/stripe/webhook", data=payload,
                                headers={"Stripe-Signature": sign(payload),
                                         "Content-Type": "application/json"})
        assert resp.status_code == 200, resp.get_json()
        self.drain()
        return resp

    def pay(self, trade) -> dict:
        pi = self.confirm_pi(trade)
        assert pi.status == "succeeded"
        self.deliver("payment_intent.succeeded", pi)
        self.declare_wipe(trade)
        return self.get(trade["id"])

    def declare_wipe(self, trade) -> dict:
        """The seller's data-wipe declaration (phones, tablets, laptops and desktops ship
        only with one)."""
        resp = self.post(f"/trades/{trade['id']}/data-wipe", self.s,
                         {"method": "factory_reset_encrypted", "wiped_on": "2026-11-30"})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def ship(self, trade) -> dict:
        if trade["status"] == "paid" and not (trade.get("data_wipe") or {}).get("declared"):
            self.declare_wipe(trade)
        resp = self.post(f"/trades/{trade['id']}/ship", self.s,
                         {"carrier": "La Poste", "tracking_number": "6A123"})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def shipped(self, **body) -> dict:
        return self.ship(self.pay(self.create(**body)))

    def completed(self) -> dict:
        trade = self.shipped()
        resp = self.post(f"/trades/{trade['id']}/confirm", self.b)
        assert resp.status_code == 200, resp.get_json()
        self.drain()
        return resp.get_json()

    def backdate(self, trade_id, seconds=1):
        """Move a trade's running timer into the past (instead of sleeping)."""
        with self.app.app_context():
            db.session.execute(update(Trade).where(Trade.id == trade_id)
                               .values(due_at=utcnow() - timedelta(seconds=seconds)))
            db.session.commit()


@pytest.fixture
def env(client, stripe_app, localstripe, drain_jobs) -> Env:
    seller, s = make_user(client, "Seller")
    buyer, b = make_user(client, "Buyer")
    a = make_admin(client, stripe_app)
    listing = create_listing(client, s)
    return Env(client, stripe_app, localstripe, drain_jobs, buyer, b, seller, s, a, listing)
