"""Create, pay, ship, confirm; the API's shapes, permissions, idempotency and failures."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from marketplace.listings.models import Listing
from marketplace.payments import stripe_client
from marketplace.payments.models import Payout
from marketplace.trades import machine
from marketplace.trades.models import Trade
from tests.factories import assert_error_shape, create_listing, make_user
from tests.stripe_fixtures import free_port


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _listing_status(env) -> str:
    return env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()["status"]


def test_transitions_table_is_complete_data():
    names = {t.name for t in machine.TRANSITIONS}
    assert {"create", "payment_succeeded", "payment_failed", "expire", "ship", "cancel",
            "auto_cancel", "confirm", "auto_confirm", "dispute", "resolve_release",
            "resolve_refund", "refund"} <= names
    assert machine.TIMED == {"pending_payment": "expire", "paid": "auto_cancel",
                             "shipped": "auto_confirm", "return_requested": "escalate_return",
                             "returning": "escalate_returning"}
    assert machine.get("ship").actors == {"seller"} and machine.get("ship").sources == {"paid"}


def test_create_reserves_and_creates_a_payment_intent(env):
    trade = env.create()
    assert trade["status"] == "pending_payment" and trade["buyer_id"] == env.buyer["id"]
    assert trade["seller_id"] == env.seller["id"]
    assert trade["amount"] == {"amount": 39000, "currency": "EUR"}
    assert trade["platform_fee"] == eur(1950) and trade["seller_payable"] == eur(37050)
    assert trade["refunded_amount"] == eur(0) and trade["amount_charged"] == eur(39000)
    assert trade["discount"] is None and "currency" not in trade
    fp = env.listing["footprint"]
    assert trade["footprint_snapshot"]["embodied_kgco2e"] == fp["embodied_kgco2e"]
    assert trade["footprint_snapshot"]["method"] == fp["method"]
    assert trade["footprint_snapshot"]["avoided_kgco2e"] == fp["avoided_kgco2e"]
    assert trade["footprint_snapshot"]["methodology_version"] == fp["methodology_version"]
    pay = trade["payment"]
    assert pay["provider"] == "stripe" and pay["client_secret"] and trade["expires_at"]
    pi = env.ls.client().v1.payment_intents.retrieve(pay["payment_intent_id"])
    assert pi.amount == 39000 and pi.metadata["trade_id"] == str(trade["id"])
    assert _listing_status(env) == "reserved"
    # The seller sees the trade, without the buyer's client secret; strangers get 404.
    seen = env.get(trade["id"], env.s)
    assert seen["payment"]["client_secret"] is None

    _, other = make_user(env.client)
    assert_error_shape(env.client.get(f"/api/v1/trades/{trade['id']}", headers=other), 404)
    assert env.get(trade["id"], env.a)["id"] == trade["id"]


def test_whole_flow_pays_out_and_credits_carbon(env):
    trade = env.create()
    paid = env.pay(trade)
    assert paid["status"] == "paid" and paid["paid_at"] and paid["ship_by"]
    shipped = env.ship(paid)
    assert shipped["status"] == "shipped"
    assert shipped["shipment"] == {"carrier": "la_poste", "tracking_number": "6A123"}
    resp = env.post(f"/trades/{trade['id']}/confirm", env.b)
    assert resp.status_code == 200 and resp.get_json()["status"] == "completed"
    env.drain()
    assert _listing_status(env) == "sold"
    payouts = env.client.get("/api/v1/users/me/payouts", headers=env.s).get_json()
    assert [(p["trade_id"], p["amount"], p["status"]) for p in payouts["items"]] == [
        (trade["id"], eur(37050), "accrued")]
    url = f"/api/v1/trades/{trade['id']}/events"
    events = env.client.get(url, headers=env.s).get_json()
    assert events["next_cursor"] is None
    events = events["items"]
    assert [(e["transition"], e["actor"]) for e in events] == [
        ("create", "buyer"), ("payment_succeeded", "stripe"), ("ship", "seller"),
        ("confirm", "buyer")]
    assert events[0]["details"]["amount"] == eur(39000)
    assert events[-1]["details"]["payout"] == eur(37050)
    # The buyer sees the same trail without the seller's payout.
    seen = env.client.get(url, headers=env.b).get_json()["items"]
    assert [e["id"] for e in seen] == [e["id"] for e in events]
    assert "payout" not in seen[-1]["details"]
    assert seen[0]["details"]["amount"] == eur(39000)
    assert env.client.get(url, headers=env.a).get_json()["items"][-1]["details"][
        "payout"] == eur(37050)
    grams = round(env.listing["footprint"]["avoided_kgco2e"]["central"] * 1000)
    buyer_acct = env.client.get("/api/v1/carbon/account", headers=env.b).get_json()
    seller_acct = env.client.get("/api/v1/carbon/account", headers=env.s).get_json()
    assert buyer_acct != seller_acct
    result = env.app.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0, result.output
    assert "1 completed trades in the trades table" in result.output
    with env.app.app_context():
        assert db.session.get(Trade, trade["id"]).avoided_g == grams


def test_listing_trades_filters_by_role_and_status(env):
    trade = env.create()
    mine = env.client.get("/api/v1/trades?role=buyer", headers=env.b).get_json()
    assert [t["id"] for t in mine["items"]] == [trade["id"]]
    assert env.client.get("/api/v1/trades?role=seller", headers=env.b).get_json()["items"] == []
    sold = env.client.get("/api/v1/trades?role=seller&status=pending_payment",
                          headers=env.s).get_json()
    assert [t["id"] for t in sold["items"]] == [trade["id"]]
    assert env.client.get("/api/v1/trades?status=paid", headers=env.s).get_json()["items"] == []


def test_accepted_offer_sets_the_price(env):
    offer = env.client.post(f"/api/v1/listings/{env.listing['id']}/offers",
                            json={"amount": eur(30000)}, headers=env.b).get_json()
    assert env.client.post(f"/api/v1/offers/{offer['id']}/accept",
                           headers=env.s).status_code == 200
    trade = env.create(offer_id=offer["id"])
    assert trade["amount"] == eur(30000) and trade["platform_fee"] == eur(1500)
    assert trade["offer_id"] == offer["id"]


def test_illegal_transitions_are_409_naming_the_state_and_actors_are_checked(env):
    trade = env.create()
    body = assert_error_shape(env.post(f"/trades/{trade['id']}/ship", env.s,
                                       {"carrier": "DHL", "tracking_number": "1"}), 409)
    assert body["message"] == "cannot ship: trade is pending_payment"
    paid = env.pay(trade)
    assert_error_shape(env.post(f"/trades/{paid['id']}/ship", env.b,
                                {"carrier": "DHL", "tracking_number": "1"}), 403)
    assert_error_shape(env.post(f"/trades/{paid['id']}/confirm", env.b), 409)
    assert_error_shape(env.post(f"/trades/{paid['id']}/ship", env.s, {"carrier": "DHL"}), 422)
    assert_error_shape(env.post(f"/admin/trades/{paid['id']}/refund", env.b, {}), 403)
    assert_error_shape(env.post(f"/trades/{paid['id']}/confirm", env.a), 404)
    # Own listing, and a listing already reserved.
    assert_error_shape(env.client.post("/api/v1/trades", json={"listing_id":
                                       env.listing["id"]}, headers=env.s), 409)


def test_idempotency_key_replays_create_and_transitions(env):
    first = env.create(key="buy-1")
    again = env.client.post("/api/v1/trades", json={"listing_id": env.listing["id"]},
                            headers={**env.b, "Idempotency-Key": "buy-1"})
    assert again.status_code == 201 and again.get_json() == first
    assert again.headers["Idempotent-Replayed"] == "true"
    other = env.client.post("/api/v1/trades", json={"listing_id": env.listing["id"] + 1},
                            headers={**env.b, "Idempotency-Key": "buy-1"})
    assert_error_shape(other, 422)
    paid = env.pay(first)
    body = {"carrier": "DHL", "tracking_number": "JD1"}
    one = env.post(f"/trades/{paid['id']}/ship", env.s, body, key="ship-1")
    two = env.post(f"/trades/{paid['id']}/ship", env.s, body, key="ship-1")
    assert one.status_code == two.status_code == 200 and one.get_json() == two.get_json()
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 1


def test_stripe_unreachable_is_503_and_nothing_is_written(env, monkeypatch):
    with env.app.app_context():
        outbox_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    env.app.extensions.pop("reloop_stripe", None)
    resp = env.client.post("/api/v1/trades", json={"listing_id": env.listing["id"]},
                           headers={**env.b, "Idempotency-Key": "k"})
    body = assert_error_shape(resp, 503)
    assert "payment provider" in body["message"] and resp.headers["Retry-After"]
    assert _listing_status(env) == "active"
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == \
            outbox_before
        assert db.session.get(Listing, env.listing["id"]).status == "active"
    # Stripe back: the same key may be retried and now succeeds.
    monkeypatch.setitem(env.app.config, "STRIPE_API_BASE", env.ls.url)
    env.app.extensions.pop("reloop_stripe", None)
    assert env.create(key="k")["status"] == "pending_payment"


def test_fee_rounds_down_and_follows_config(env, monkeypatch):
    monkeypatch.setitem(env.app.config, "PLATFORM_FEE_BPS", 333)
    trade = env.create()
    assert trade["platform_fee"] == eur(39000 * 333 // 10000) == eur(1298)
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payout)) == 0
        assert stripe_client.trade_key(trade["id"], "create") in \
            db.session.get(Trade, trade["id"]).stripe_key("create")


def test_a_buyer_cannot_hold_many_listings_without_paying(env, monkeypatch):

    monkeypatch.setitem(env.app.config, "MAX_UNPAID_TRADES_PER_BUYER", 2)
    env.create()
    second = create_listing(env.client, env.s)
    env.create(listing_id=second["id"])
    third = create_listing(env.client, env.s)
    resp = env.client.post("/api/v1/trades", json={"listing_id": third["id"]}, headers=env.b)
    body = assert_error_shape(resp, 409)
    assert "awaiting payment" in body["message"]
    listing = env.client.get(f"/api/v1/listings/{third['id']}").get_json()
    assert listing["status"] == "active"
