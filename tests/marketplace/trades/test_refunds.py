"""Cancellations, disputes, refunds (full and partial) against localstripe; payouts reduced by
refunds; carbon reversals; reconciliation of refunds made outside Reloop."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from marketplace.payments import payouts, stripe_client
from marketplace.payments.models import Payout
from marketplace.trades.models import Trade, TradeEvent, TradeRefund
from tests.factories import assert_error_shape


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _outbox(env, topic) -> list[dict]:
    with env.app.app_context():
        return [m.payload for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id))]


def _payout(env, trade_id) -> Payout | None:
    with env.app.app_context():
        return db.session.scalar(select(Payout).where(Payout.trade_id == trade_id))


def _balance(env, headers) -> int:
    return env.client.get("/api/v1/carbon/account", headers=headers).get_json()["balance_g"]


def _verify(env):
    result = env.app.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0, result.output
    return result.output


def test_cancel_of_a_paid_trade_refunds_in_full(env):
    paid = env.pay(env.create())
    resp = env.post(f"/trades/{paid['id']}/cancel", env.s)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "cancelled" and body["refunded_amount"]["amount"] == 39000
    with env.app.app_context():
        refund = db.session.scalar(select(TradeRefund))
        assert refund.amount == 39000 and not refund.after_completion
    assert env.ls.client().v1.refunds.retrieve(refund.stripe_refund_id).amount == 39000
    listing = env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()
    assert listing["status"] == "active"
    assert _outbox(env, "trade.refunded") == [] and _payout(env, paid["id"]) is None


def test_dispute_resolved_by_release_completes(env):
    trade = env.shipped()
    resp = env.post(f"/trades/{trade['id']}/dispute", env.b, {"reason": "Scratched screen"})
    assert resp.get_json()["status"] == "disputed" and resp.get_json()["confirm_by"]
    assert_error_shape(env.post(f"/admin/trades/{trade['id']}/resolve", env.s,
                                {"outcome": "release"}), 403)
    done = env.post(f"/admin/trades/{trade['id']}/resolve", env.a, {"outcome": "release"})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    env.drain()
    assert [p["trade_id"] for p in _outbox(env, "trade.completed")] == [trade["id"]]
    assert _payout(env, trade["id"]).amount == 37050


def test_dispute_resolved_by_partial_refund_pays_the_seller_the_rest(env):
    trade = env.shipped()
    env.post(f"/trades/{trade['id']}/dispute", env.b, {"reason": "Battery worse than said"})
    resp = env.post(f"/admin/trades/{trade['id']}/resolve", env.a,
                    {"outcome": "refund", "amount": eur(10000)})
    body = resp.get_json()
    assert body["status"] == "refunded" and body["refunded_amount"]["amount"] == 10000
    assert body["seller_payable"]["amount"] == 39000 - 1950 - 10000
    env.drain()
    assert _payout(env, trade["id"]).amount == 27050
    # Never completed: no credit, so nothing to reverse.
    assert _outbox(env, "trade.completed") == [] and _outbox(env, "trade.refunded") == []
    refund_id = body and _event(env, trade["id"])["refund"]["id"]
    assert env.ls.client().v1.refunds.retrieve(refund_id).amount == 10000
    # Refunding the rest later takes it from the unpaid payout; still no carbon to reverse.
    rest = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {})
    assert rest.get_json()["refunded_amount"]["amount"] == 39000
    assert _payout(env, trade["id"]).status == "cancelled"
    assert _outbox(env, "trade.refunded") == []


def _event(env, trade_id) -> dict:
    with env.app.app_context():
        return db.session.scalars(select(TradeEvent).where(TradeEvent.trade_id == trade_id)
                                  .order_by(TradeEvent.id.desc())).first().details


def test_refunds_after_completion_reduce_the_payout_and_reverse_carbon(env):
    trade = env.completed()
    credited = _balance(env, env.b) + _balance(env, env.s)
    assert credited == round(env.listing["footprint"]["avoided_kgco2e"]["central"] * 1000)
    part = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(13000)})
    assert part.status_code == 200 and part.get_json()["status"] == "refunded"
    env.drain()
    assert _payout(env, trade["id"]).amount == 37050 - 13000
    [record] = _outbox(env, "trade.refunded")
    assert record["refunded_amount"] == 13000 and record["trade_amount"] == 39000
    left = _balance(env, env.b) + _balance(env, env.s)
    assert left == credited - (credited * 13000 * 2 + 39000) // (2 * 39000)
    assert "ledger OK" in _verify(env)
    assert_error_shape(env.post(f"/admin/trades/{trade['id']}/refund", env.a,
                                {"amount": eur(26001)}), 422)
    rest = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {})
    assert rest.get_json()["refunded_amount"]["amount"] == 39000
    env.drain()
    payout = _payout(env, trade["id"])
    assert payout.status == "cancelled" and payout.amount == 0
    assert _balance(env, env.b) + _balance(env, env.s) == 0
    _verify(env)
    assert_error_shape(env.post(f"/admin/trades/{trade['id']}/refund", env.a, {}), 409)


def test_refund_after_the_payout_was_transferred_is_borne_by_the_platform(env):
    trade = env.completed()
    with env.app.app_context():
        db.session.execute(update(Payout).where(Payout.trade_id == trade["id"])
                           .values(status="transferred", stripe_transfer_id="tr_x"))
        db.session.commit()
    env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(5000)})
    assert _event(env, trade["id"])["platform_borne"] == 5000
    assert _payout(env, trade["id"]).amount == 37050


def test_charge_refunded_webhook_reconciles_outside_refunds_once(env):
    trade = env.completed()
    pi_id = trade["payment"]["payment_intent_id"]
    env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(1000)})
    ours = _event(env, trade["id"])["refund"]["id"]
    charge = {"id": "ch_x", "object": "charge", "payment_intent": pi_id,
              "amount_refunded": 3000, "refunds": {"data": [
                  {"id": ours, "amount": 1000, "status": "succeeded"},
                  {"id": "re_dashboard1", "amount": 2000, "status": "succeeded"}]}}
    env.deliver("charge.refunded", charge)
    env.deliver("charge.refunded", charge)  # another event id, same refunds: no change
    after = env.get(trade["id"])
    assert after["refunded_amount"]["amount"] == 3000
    with env.app.app_context():
        reasons = sorted(r.reason for r in db.session.scalars(select(TradeRefund)))
    assert reasons == ["external", "refund"]
    assert _payout(env, trade["id"]).amount == 37050 - 3000
    assert len(_outbox(env, "trade.refunded")) == 2
    env.drain()
    _verify(env)


def test_transfer_to_a_connected_seller(env, fake_transfers):
    """Payout by Stripe Transfer. localstripe has no Connect endpoints: the transfer goes to
    the minimal local fake of ``/v1/transfers`` (``FakeTransfers``); payment used localstripe
    until the switch below."""
    env.app.config["STRIPE_API_BASE"] = env.ls.url  # the fake_transfers fixture set its own
    env.app.extensions.pop("reloop_stripe", None)
    trade = env.shipped()
    with env.app.app_context():  # as Stripe's account.updated webhook would (test_connect)
        payouts.set_payout_account(env.seller["id"], "acct_seller1")
    env.app.config["STRIPE_API_BASE"] = fake_transfers.url
    env.app.extensions.pop("reloop_stripe", None)
    assert env.post(f"/trades/{trade['id']}/confirm", env.b).status_code == 200
    env.drain()
    [req] = fake_transfers.requests
    assert req["form"]["amount"] == "37050" and req["form"]["destination"] == "acct_seller1"
    assert req["form"]["transfer_group"] == f"trade-{trade['id']}"
    with env.app.app_context():

        charge_id = db.session.get(Trade, trade["id"]).charge_id
    assert charge_id and req["form"]["source_transaction"] == charge_id
    assert _payout(env, trade["id"]).status == "transferred"


def test_refund_before_completion_is_reversed_when_the_trade_completes(env):
    """Money refunded from Stripe's dashboard while the trade is shipped: completing it must
    not credit carbon for a sale that was paid back."""
    trade = env.shipped()
    charged = trade["amount_charged"]["amount"]
    charge = {"id": "ch_pre", "object": "charge",
              "payment_intent": trade["payment"]["payment_intent_id"],
              "amount_refunded": charged, "refunds": {"data": [
                  {"id": "re_dashboard_pre", "amount": charged, "status": "succeeded"}]}}
    env.deliver("charge.refunded", charge)
    assert env.post(f"/trades/{trade['id']}/confirm", env.b).status_code == 200
    env.drain()
    assert _balance(env, env.b) == 0 and _balance(env, env.s) == 0
    assert len(_outbox(env, "trade.refunded")) == 1
    assert "ledger OK" in _verify(env)


def test_refund_keys_count_our_refunds_only_and_adopt_a_known_refund(env, monkeypatch):
    """Our refund whose response was lost, then recorded from Stripe's webhook as external:
    the admin's retry must reuse the same Stripe idempotency key (so Stripe answers with the
    same refund) and must not count it twice. localstripe ignores idempotency keys, so the spy
    plays Stripe's part and replays the first refund for a reused key."""

    trade = env.completed()
    real_refund, keys, replay = stripe_client.refund, [], {}

    def spy(pi_id, amount, key, *args, **kwargs):
        keys.append(key)
        return replay.get(key) or real_refund(pi_id, amount, key, *args, **kwargs)

    monkeypatch.setattr(stripe_client, "refund", spy)
    with env.app.app_context():

        key = db.session.get(Trade, trade["id"]).stripe_key("refund", 1)
        lost = real_refund(trade["payment"]["payment_intent_id"], 1000, key, {})  # "lost"
    replay[key] = lost
    charge = {"id": "ch_lost", "object": "charge",
              "payment_intent": trade["payment"]["payment_intent_id"], "amount_refunded": 1000,
              "refunds": {"data": [{"id": lost.id, "amount": 1000, "status": "succeeded"}]}}
    env.deliver("charge.refunded", charge)
    assert env.get(trade["id"])["refunded_amount"]["amount"] == 1000
    resp = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(1000)})
    assert resp.status_code == 200, resp.get_json()
    assert keys == [key]
    assert resp.get_json()["refunded_amount"]["amount"] == 1000  # counted once
    env.drain()
    assert "ledger OK" in _verify(env)
