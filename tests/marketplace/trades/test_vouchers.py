"""Vouchers in trades: the PaymentIntent is the price less the discount (the platform bears
it); a voucher is consumed once, restored when the trade is cancelled before payment, kept
once paid unless the trade is cancelled or returned with a full refund; refunds are at most
what was charged; races on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from carbon.incentives import vouchers
from carbon.incentives.models import Voucher
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.listings.models import Listing
from marketplace.payments.models import Payout
from marketplace.trades.models import Trade
from tests.factories import assert_error_shape, create_listing, make_user
from tests.stripe_fixtures import free_port


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _voucher(env, user_id=None, **spec) -> str:
    spec = spec or {"amount_off": 5000, "currency": "EUR"}
    with env.app.app_context():
        v = vouchers.issue(user_id or env.buyer["id"], {"expires_days": 30, **spec}, "test")
        db.session.commit()
        return v.code


def _status(env, code) -> tuple[str, int | None]:
    with env.app.app_context():
        v = db.session.scalar(select(Voucher).where(Voucher.code == code))
        return v.status, v.trade_id


def _post(env, code, listing=None, headers=None):
    return env.client.post("/api/v1/trades", json={
        "listing_id": (listing or env.listing)["id"], "voucher_code": code},
        headers=headers or env.b)


def _pi(env, trade):
    return env.ls.client().v1.payment_intents.retrieve(trade["payment"]["payment_intent_id"])


def _listing_status(env, listing_id) -> str:
    with env.app.app_context():
        return db.session.get(Listing, listing_id).status


def test_discounted_payment_intent_consumed_once_and_kept_when_paid(env):
    code = _voucher(env)
    trade = env.create(voucher_code=code.lower())  # codes are case-insensitive
    assert trade["amount"] == {"amount": 39000, "currency": "EUR"}
    assert trade["voucher_code"] == code
    assert trade["discount"] == {"amount": 5000, "currency": "EUR"}
    assert trade["amount_charged"] == {"amount": 34000, "currency": "EUR"}
    # The platform bears the discount: fee and payout on the undiscounted price.
    assert trade["platform_fee"]["amount"] == 1950 and trade["seller_payable"]["amount"] == 37050
    pi = _pi(env, trade)
    assert pi.amount == 34000 and pi.metadata["discount"] == "5000"
    assert _status(env, code) == ("reserved", trade["id"])
    # A second trade (another listing) with the same voucher: the whole create is refused.
    other = create_listing(env.client, env.s)
    body = assert_error_shape(_post(env, code, other), 409)
    assert "held by another purchase" in body["message"]
    assert _listing_status(env, other["id"]) == "active"
    paid = env.pay(trade)
    assert paid["status"] == "paid" and _status(env, code) == ("used", trade["id"])
    assert "already been used" in assert_error_shape(_post(env, code, other), 409)["message"]
    # Cancelled after payment (full refund of what was charged, the device never handed
    # over): the voucher is the buyer's again, for another purchase.
    cancelled = env.post(f"/trades/{trade['id']}/cancel", env.s).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["refunded_amount"]["amount"] == 34000
    assert _status(env, code) == ("available", None)
    again = _post(env, code, other)
    assert again.status_code == 201 and again.get_json()["discount"]["amount"] == 5000
    env.post(f"/trades/{again.get_json()['id']}/cancel", env.b)  # (unpaid: released)
    other = create_listing(env.client, env.s)
    # No voucher: discount null, charged the price.
    plain = env.create(listing_id=other["id"])
    assert plain["discount"] is None and plain["voucher_code"] is None
    assert plain["amount_charged"]["amount"] == 39000 and _pi(env, plain).amount == 39000


def test_payment_failed_restores_the_voucher(env):
    code = _voucher(env)
    trade = env.create(voucher_code=code)
    pi = json.loads(str(_pi(env, trade)))
    env.deliver("payment_intent.payment_failed", pi)
    assert env.get(trade["id"])["status"] == "cancelled"
    assert _status(env, code) == ("available", None)
    again = env.create(voucher_code=code)  # the listing and the voucher are free again
    assert again["discount"]["amount"] == 5000


def test_expiry_restores_the_voucher(env):
    code = _voucher(env, percent_off=10, max_off=2000)
    trade = env.create(voucher_code=code)
    assert trade["discount"]["amount"] == 2000 and _pi(env, trade).amount == 37000
    env.backdate(trade["id"])
    assert env.get(trade["id"])["status"] == "cancelled"
    assert _status(env, code) == ("available", None)


def test_stripe_down_is_503_and_the_voucher_stays_usable(env, monkeypatch):
    code = _voucher(env)
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    env.app.extensions.pop("reloop_stripe", None)
    assert_error_shape(_post(env, code), 503)
    assert _status(env, code) == ("available", None)
    assert _listing_status(env, env.listing["id"]) == "active"
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 0
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", env.ls.url)
    env.app.extensions.pop("reloop_stripe", None)
    trade = env.create(voucher_code=code)
    assert trade["amount_charged"]["amount"] == 34000


def test_refusals_leave_nothing_written(env):
    other_user, _ = make_user(env.client)
    theirs = _voucher(env, other_user["id"])
    body = assert_error_shape(_post(env, theirs), 422)
    assert "voucher_code" in body["errors"]
    assert "voucher_code" in assert_error_shape(_post(env, "RL-NOSUCHCODE"), 422)["errors"]
    gbp = _voucher(env, amount_off=500, currency="GBP")
    assert "voucher_code" in assert_error_shape(_post(env, gbp), 422)["errors"]
    expired = _voucher(env)
    with env.app.app_context():
        db.session.execute(update(Voucher).where(Voucher.code == expired)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert "expired" in assert_error_shape(_post(env, expired), 409)["message"]
    assert _listing_status(env, env.listing["id"]) == "active"
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 0
    assert _status(env, theirs) == ("available", None)


def test_a_voucher_covering_the_price_leaves_the_minimum_charge(env):
    code = _voucher(env, amount_off=100_000, currency="EUR")
    trade = env.create(voucher_code=code)
    assert trade["discount"]["amount"] == 39000 - 50
    assert trade["amount_charged"]["amount"] == 50 and _pi(env, trade).amount == 50
    paid = env.pay(trade)
    assert paid["status"] == "paid"
    # A price at or below the minimum charge takes no voucher (422), and keeps it usable.
    cheap = create_listing(env.client, env.s, price={"amount": 50, "currency": "EUR"})
    spare = _voucher(env, percent_off=50)
    body = assert_error_shape(_post(env, spare, cheap), 422)
    assert "minimum charge" in body["errors"]["voucher_code"][0]
    assert _status(env, spare) == ("available", None)
    assert _listing_status(env, cheap["id"]) == "active"


def _payout(env, trade_id) -> Payout | None:
    with env.app.app_context():
        return db.session.scalar(select(Payout).where(Payout.trade_id == trade_id))


def _outbox(env, topic) -> list[dict]:
    with env.app.app_context():
        return [m.payload for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == topic)
            .order_by(OutboxMessage.id))]


def _balance(env, headers) -> int:
    return env.client.get("/api/v1/carbon/account", headers=headers).get_json()["balance_g"]


def test_refunds_of_a_discounted_trade_are_at_most_what_was_charged(env):
    code = _voucher(env)  # 5000 off 39000: charged 34000
    trade = env.create(voucher_code=code)
    trade = env.ship(env.pay(trade))
    done = env.post(f"/trades/{trade['id']}/confirm", env.b).get_json()
    env.drain()
    assert done["status"] == "completed" and _payout(env, trade["id"]).amount == 37050
    credited = _balance(env, env.b) + _balance(env, env.s)
    assert credited > 0
    assert_error_shape(env.post(f"/admin/trades/{trade['id']}/refund", env.a,
                                {"amount": eur(34001)}), 422)
    part = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(17000)})
    assert part.status_code == 200, part.get_json()
    env.drain()
    # Half of what was charged: half of the price comes off the seller's payout.
    assert part.get_json()["seller_payable"]["amount"] == 39000 - 1950 - 19500
    assert _payout(env, trade["id"]).amount == 37050 - 19500
    [record] = _outbox(env, "trade.refunded")
    assert record["refunded_amount"] == 17000 and record["trade_amount"] == 34000
    assert _balance(env, env.b) + _balance(env, env.s) == credited - (credited + 1) // 2
    rest = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {}).get_json()
    assert rest["refunded_amount"]["amount"] == 34000 and rest["seller_payable"]["amount"] == 0
    env.drain()
    payout = _payout(env, trade["id"])
    assert payout.status == "cancelled" and payout.amount == 0
    assert _balance(env, env.b) + _balance(env, env.s) == 0
    result = env.app.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0 and "ledger OK" in result.output, result.output
    assert _status(env, code)[0] == "used"


def test_dispute_refund_in_full_of_a_discounted_trade_pays_the_seller_nothing(env):
    trade = env.ship(env.pay(env.create(voucher_code=_voucher(env))))
    env.post(f"/trades/{trade['id']}/dispute", env.b, {"reason": "Not as described"})
    resp = env.post(f"/admin/trades/{trade['id']}/resolve", env.a, {"outcome": "refund"})
    body = resp.get_json()
    assert body["status"] == "refunded" and body["refunded_amount"]["amount"] == 34000
    assert body["seller_payable"]["amount"] == 0 and _payout(env, trade["id"]) is None


@pytest.mark.services
def test_concurrent_trades_on_two_listings_with_one_voucher(env):
    code = _voucher(env)
    listings = [env.listing, create_listing(env.client, env.s)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def buy(i):
        with env.app.app_context():
            client = env.app.test_client()
            barrier.wait(10)
            resp = client.post("/api/v1/trades", json={
                "listing_id": listings[i]["id"], "voucher_code": code}, headers=env.b)
            results[i] = (resp.status_code, resp.get_json())
            db.session.remove()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r[0] for r in results) == [201, 409], results
    won = next(i for i, r in enumerate(results) if r[0] == 201)
    trade = results[won][1]
    assert trade["discount"]["amount"] == 5000 and _pi(env, trade).amount == 34000
    assert _status(env, code) == ("reserved", trade["id"])
    assert _listing_status(env, listings[1 - won]["id"]) == "active"
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 1


def test_a_returned_trade_gives_the_voucher_back(env):
    code = _voucher(env)
    trade = env.shipped(voucher_code=code)
    tid = trade["id"]
    assert _status(env, code) == ("used", tid)
    for path, headers, body in (("/return", env.b, {"reason": "Not as described"}),
                                ("/return/accept", env.s, None),
                                ("/return/ship", env.b, {"carrier": "La Poste",
                                                         "tracking_number": "RET-V"})):
        resp = env.post(f"/trades/{tid}{path}", headers, body)
        assert resp.status_code == 200, resp.get_json()
    assert _status(env, code) == ("used", tid)  # not before the refund
    done = env.post(f"/trades/{tid}/return/receive", env.s)
    assert done.status_code == 200 and done.get_json()["status"] == "refunded"
    assert _status(env, code) == ("available", None)
