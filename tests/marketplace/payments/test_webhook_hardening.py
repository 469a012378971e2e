"""Webhook input limits: ids validated for length and format, signature tolerance both ways."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.payments.models import StripeEvent
from tests.factories import assert_error_shape
from tests.stripe_fixtures import event_payload, sign

URL = "/api/v1/payments/stripe/webhook"


def post(client, payload: bytes, **kw):
    return client.post(URL, data=payload, headers={"Content-Type": "application/json",
                                                   "Stripe-Signature": sign(payload, **kw)})


def _stored(client) -> int:
    with client.application.app_context():
        return len(db.session.scalars(select(StripeEvent)).all())


def test_future_timestamp_is_refused_like_an_old_one(client, stripe_config):
    payload = event_payload("evt_future")
    assert_error_shape(post(client, payload, timestamp=int(time.time()) + 600), 400)
    assert_error_shape(post(client, payload, timestamp=int(time.time()) - 600), 400)
    assert post(client, payload, timestamp=int(time.time()) + 60).status_code == 200
    assert _stored(client) == 1


@pytest.mark.parametrize("event_id, obj_id", [
    ("evt_" + "x" * 300, "pi_ok"), ("evt_ok", "pi_" + "y" * 300), ("evt bad", "pi_ok"),
    ("evt_ok", "pi_<script>"),
])
def test_ids_too_long_or_malformed_are_400(client, stripe_config, event_id, obj_id):
    payload = json.dumps({"id": event_id, "object": "event", "type": "payment_intent.succeeded",
                          "data": {"object": {"id": obj_id, "object": "payment_intent"}},
                          "created": 0, "livemode": False}).encode()
    body = assert_error_shape(post(client, payload), 400)
    assert set(body["errors"]) <= {"id", "data.object.id"} and body["errors"]
    assert _stored(client) == 0


def test_long_event_type_is_400(client, stripe_config):
    payload = json.dumps({"id": "evt_t", "object": "event", "type": "a" * 300,
                          "data": {"object": {}}}).encode()
    assert_error_shape(post(client, payload), 400)
