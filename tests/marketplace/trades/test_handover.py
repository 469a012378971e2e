"""Local pickup: the buyer's one-time code completes the trade when the seller submits it;
wrong codes are limited per trade; only the buyer reads the code, only the seller submits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.trades.handover import TradeHandover
from tests.factories import assert_error_shape, create_listing, make_user


def _pickup_trade(env) -> dict:
    listing = create_listing(env.client, env.s, local_pickup=True)
    env.listing = listing
    return env.pay(env.create(fulfilment="local_pickup"))


def test_local_pickup_completed_by_the_buyers_code(env):
    trade = _pickup_trade(env)
    assert trade["status"] == "paid" and trade["fulfilment"] == "local_pickup"
    code_url = f"/api/v1/trades/{trade['id']}/handover-code"
    shown = env.client.get(code_url, headers=env.b).get_json()
    assert len(shown["code"]) == 8 and shown["code"].isdigit()
    assert shown["pickup_city"] == "Lyon"
    assert env.client.get(code_url, headers=env.b).get_json()["code"] == shown["code"]
    # A pickup is not shipped.
    resp = env.post(f"/trades/{trade['id']}/ship", env.s,
                    {"carrier": "dhl", "tracking_number": "X1"})
    assert_error_shape(resp, 409)
    code = f"{shown['code'][:4]} {shown['code'][4:]}"  # as read aloud: spaces are ignored
    resp = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": code}, key="h-1")
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["status"] == "completed" and done["seller_payable"]["amount"] == 37050
    env.drain()
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events",
                            headers=env.s).get_json()["items"]
    assert [e["transition"] for e in events][-1] == "handover"
    assert env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()["status"] == \
        "sold"
    payouts = env.client.get("/api/v1/users/me/payouts", headers=env.s).get_json()["items"]
    assert [p["trade_id"] for p in payouts] == [trade["id"]]
    # Used once: the trade is over, the code is gone.
    assert_error_shape(env.client.get(code_url, headers=env.b), 409)
    resp = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": shown["code"]})
    assert_error_shape(resp, 409)


def test_only_the_buyer_reads_and_only_the_seller_submits(env):
    trade = _pickup_trade(env)
    code_url = f"/api/v1/trades/{trade['id']}/handover-code"
    _, stranger = make_user(env.client)
    assert_error_shape(env.client.get(code_url, headers=stranger), 404)
    assert_error_shape(env.client.get(code_url, headers=env.s), 403)
    assert_error_shape(env.client.get(code_url, headers=env.a), 404)
    code = env.client.get(code_url, headers=env.b).get_json()["code"]
    assert_error_shape(env.post(f"/trades/{trade['id']}/handover", stranger,
                                {"code": code}), 404)
    assert_error_shape(env.post(f"/trades/{trade['id']}/handover", env.b,
                                {"code": code}), 403)
    assert env.get(trade["id"])["status"] == "paid"


def test_code_needs_a_paid_pickup(env):
    listing = create_listing(env.client, env.s, local_pickup=True)
    env.listing = listing
    unpaid = env.create(fulfilment="local_pickup")
    url = f"/api/v1/trades/{unpaid['id']}/handover-code"
    assert_error_shape(env.client.get(url, headers=env.b), 409)
    env.post(f"/trades/{unpaid['id']}/cancel", env.b)
    shipped = env.pay(env.create(listing_id=create_listing(env.client, env.s)["id"]))
    url = f"/api/v1/trades/{shipped['id']}/handover-code"
    assert_error_shape(env.client.get(url, headers=env.b), 409)


def test_wrong_codes_lock_out_for_a_while_then_the_new_code_works(env, monkeypatch):
    monkeypatch.setitem(env.app.config, "HANDOVER_MAX_ATTEMPTS", 3)
    trade = _pickup_trade(env)
    code_url = f"/api/v1/trades/{trade['id']}/handover-code"
    first = env.client.get(code_url, headers=env.b).get_json()["code"]
    wrong = "00000000" if first != "00000000" else "11111111"
    url = f"/trades/{trade['id']}/handover"
    msgs = [assert_error_shape(env.post(url, env.s, {"code": wrong}), 422)["message"]
            for _ in range(3)]
    assert msgs[0] == "Wrong code; 2 attempts left." and "no attempts left" in msgs[2]
    # Locked: even the right (old) code is refused, with Retry-After.
    resp = env.post(url, env.s, {"code": first})
    assert_error_shape(resp, 429)
    assert 0 < int(resp.headers["Retry-After"]) <= 900
    # The buyer is not locked out: reading still works and shows a new code.
    second = env.client.get(code_url, headers=env.b).get_json()["code"]
    assert second != first
    # The lockout ends by itself; the attempts start again; the new code completes.
    with env.app.app_context():
        db.session.execute(update(TradeHandover).where(TradeHandover.trade_id == trade["id"])
                           .values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    msg = assert_error_shape(env.post(url, env.s, {"code": first}), 422)["message"]
    assert msg == "Wrong code; 2 attempts left."
    resp = env.post(url, env.s, {"code": second})
    assert resp.status_code == 200 and resp.get_json()["status"] == "completed"


def test_a_phone_is_handed_over_only_once_declared_wiped(env):
    env.listing = create_listing(env.client, env.s, local_pickup=True)  # a smartphone
    trade = env.create(fulfilment="local_pickup")
    env.deliver("payment_intent.succeeded", env.confirm_pi(trade))  # paid, no declaration
    code = env.client.get(f"/api/v1/trades/{trade['id']}/handover-code",
                          headers=env.b).get_json()["code"]
    refused = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": code})
    assert "data_wipe" in assert_error_shape(refused, 409)["errors"]
    env.declare_wipe(trade)
    done = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": code})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"


def test_a_code_typed_in_other_digits_counts_as_the_code(env):
    # Phone keyboards in some locales type Arabic-Indic or fullwidth digits; a superscript or
    # any other non-decimal character is a wrong code, never a 500.
    trade = _pickup_trade(env)
    shown = env.client.get(f"/api/v1/trades/{trade['id']}/handover-code",
                           headers=env.b).get_json()["code"]
    arabic = "".join(chr(0x0660 + int(d)) for d in shown)
    for wrong in ("²" * 8, "１２３４５６７８" if shown != "12345678" else "８７６５４３２１"):
        resp = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": wrong})
        assert_error_shape(resp, 422)
    assert arabic != shown
    resp = env.post(f"/trades/{trade['id']}/handover", env.s, {"code": arabic}, key="h-ar")
    assert resp.status_code == 200 and resp.get_json()["status"] == "completed", resp.get_json()
