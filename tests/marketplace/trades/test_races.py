"""Races with real concurrency on PostgreSQL (threads, each request or job with its own app
context and database session): row locks and conditional updates decide, exactly once."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from marketplace.payments import webhooks
from marketplace.payments.models import Payout, StripeEvent
from marketplace.trades import services
from marketplace.trades.models import Trade, TradeEvent
from tests.factories import make_user
from tests.stripe_fixtures import sign

pytestmark = pytest.mark.services


def run_together(*funcs) -> list:
    barrier = threading.Barrier(len(funcs))
    results: list = [None] * len(funcs)

    def runner(i, func):
        barrier.wait(10)
        try:
            results[i] = func()
        except Exception as exc:  # reported by the assertions
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _events(app, trade_id, transition) -> list[dict]:
    with app.app_context():
        return [e.details or {} for e in db.session.scalars(
            select(TradeEvent).where(TradeEvent.trade_id == trade_id,
                                     TradeEvent.transition == transition))]


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _apply(app, record_id):
    with app.app_context():
        try:
            applied = webhooks.apply_event(record_id)
            db.session.commit()
            return applied
        except webhooks.NotReady:
            db.session.rollback()
            return "not ready"
        finally:
            db.session.remove()


def _store(env, pi, event_id=None) -> int:
    payload = {"id": event_id or f"evt_{uuid.uuid4().hex[:16]}", "object": "event",
               "type": "payment_intent.succeeded", "data": {"object": pi}}
    with env.app.app_context():
        record, _ = webhooks.receive(payload)  # stored; its job is left in Redis, not run
        return record.id


def test_concurrent_buyers_one_listing_exactly_one_trade(env):
    buyers = [make_user(env.client)[1] for _ in range(6)]
    body = {"listing_id": env.listing["id"]}
    results = run_together(*[
        (lambda h=h: env.app.test_client().post("/api/v1/trades", json=body, headers=h)
         .status_code) for h in buyers])
    assert sorted(results) == [201] + [409] * 5
    assert _count(env.app, Trade) == 1
    listing = env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()
    assert listing["status"] == "reserved"


def test_succeeded_webhook_racing_a_buyer_cancel(env):

    trade = env.create()
    pi = json.loads(str(env.confirm_pi(trade)))
    record_id = _store(env, pi)

    def cancel():
        return env.app.test_client().post(f"/api/v1/trades/{trade['id']}/cancel",
                                          headers=env.b).status_code

    applied, status = run_together(lambda: _apply(env.app, record_id), cancel)
    final = env.get(trade["id"])
    assert applied is True
    paid = _events(env.app, trade["id"], "payment_succeeded")
    assert len(paid) == 1  # whoever saw the payment first recorded it, once
    if status == 200 and final["status"] == "cancelled":  # the webhook first: refunded
        assert final["refunded_amount"]["amount"] == 39000
    elif status == 200:  # the cancel first: Stripe refused it, the intent had succeeded
        assert final["status"] == "paid" and paid[0].get("detected_by") == "cancel_unpaid"
    else:  # the webhook first, the cancel saw a paid trade
        assert status == 409 and final["status"] == "paid"


def test_the_same_webhook_five_times_concurrently(env):

    trade = env.create()
    pi = json.loads(str(env.confirm_pi(trade)))
    payload = json.dumps({"id": "evt_concurrent", "object": "event",
                          "type": "payment_intent.succeeded",
                          "data": {"object": pi}}).encode()

    def post():
        return env.app.test_client().post(
            "/api/v1/payments/stripe/webhook", data=payload,
            headers={"Stripe-Signature": sign(payload)}).status_code

    assert run_together(*[post] * 5) == [200] * 5
    assert _count(env.app, StripeEvent) == 1
    # Five distinct events about the same payment, applied by five workers at once.
    ids = [_store(env, pi) for _ in range(5)]
    results = run_together(*[(lambda i=i: _apply(env.app, i)) for i in ids])
    assert all(r is True for r in results), results
    env.drain()
    assert env.get(trade["id"])["status"] == "paid"
    assert _count(env.app, TradeEvent, TradeEvent.transition == "payment_succeeded") == 1


def test_advance_job_racing_a_confirm_completes_once(env):
    trade = env.shipped()
    env.backdate(trade["id"], seconds=0)

    def job():
        with env.app.app_context():
            try:
                return services.advance_due()
            finally:
                db.session.remove()

    def confirm():
        return env.app.test_client().post(f"/api/v1/trades/{trade['id']}/confirm",
                                          headers=env.b).status_code

    applied, status = run_together(job, confirm)
    assert status in (200, 409) and applied in (0, 1)
    assert env.get(trade["id"])["status"] == "completed"
    completions = _count(env.app, TradeEvent,
                         TradeEvent.transition.in_(["confirm", "auto_confirm"]))
    assert completions == 1
    assert _count(env.app, OutboxMessage, OutboxMessage.topic == "trade.completed") == 1
    assert _count(env.app, Payout) == 1
