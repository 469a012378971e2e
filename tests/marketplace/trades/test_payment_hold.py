"""A payment_intent.succeeded that does not match its trade is held for an admin."""

from __future__ import annotations

import json

from sqlalchemy import select

from marketplace.core.audit import AuditEntry
from marketplace.core.db import db
from marketplace.trades.models import Trade


def _pi(env, trade) -> dict:
    pi = env.confirm_pi(trade)
    return json.loads(str(pi))


def test_amount_mismatch_holds_the_trade_instead_of_paying_it(env):
    trade = env.create()
    pi = _pi(env, trade)
    right = dict(pi)
    pi["amount"] = pi["amount_received"] = pi["amount"] - 100
    env.deliver("payment_intent.succeeded", pi)
    after = env.get(trade["id"])
    assert after["status"] == "pending_payment"
    with env.app.app_context():
        row = db.session.get(Trade, trade["id"])
        assert row.payment_hold and "amount" in row.payment_hold
        assert row.due_at is None  # the payment timer will not cancel nor pay it
        entry = db.session.scalars(select(AuditEntry)
                                   .where(AuditEntry.action == "trade.payment_held")).one()
        assert entry.subject_id == str(trade["id"])
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events", headers=env.b).get_json()
    assert events["items"][-1]["transition"] == "payment_held"
    # The right event arriving later does not apply either: an admin decides.
    env.deliver("payment_intent.succeeded", right)
    assert env.get(trade["id"])["status"] == "pending_payment"


def test_currency_mismatch_holds_too(env):
    trade = env.create()
    pi = _pi(env, trade)
    pi["currency"] = "usd"
    env.deliver("payment_intent.succeeded", pi)
    assert env.get(trade["id"])["status"] == "pending_payment"
    with env.app.app_context():
        assert "currency" in db.session.get(Trade, trade["id"]).payment_hold


def test_matching_payment_is_applied(env):
    trade = env.create()
    env.deliver("payment_intent.succeeded", _pi(env, trade))
    assert env.get(trade["id"])["status"] == "paid"
