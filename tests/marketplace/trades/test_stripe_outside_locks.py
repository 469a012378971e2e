"""No transaction (so no row lock) is open while Stripe is called: creating a trade's
PaymentIntent and transferring a payout. On PostgreSQL a second connection locks the rows
with NOWAIT from inside the Stripe call."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text

from marketplace.core.db import db
from marketplace.listings.models import Listing
from marketplace.payments import payouts, stripe_client
from marketplace.payments.models import Payout, PayoutAccount, PayoutStatus
from marketplace.payments.stripe_client import PaymentProviderUnavailable
from marketplace.trades.models import Trade
from tests.factories import assert_error_shape, register


def _lock_nowait(app, table: str, row_id: int) -> None:
    """Lock the row from another connection, failing at once if anyone holds it."""
    if db.engine.dialect.name != "postgresql":
        return
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.begin() as conn:
            conn.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE NOWAIT"),
                         {"id": row_id})
    finally:
        other.dispose()


@pytest.fixture
def probe(env, monkeypatch):
    calls = []
    real = stripe_client.create_payment_intent

    def create_payment_intent(amount, currency, trade_id, key, metadata=None):
        assert not db.session().in_transaction(), "a transaction is open during the Stripe call"
        _lock_nowait(env.app, "trades", trade_id)
        _lock_nowait(env.app, "listings", env.listing["id"])
        calls.append(trade_id)
        return real(amount, currency, trade_id, key, metadata)

    monkeypatch.setattr(stripe_client, "create_payment_intent", create_payment_intent)
    return calls


def test_payment_intent_is_created_with_no_lock_held(env, probe):
    trade = env.create()
    assert probe == [trade["id"]]
    assert trade["payment"]["payment_intent_id"] and trade["payment"]["client_secret"]
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events", headers=env.b).get_json()
    assert events["items"][0]["details"]["payment_intent_id"] == \
        trade["payment"]["payment_intent_id"]


def test_stripe_down_undoes_the_reservation(env, monkeypatch):
    def down(*args, **kwargs):
        assert not db.session().in_transaction()
        raise PaymentProviderUnavailable()

    monkeypatch.setattr(stripe_client, "create_payment_intent", down)
    resp = env.client.post("/api/v1/trades", json={"listing_id": env.listing["id"]},
                           headers=env.b)
    assert_error_shape(resp, 503)
    with env.app.app_context():
        assert db.session.scalars(select(Trade)).all() == []
        assert db.session.get(Listing, env.listing["id"]).status == "active"


def test_payout_transfer_with_no_lock_held(app, client, monkeypatch):
    seller_id = register(client)["id"]
    with app.app_context():
        db.session.add(PayoutAccount(user_id=seller_id, stripe_account_id="acct_1Probe"))
        payout = payouts.schedule_payout(7, seller_id, 1234, "EUR")
        db.session.commit()
        payout_id = payout.id
    seen = []

    def create_transfer(amount, currency, destination, group, key, metadata=None,
                        source_transaction=None):
        assert not db.session().in_transaction()
        _lock_nowait(app, "payouts", payout_id)
        with app.app_context():  # another session sees the claim
            assert db.session.get(Payout, payout_id).status == PayoutStatus.TRANSFERRING
        seen.append((amount, currency, destination, key))
        return SimpleNamespace(id="tr_probe")

    monkeypatch.setattr(stripe_client, "create_transfer", create_transfer)
    with app.app_context():
        assert payouts.transfer(payout_id) == "transferred"
        assert payouts.transfer(payout_id) == "transferred"  # done: no second call
        assert db.session.get(Payout, payout_id).stripe_transfer_id == "tr_probe"
    assert seen == [(1234, "eur", "acct_1Probe", f"payout-{payout_id}-transfer")]
