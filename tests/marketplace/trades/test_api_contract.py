"""API contract v1 of trades: shared pagination, money as {amount, currency}, Idempotency-Key
on every POST that creates or moves something, ETag and 304 on a trade, typed schemas."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts import services as auth_services
from marketplace.core.db import db
from marketplace.trades.models import TradeEvent, TradeRefund
from tests.factories import assert_error_shape, create_listing

BAD_CURSORS = ("bm90LWEtY3Vyc29y", "WyJ4IiwxXQ", "%21%21", "x" * 201)


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _get(env, url, headers):
    resp = env.client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_trades_list_pages_with_a_cursor(env):
    trades = [env.create()]
    for _ in range(2):
        env.listing = create_listing(env.client, env.s)
        trades.append(env.create())
    newest_first = [t["id"] for t in reversed(trades)]
    page = _get(env, "/api/v1/trades?limit=2", env.b)
    assert [t["id"] for t in page["items"]] == newest_first[:2] and page["next_cursor"]
    assert page["items"][0]["platform_fee"] == eur(1950)
    rest = _get(env, f"/api/v1/trades?limit=2&cursor={page['next_cursor']}", env.b)
    assert [t["id"] for t in rest["items"]] == newest_first[2:]
    assert rest["next_cursor"] is None
    # Filters and the cursor together.
    seller = _get(env, f"/api/v1/trades?role=seller&limit=1&cursor={page['next_cursor']}",
                  env.s)
    assert [t["id"] for t in seller["items"]] == newest_first[2:]
    for bad in BAD_CURSORS:
        resp = env.client.get(f"/api/v1/trades?cursor={bad}", headers=env.b)
        assert "cursor" in assert_error_shape(resp, 422)["errors"], bad
    for limit in (0, 101, "x"):
        resp = env.client.get(f"/api/v1/trades?limit={limit}", headers=env.b)
        assert "limit" in assert_error_shape(resp, 422)["errors"]


def test_events_page_oldest_first(env):
    trade = env.shipped()
    url = f"/api/v1/trades/{trade['id']}/events"
    page = _get(env, f"{url}?limit=2", env.b)
    assert [e["transition"] for e in page["items"]] == ["create", "payment_succeeded"]
    rest = _get(env, f"{url}?limit=2&cursor={page['next_cursor']}", env.b)
    assert [e["transition"] for e in rest["items"]] == ["ship"]
    assert rest["next_cursor"] is None
    assert rest["items"][0]["details"] == {"carrier": "la_poste", "tracking_number": "6A123",
                                           "tracked": False,
                                           "data_wipe": "factory_reset_encrypted"}
    assert page["items"][1]["details"]["charge_id"].startswith("ch_")
    for bad in BAD_CURSORS:
        resp = env.client.get(f"{url}?cursor={bad}", headers=env.b)
        assert "cursor" in assert_error_shape(resp, 422)["errors"], bad


def test_the_buyer_never_sees_payout_details_of_a_refund(env):
    trade = env.completed()
    resp = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(5000)})
    assert resp.status_code == 200, resp.get_json()
    url = f"/api/v1/trades/{trade['id']}/events"
    seller = _get(env, url, env.s)["items"]
    buyer = _get(env, url, env.b)["items"]
    assert seller[-1]["transition"] == buyer[-1]["transition"] == "refund"
    assert seller[-1]["details"]["payout_reduced_by"] == eur(5000)
    assert seller[-1]["details"]["platform_borne"] == eur(0)
    assert seller[-1]["details"]["refund"]["amount"] == eur(5000)
    assert buyer[-1]["details"]["refund"] == seller[-1]["details"]["refund"]
    for event in buyer:
        assert not {"payout", "payout_reduced_by", "platform_borne"} & set(event["details"])
    # Stored in full: only the view for the buyer leaves them out.
    with env.app.app_context():
        stored = db.session.scalars(select(TradeEvent).where(
            TradeEvent.trade_id == trade["id"]).order_by(TradeEvent.id.desc())).first()
        assert stored.details["payout_reduced_by"] == 5000


def test_refund_amounts_are_money_in_the_trades_currency(env):
    trade = env.completed()
    url = f"/admin/trades/{trade['id']}/refund"
    resp = env.post(url, env.a, {"amount": {"amount": 5000, "currency": "USD"}})
    assert "currency" in assert_error_shape(resp, 422)["errors"]["amount"]
    for body in ({"amount": 5000}, {"amount": {"amount": 0, "currency": "EUR"}},
                 {"amount": {"currency": "EUR"}}):
        assert "amount" in assert_error_shape(env.post(url, env.a, body), 422)["errors"]
    resp = env.post(url, env.a, {"amount": eur(39001)})
    assert "amount" in assert_error_shape(resp, 422)["errors"]["amount"]
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TradeRefund)) == 0
    assert_error_shape(env.post("/admin/trades/999999/refund", env.a, {"amount": eur(1)}), 404)
    done = env.post(url, env.a, {"amount": eur(5000)}).get_json()
    assert done["refunded_amount"] == eur(5000)
    assert done["seller_payable"] == eur(39000 - 1950 - 5000)


def test_get_trade_has_an_etag_and_answers_304(env):
    trade = env.create()
    url = f"/api/v1/trades/{trade['id']}"
    first = env.client.get(url, headers=env.b)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    same = env.client.get(url, headers={**env.b, "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""
    assert env.client.get(url, headers={**env.b, "If-None-Match": '"other"'}).status_code == 200
    # The seller sees another body (no client secret): another ETag.
    seller = env.client.get(url, headers={**env.s, "If-None-Match": etag})
    assert seller.status_code == 200 and seller.headers["ETag"] != etag
    # A change makes the old ETag stale.
    env.pay(trade)
    changed = env.client.get(url, headers={**env.b, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["status"] == "paid"
    assert changed.headers["ETag"] != etag
    assert env.client.get(url, headers={**env.b, "If-None-Match": changed.headers["ETag"]}
                          ).status_code == 304
    # No access, no ETag games: still 404.
    assert_error_shape(env.client.get("/api/v1/trades/999999",
                                      headers={**env.b, "If-None-Match": etag}), 404)


def _replays(env, path, headers, body, key, other_body):
    first = env.post(path, headers, body, key=key)
    assert first.status_code in (200, 201), first.get_json()
    again = env.post(path, headers, body, key=key)
    assert again.status_code == first.status_code
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_json() == first.get_json()
    other = env.post(path, headers, other_body, key=key)
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]
    return first.get_json()


def _events(env, trade_id) -> list[str]:
    with env.app.app_context():
        return list(db.session.scalars(select(TradeEvent.transition).where(
            TradeEvent.trade_id == trade_id).order_by(TradeEvent.id)))


def test_cancel_and_ship_replay_with_idempotency_key(env):
    paid = env.pay(env.create())
    body = {"carrier": "DHL", "tracking_number": "JD1"}
    other = {"carrier": "DHL", "tracking_number": "JD2"}
    shipped = _replays(env, f"/trades/{paid['id']}/ship", env.s, body, "ship-1", other)
    assert shipped["shipment"]["tracking_number"] == "JD1"

    env.listing = create_listing(env.client, env.s)
    second = env.pay(env.create())
    done = _replays(env, f"/trades/{second['id']}/cancel", env.b, None, "cancel-1",
                    {"reason": "changed my mind"})
    assert done["status"] == "cancelled" and done["refunded_amount"] == eur(39000)
    assert _events(env, second["id"]).count("cancel") == 1


def test_confirm_replays_with_idempotency_key(env):
    trade = env.shipped()
    done = _replays(env, f"/trades/{trade['id']}/confirm", env.b, None, "confirm-1", {"x": 1})
    assert done["status"] == "completed"
    assert _events(env, trade["id"]).count("confirm") == 1


@pytest.mark.parametrize("outcome", ["release", "refund"])
def test_dispute_and_resolve_replay_with_idempotency_key(env, outcome):
    trade = env.shipped()
    _replays(env, f"/trades/{trade['id']}/dispute", env.b, {"reason": "Broken"}, "d-1",
             {"reason": "Scratched"})
    body = {"outcome": outcome}
    if outcome == "refund":
        body["amount"] = eur(1000)
    done = _replays(env, f"/admin/trades/{trade['id']}/resolve", env.a, body, "r-1",
                    {"outcome": "refund", "amount": eur(2000)})
    assert done["status"] == ("completed" if outcome == "release" else "refunded")
    if outcome == "refund":
        assert done["refunded_amount"] == eur(1000)
    assert _events(env, trade["id"]).count(f"resolve_{outcome}") == 1


def test_release_takes_no_amount(env):
    trade = env.shipped()
    env.post(f"/trades/{trade['id']}/dispute", env.b, {"reason": "Broken"})
    resp = env.post(f"/admin/trades/{trade['id']}/resolve", env.a,
                    {"outcome": "release", "amount": eur(100)})
    assert "amount" in assert_error_shape(resp, 422)["errors"]
    assert env.get(trade["id"])["status"] == "disputed"


def test_admin_refund_replays_with_idempotency_key(env):
    trade = env.completed()
    done = _replays(env, f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(3000)},
                    "refund-1", {"amount": eur(3001)})
    assert done["refunded_amount"] == eur(3000)
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TradeRefund)) == 1


def test_schemas_are_typed_money_and_pages(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    trade = schemas["Trade"]["properties"]
    for name in ("amount", "amount_charged", "platform_fee", "seller_payable",
                 "refunded_amount", "discount"):
        assert "Money" in str(trade[name]), name
    assert "currency" not in trade
    assert "Estimate" in str(trade["footprint_snapshot"])
    assert "Money" in str(schemas["Offer"]["properties"]["amount"])
    assert "currency" not in schemas["Offer"]["properties"]
    assert "Money" in str(schemas["Payout"]["properties"]["amount"])
    for name in ("accrued", "pending", "transferred", "failed"):
        assert "Money" in str(schemas["Balance"]["properties"][name])
    event = schemas["TradeEvent"]["properties"]
    assert "TradeEventDetails" in str(event["details"])
    assert {"create", "confirm", "refund", "timer_failed"} <= set(event["transition"]["enum"])
    for page in ("TradePage", "OfferPage", "TradeEventPage", "ReviewPage", "PayoutPage"):
        assert set(schemas[page]["properties"]) == {"items", "next_cursor"}, page
    paths = spec["paths"]
    for path, method in (("/api/v1/trades", "post"), ("/api/v1/trades/{trade_id}/ship", "post"),
                         ("/api/v1/trades/{trade_id}/reviews", "post"),
                         ("/api/v1/admin/trades/{trade_id}/refund", "post"),
                         ("/api/v1/listings/{listing_id}/offers", "post"),
                         ("/api/v1/offers/{offer_id}/counter", "post"),
                         ("/api/v1/offers/{offer_id}/accept", "post"),
                         ("/api/v1/users/me/payout-account/onboarding", "post"),
                         ("/api/v1/trades/{trade_id}/handover", "post"),
                         ("/api/v1/users/me/addresses", "post")):
        params = {p["name"] for p in paths[path][method].get("parameters", [])}
        assert "Idempotency-Key" in params, (path, method)
    webhook = paths["/api/v1/payments/stripe/webhook"]["post"]
    assert "Idempotency-Key" not in {p["name"] for p in webhook.get("parameters", [])}
    assert "If-None-Match" in {p["name"] for p in
                               paths["/api/v1/trades/{trade_id}"]["get"]["parameters"]}
    for path in ("/api/v1/trades", "/api/v1/offers", "/api/v1/trades/{trade_id}/events",
                 "/api/v1/trades/{trade_id}/reviews", "/api/v1/users/{user_id}/reviews",
                 "/api/v1/users/me/payouts"):
        params = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= params, path


def test_an_admin_does_not_refund_or_settle_their_own_trade(env):
    trade = env.completed()
    with env.app.app_context():
        auth_services.create_or_promote_admin(env.buyer["email"], None)
        db.session.commit()
    for url, body in ((f"/admin/trades/{trade['id']}/refund", {"amount": eur(5000)}),
                      (f"/admin/trades/{trade['id']}/resolve", {"outcome": "refund"})):
        assert_error_shape(env.post(url, env.b, body), 403)
    with env.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TradeRefund)) == 0
    resp = env.post(f"/admin/trades/{trade['id']}/refund", env.a, {"amount": eur(5000)})
    assert resp.status_code == 200, resp.get_json()  # another admin may
