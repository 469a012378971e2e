"""Timed transitions: the periodic job and lazy enforcement on read and act. Time is moved
by backdating the trade's deadline, never by sleeping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.payments import stripe_client
from marketplace.payments.models import Payout
from marketplace.trades.models import Trade, TradeEvent
from tests.factories import assert_error_shape, create_listing
from tests.stripe_fixtures import free_port
from workers import jobs, schedule


def _advance(env) -> int:
    with env.app.app_context():
        return jobs.advance_trades()


def _transitions(env, trade_id) -> list[tuple[str, str]]:
    with env.app.app_context():
        return [(e.transition, e.actor) for e in db.session.scalars(
            select(TradeEvent).where(TradeEvent.trade_id == trade_id).order_by(TradeEvent.id))]


def test_advance_job_is_scheduled():
    entry = {p.name: p for p in schedule.PERIODIC}["advance-trades"]
    assert entry.interval_key == "TRADE_ADVANCE_INTERVAL_SECONDS"


def test_unpaid_trade_expires_lazily_on_read(env):
    trade = env.create()
    assert env.get(trade["id"])["status"] == "pending_payment"
    env.backdate(trade["id"])
    expired = env.get(trade["id"])
    assert expired["status"] == "cancelled"
    listing = env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()
    assert listing["status"] == "active"
    pi = env.ls.client().v1.payment_intents.retrieve(trade["payment"]["payment_intent_id"])
    assert pi.status == "canceled"
    assert _transitions(env, trade["id"])[-1] == ("expire", "system")


def test_advance_job_expires_and_auto_cancels_with_full_refund(env):
    unpaid = env.create()
    env.backdate(unpaid["id"])
    assert _advance(env) == 1
    assert env.get(unpaid["id"])["status"] == "cancelled"
    paid = env.pay(env.create())
    env.backdate(paid["id"])
    assert _advance(env) == 1
    cancelled = env.get(paid["id"])
    assert cancelled["status"] == "cancelled" and cancelled["refunded_amount"]["amount"] == 39000
    refund_id = _last_details(env, paid["id"])["refund"]["id"]
    assert env.ls.client().v1.refunds.retrieve(refund_id).amount == 39000
    assert _advance(env) == 0


def _last_details(env, trade_id) -> dict:
    with env.app.app_context():
        return db.session.scalars(select(TradeEvent).where(TradeEvent.trade_id == trade_id)
                                  .order_by(TradeEvent.id.desc())).first().details


def test_payment_that_succeeded_before_expiry_ran_makes_the_trade_paid(env):
    trade = env.create()
    pi = env.confirm_pi(trade)  # paid, but the webhook has not arrived yet
    env.backdate(trade["id"])
    assert _advance(env) == 1
    assert env.get(trade["id"])["status"] == "paid"
    assert _transitions(env, trade["id"])[-1] == ("payment_succeeded", "system")
    env.deliver("payment_intent.succeeded", pi)  # the late webhook changes nothing
    assert len(_transitions(env, trade["id"])) == 2


def test_payment_arriving_after_expiry_is_refunded(env, monkeypatch):
    trade = env.create()
    env.backdate(trade["id"])
    # Stripe unreachable while the trade expires: it is cancelled all the same.
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    env.app.extensions.pop("reloop_stripe", None)
    assert _advance(env) == 1
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", env.ls.url)
    env.app.extensions.pop("reloop_stripe", None)
    assert _last_details(env, trade["id"])["payment_intent"].startswith("cancel deferred")
    pi = env.confirm_pi(trade)
    env.deliver("payment_intent.succeeded", pi)
    late = env.get(trade["id"])
    assert late["status"] == "cancelled" and late["refunded_amount"]["amount"] == 39000
    assert _transitions(env, trade["id"])[-1] == ("refund_late_payment", "stripe")


def test_shipped_trade_auto_confirms_and_acting_after_the_deadline_is_409(env):
    trade = env.shipped()
    env.backdate(trade["id"])
    body = assert_error_shape(env.post(f"/trades/{trade['id']}/dispute", env.b,
                                       {"reason": "too late"}), 409)
    assert body["message"] == "cannot dispute: trade is completed"
    assert _transitions(env, trade["id"])[-1] == ("auto_confirm", "system")
    env.drain()
    with env.app.app_context():
        payout = db.session.scalar(select(Payout).where(Payout.trade_id == trade["id"]))
        assert payout.amount == 37050


def test_durations_come_from_config(env, monkeypatch):
    monkeypatch.setitem(env.app.config, "TRADE_SHIP_WINDOW_SECONDS", 60)
    paid = env.pay(env.create())

    gap = (datetime.fromisoformat(paid["ship_by"]) - datetime.fromisoformat(paid["paid_at"]))
    assert 59 <= gap.total_seconds() <= 61



def test_a_refused_auto_cancel_refund_does_not_block_other_trades(env, monkeypatch):
    """Stripe refusing one refund (e.g. a disputed charge) must not stop the periodic job
    from advancing the trades due after it, nor make the trade unreadable."""

    stuck = env.pay(env.create())
    env.backdate(stuck["id"], seconds=60)  # due first
    other_listing = create_listing(env.client, env.s)
    unpaid = env.create(listing_id=other_listing["id"])
    env.backdate(unpaid["id"])
    real_refund = stripe_client.refund

    def refuse(pi_id, *args, **kwargs):
        if pi_id == stuck["payment"]["payment_intent_id"]:
            raise stripe_client.PaymentRejected("The charge is disputed.")
        return real_refund(pi_id, *args, **kwargs)

    monkeypatch.setattr(stripe_client, "refund", refuse)
    assert _advance(env) == 1  # the unpaid trade behind the stuck one still expires
    assert env.get(unpaid["id"])["status"] == "cancelled"
    assert env.get(stuck["id"])["status"] == "paid"  # readable, shown as it is
    assert _transitions(env, stuck["id"])[-1] == ("timer_failed", "system")
    with env.app.app_context():
        assert db.session.get(Trade, stuck["id"]).due_at > utcnow()  # retried later
    monkeypatch.setattr(stripe_client, "refund", real_refund)
    env.backdate(stuck["id"])
    assert _advance(env) == 1
    assert env.get(stuck["id"])["status"] == "cancelled"
