"""Fulfilment: shipping address snapshot and who sees it, shipping price, local pickup and
its footprint route, the buyer's release of an unpaid trade, cooling-off, frozen listings."""

from __future__ import annotations

import time

from tests.factories import (
    add_address,
    assert_error_shape,
    create_listing,
    listing_body,
    make_user,
)


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def test_shipping_address_is_copied_and_shown_to_the_seller_only_once_paid(env):
    office = add_address(env.client, env.b, name="Buyer at work", line1="5 quai Saint-Antoine")
    trade = env.create(fulfilment="shipping", shipping_address_id=office["id"])
    assert trade["fulfilment"] == "shipping" and trade["pickup_city"] is None
    assert trade["shipping_address"]["line1"] == "5 quai Saint-Antoine"
    _, stranger = make_user(env.client)
    # Before payment: the seller does not see it; strangers do not see the trade at all.
    assert env.get(trade["id"], env.s)["shipping_address"] is None
    assert_error_shape(env.client.get(f"/api/v1/trades/{trade['id']}", headers=stranger), 404)
    listed = env.client.get("/api/v1/trades?role=seller", headers=env.s).get_json()["items"]
    assert [t["shipping_address"] for t in listed] == [None]
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events", headers=env.s).get_json()
    assert "5 quai" not in str(events)
    # Editing the address book later does not change the trade.
    env.client.patch(f"/api/v1/users/me/addresses/{office['id']}", json={"line1": "Moved"},
                     headers=env.b)
    paid = env.pay(trade)
    assert paid["shipping_address"]["line1"] == "5 quai Saint-Antoine"
    seen = env.get(trade["id"], env.s)["shipping_address"]
    assert seen["line1"] == "5 quai Saint-Antoine" and seen["phone"] == "+33612345678"
    # Admins see the trade but not the address.
    assert env.get(trade["id"], env.a)["shipping_address"] is None


def test_default_address_and_someone_elses_address(env):
    _, other = make_user(env.client)
    theirs = env.client.get("/api/v1/users/me/addresses", headers=other).get_json()["items"][0]
    resp = env.post("/trades", env.b, {"listing_id": env.listing["id"],
                                       "shipping_address_id": theirs["id"]})
    assert "shipping_address_id" in assert_error_shape(resp, 422)["errors"]
    _, homeless = make_user(env.client, address=False)
    resp = env.post("/trades", homeless, {"listing_id": env.listing["id"]})
    assert "shipping_address_id" in assert_error_shape(resp, 422)["errors"]
    trade = env.create()  # the buyer's default address
    assert trade["shipping_address"]["city"] == "Lyon"


def test_shipping_price_is_charged_and_paid_on_to_the_seller(env):
    listing = create_listing(env.client, env.s, shipping_price=eur(690))
    assert listing["shipping_price"] == eur(690) and listing["local_pickup"] is False
    trade = env.create(listing_id=listing["id"])
    assert trade["amount"] == eur(39000) and trade["shipping_price"] == eur(690)
    assert trade["amount_charged"] == eur(39690)
    assert trade["platform_fee"] == eur(1950)                # on the price only
    assert trade["seller_payable"] == eur(39000 + 690 - 1950)
    pi = env.ls.client().v1.payment_intents.retrieve(trade["payment"]["payment_intent_id"])
    assert pi.amount == 39690
    # Shipping in another currency than the price is refused.
    resp = env.client.post("/api/v1/listings", headers=env.s, json={
        **listing_body(), "shipping_price": {"amount": 500, "currency": "USD"}})
    assert "shipping_price" in assert_error_shape(resp, 422)["errors"]


def test_local_pickup_only_when_offered_and_on_the_pickup_route(env):
    resp = env.post("/trades", env.b, {"listing_id": env.listing["id"],
                                       "fulfilment": "local_pickup"})
    assert_error_shape(resp, 409)
    pickup = create_listing(env.client, env.s, local_pickup=True,
                            shipping_price=eur(500))
    assert pickup["footprint"]["channel"] == "parcel"
    trade = env.create(listing_id=pickup["id"], fulfilment="local_pickup")
    assert trade["fulfilment"] == "local_pickup" and trade["pickup_city"] == "Lyon"
    assert trade["shipping_address"] is None and trade["shipping_price"] == eur(0)
    assert trade["amount_charged"] == eur(39000)
    snap = trade["footprint_snapshot"]
    assert snap["channel"] == "local_pickup"
    # No parcel: the avoided emissions are higher than the parcel estimate's.
    assert snap["avoided_kgco2e"]["central"] > pickup["footprint"]["avoided_kgco2e"]["central"]
    resp = env.post("/trades", env.b, {"listing_id": pickup["id"],
                                       "fulfilment": "local_pickup", "shipping_address_id": 1})
    assert_error_shape(resp, 422)
    # A listing offering pickup needs a city.
    resp = env.client.post("/api/v1/listings", headers=env.s,
                           json=listing_body(local_pickup=True, location=None))
    assert_error_shape(resp, 422)


def test_buyer_releases_an_unpaid_trade_and_cools_off(env, monkeypatch):
    monkeypatch.setitem(env.app.config, "TRADE_LAPSES_BEFORE_COOLING_OFF", 2)
    trade = env.create()
    resp = env.post(f"/trades/{trade['id']}/cancel", env.s)
    assert_error_shape(resp, 403)  # the seller cannot release the buyer's unpaid trade
    resp = env.post(f"/trades/{trade['id']}/cancel", env.b)
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    pi = env.ls.client().v1.payment_intents.retrieve(trade["payment"]["payment_intent_id"])
    assert pi.status == "canceled"
    assert env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()["status"] == \
        "active"
    # A second unpaid trade, which lapses: the buyer now cools off on this listing.
    second = env.create()
    env.backdate(second["id"])
    assert env.get(second["id"])["status"] == "cancelled"
    resp = env.post("/trades", env.b, {"listing_id": env.listing["id"]})
    body = assert_error_shape(resp, 409)
    assert "listing_id" in body["errors"] and "Cooling off" in body["errors"]["listing_id"][0]
    # Another buyer is not affected, and the cooling-off ends.
    _, other = make_user(env.client)
    theirs = env.create(headers=other)
    assert env.post(f"/trades/{theirs['id']}/cancel", other).status_code == 200
    monkeypatch.setitem(env.app.config, "TRADE_COOLING_OFF_SECONDS", 1)
    time.sleep(1.1)
    assert env.create()["status"] == "pending_payment"


def test_device_fields_freeze_once_a_trade_exists(env):
    url = f"/api/v1/listings/{env.listing['id']}"
    trade = env.create()
    env.post(f"/trades/{trade['id']}/cancel", env.b)
    resp = env.client.patch(url, json={"model": "iPhone 8"}, headers=env.s)
    body = assert_error_shape(resp, 409)
    assert "model" in body["errors"]
    resp = env.client.patch(url, json={"condition": "for_parts"}, headers=env.s)
    assert_error_shape(resp, 409)
    # Sending the same value, the title or the price is fine (no offer accepted).
    resp = env.client.patch(url, json={"model": "iPhone 13", "title": "iPhone 13, as new",
                                       "price": eur(35000)}, headers=env.s)
    assert resp.status_code == 200, resp.get_json()


def test_price_freezes_while_an_accepted_offer_can_be_bought(env):
    listing = create_listing(env.client, env.s)
    url = f"/api/v1/listings/{listing['id']}"
    resp = env.client.post(f"/api/v1/listings/{listing['id']}/offers",
                           json={"amount": eur(30000)}, headers=env.b)
    offer = resp.get_json()
    assert env.post(f"/offers/{offer['id']}/accept", env.s).status_code == 200
    assert_error_shape(env.client.patch(url, json={"price": eur(45000)}, headers=env.s), 409)
    assert_error_shape(env.client.patch(url, json={"brand": "Samsung"}, headers=env.s), 409)
    resp = env.client.patch(url, json={"description": "Fresh battery"}, headers=env.s)
    assert resp.status_code == 200
