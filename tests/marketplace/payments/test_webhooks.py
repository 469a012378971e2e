"""The Stripe webhook: signature checks, storing each event once, applying it once, and
events that arrive before the row they refer to is committed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.payments import webhooks
from marketplace.payments.models import StripeEvent
from tests.factories import assert_error_shape
from tests.stripe_fixtures import WEBHOOK_SECRET, event_payload, sign
from workers.schedule import PERIODIC

URL = "/api/v1/payments/stripe/webhook"


def post(client, payload: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post(URL, data=payload, headers=headers)


def _events() -> list[StripeEvent]:
    return list(db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)))


@pytest.fixture
def applied(handlers):
    """A handler for payment_intent.succeeded that records what it was given."""
    seen: list[webhooks.WebhookEvent] = []
    handlers.on("payment_intent.succeeded")(seen.append)
    return seen


def test_missing_signature_is_400(client, stripe_config, applied):
    body = assert_error_shape(post(client, event_payload("evt_nosig"), None), 400)
    assert "Stripe-Signature" in body["errors"]


def test_bad_signature_is_400(client, stripe_config, applied):
    payload = event_payload("evt_badsig")
    assert_error_shape(post(client, payload, sign(payload, secret="whsec_other")), 400)
    assert_error_shape(post(client, payload, "t=1,v1=deadbeef"), 400)
    assert_error_shape(post(client, payload, "garbage"), 400)
    # The body was altered after signing.
    assert_error_shape(post(client, payload + b" ", sign(payload)), 400)
    with client.application.app_context():
        assert _events() == []
    assert applied == []


def test_too_old_signature_is_400(client, stripe_config, applied):
    payload = event_payload("evt_old")
    resp = post(client, payload, sign(payload, timestamp=int(time.time()) - 301))
    assert_error_shape(resp, 400)
    with client.application.app_context():
        assert _events() == []


def test_signed_body_that_is_not_an_event_is_400(client, stripe_config):
    for payload in (b"not json", b"[1, 2]", b'{"id": "x"}'):
        assert_error_shape(post(client, payload, sign(payload)), 400)


def test_unconfigured_secret_is_503(client, stripe_config, monkeypatch):
    monkeypatch.setitem(client.application.config, "STRIPE_WEBHOOK_SECRET", None)
    payload = event_payload("evt_nosecret")
    assert_error_shape(post(client, payload, sign(payload)), 503)


def test_valid_event_is_stored_and_applied(client, stripe_config, applied, drain_jobs):
    payload = event_payload("evt_ok")
    resp = post(client, payload, sign(payload))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"received": True, "duplicate": False}
    drain_jobs()
    with client.application.app_context():
        (event,) = _events()
        assert event.stripe_event_id == "evt_ok" and event.type == "payment_intent.succeeded"
        assert event.object_id == "pi_test123"
        assert event.payload["data"]["object"]["metadata"] == {"trade_id": "42"}
        assert event.processed_at is not None and event.outcome == "applied"
    assert [e.id for e in applied] == ["evt_ok"]
    assert applied[0].object["metadata"]["trade_id"] == "42"


def test_duplicate_delivery_is_acknowledged_and_applied_once(client, stripe_config, applied,
                                                             drain_jobs):
    payload = event_payload("evt_dup")
    assert post(client, payload, sign(payload)).get_json()["duplicate"] is False
    drain_jobs()
    # Stripe retries with a fresh signature (new timestamp) and the same event id.
    again = post(client, payload, sign(payload, timestamp=int(time.time()) + 1))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    drain_jobs()
    with client.application.app_context():
        assert len(_events()) == 1
        assert outbox.process([m.id for m in db.session.scalars(select(OutboxMessage))]) == 0
        assert webhooks.apply_event(_events()[0].id) is False
    assert len(applied) == 1


def test_unknown_event_type_is_stored_and_ignored(client, stripe_config, applied, drain_jobs):
    payload = event_payload("evt_unknown", "customer.created", {"id": "cus_1"})
    resp = post(client, payload, sign(payload))
    assert resp.status_code == 200
    drain_jobs()
    with client.application.app_context():
        (event,) = _events()
        assert event.outcome == "ignored" and event.processed_at is not None
        assert db.session.scalars(select(OutboxMessage)).all() == []
    assert applied == []


def test_event_before_its_trade_is_committed_is_kept_and_applied_later(
        client, stripe_config, handlers, drain_jobs):
    """The handler cannot see its row yet (NotReady): the event stays unprocessed, the
    outbox keeps retrying, and ``apply_stored_events`` applies it right after the commit."""
    committed: set[str] = set()
    applied: list[str] = []

    @handlers.on("payment_intent.succeeded")
    def _paid(event):
        if event.object["metadata"]["trade_id"] not in committed:
            raise webhooks.NotReady("trade not visible yet")
        applied.append(event.id)

    payload = event_payload("evt_early")
    assert post(client, payload, sign(payload)).status_code == 200
    drain_jobs()
    with client.application.app_context():
        (event,) = _events()
        assert event.processed_at is None
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.processed_at is None and "NotReady" in message.last_error

        committed.add("42")  # the trade's transaction commits, then calls:
        assert webhooks.apply_stored_events("pi_test123") == 1
        assert applied == ["evt_early"]
        db.session.refresh(event)
        assert event.outcome == "applied"
        # The outbox retry that comes later does nothing more.
        assert outbox.process([message.id]) == 1  # record closed...
        assert applied == ["evt_early"]  # ...without a second application
        assert webhooks.apply_stored_events("pi_test123") == 0


def test_outbox_retry_applies_an_early_event(client, stripe_config, handlers, drain_jobs):
    ready = {"value": False}
    applied: list[str] = []

    @handlers.on("payment_intent.succeeded")
    def _paid(event):
        if not ready["value"]:
            raise webhooks.NotReady("not yet")
        applied.append(event.id)

    payload = event_payload("evt_retry")
    post(client, payload, sign(payload))
    drain_jobs()
    ready["value"] = True
    with client.application.app_context():
        failed = db.session.scalars(select(OutboxMessage)).one()
        assert failed.attempts == 1 and failed.available_at > utcnow()  # backing off
        assert outbox.reconcile(timedelta(seconds=60)) == 0  # not due yet
        db.session.execute(update(OutboxMessage).values(  # ... five minutes later
            created_at=utcnow() - timedelta(minutes=5),
            available_at=utcnow() - timedelta(minutes=4)))
        db.session.commit()
        assert outbox.reconcile(timedelta(seconds=60)) == 1
    drain_jobs()
    with client.application.app_context():
        assert _events()[0].outcome == "applied"
        assert outbox.pending_count() == 0
    assert applied == ["evt_retry"]


def test_event_never_ready_is_abandoned_after_max_defer(client, stripe_config, handlers,
                                                       drain_jobs):
    @handlers.on("payment_intent.succeeded")
    def _never(event):
        raise webhooks.NotReady("no such trade")

    payload = event_payload("evt_orphan")
    post(client, payload, sign(payload))
    drain_jobs()
    with client.application.app_context():
        db.session.execute(update(StripeEvent).values(
            received_at=utcnow() - webhooks.MAX_DEFER - timedelta(seconds=1)))
        db.session.commit()
        message = db.session.scalars(select(OutboxMessage)).one()
        assert outbox.process([message.id]) == 1
        (event,) = _events()
        assert event.outcome == "abandoned" and event.processed_at is not None
        assert "no such trade" in event.last_error


def test_handler_registry_refuses_two_handlers_for_one_type(handlers):
    handlers.on("charge.refunded")(lambda e: None)
    with pytest.raises(ValueError):
        handlers.on("charge.refunded")(lambda e: None)


def test_webhook_secret_is_used_as_configured(client, stripe_config, applied, drain_jobs):
    assert stripe_config["STRIPE_WEBHOOK_SECRET"] == WEBHOOK_SECRET
    stripe_config["STRIPE_WEBHOOK_SECRET"] = "whsec_rotated"
    payload = event_payload("evt_rotated")
    assert_error_shape(post(client, payload, sign(payload)), 400)
    assert post(client, payload, sign(payload, secret="whsec_rotated")).status_code == 200


def test_apply_stored_events_never_raises_for_a_failing_handler(client, stripe_config,
                                                                handlers, drain_jobs):
    @handlers.on("payment_intent.succeeded")
    def _broken(event):
        raise RuntimeError("handler bug")

    payload = event_payload("evt_broken")
    assert post(client, payload, sign(payload)).status_code == 200
    drain_jobs()
    with client.application.app_context():
        assert webhooks.apply_stored_events("pi_test123") == 0
        assert _events()[0].processed_at is None  # kept for the outbox retries


def test_periodic_jobs_include_the_payments_reconcilers():

    assert {"reconcile-payouts", "purge-idempotency-keys"} <= {p.name for p in PERIODIC}


def test_concurrent_deliveries_of_one_event_store_and_apply_it_once(
        app, client, stripe_config, applied, drain_jobs):

    payload = event_payload("evt_race")
    barrier = threading.Barrier(3)
    answers: list[bool] = []

    def deliver():
        barrier.wait()
        resp = app.test_client().post(URL, data=payload, headers={
            "Content-Type": "application/json", "Stripe-Signature": sign(payload)})
        assert resp.status_code == 200
        answers.append(resp.get_json()["duplicate"])

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    drain_jobs()
    assert sorted(answers) == [False, True, True]
    with app.app_context():
        assert len(_events()) == 1
    assert len(applied) == 1


@pytest.mark.services
def test_concurrent_application_is_serialised_by_the_row_lock(app, stripe_config, handlers):
    """Two workers apply the same stored event at once (e.g. the outbox job and
    ``apply_stored_events``): the second waits for the first's lock, then sees it processed."""

    calls: list[str] = []

    @handlers.on("payment_intent.succeeded")
    def _slow(event):
        calls.append(event.id)
        time.sleep(0.5)

    with app.app_context():
        record = StripeEvent(stripe_event_id="evt_lock", type="payment_intent.succeeded",
                             object_id="pi_lock", payload={"data": {"object": {}}})
        db.session.add(record)
        db.session.commit()
        record_id = record.id
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def work():
        with app.app_context():
            barrier.wait()
            results.append(webhooks.apply_event(record_id))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, True]
    assert calls == ["evt_lock"]
