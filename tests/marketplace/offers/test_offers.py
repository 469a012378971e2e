"""Offers: the state machine, expiry on read, write and by the periodic job."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.listings import status as listing_status
from marketplace.listings.models import Listing
from marketplace.offers.models import Offer
from tests.factories import assert_error_shape, make_user
from workers import jobs
from workers.schedule import PERIODIC


def eur(amount):
    return {"amount": amount, "currency": "EUR"}


def offer(client, deal, amount=30000, headers=None):
    resp = client.post(f"/api/v1/listings/{deal['listing']['id']}/offers",
                       json={"amount": eur(amount)}, headers=headers or deal["b"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def act(client, offer_id, action, headers, **body):
    return client.post(f"/api/v1/offers/{offer_id}/{action}", json=body or None,
                       headers=headers)


def age(app, offer_id, hours):
    with app.app_context():
        db.session.execute(update(Offer).where(Offer.id == offer_id).values(
            expires_at=utcnow() - timedelta(hours=hours)))
        db.session.commit()


def test_make_offer(client, deal):
    body = offer(client, deal)
    assert body["listing_id"] == deal["listing"]["id"]
    assert body["buyer_id"] == deal["buyer"]["id"] and body["seller_id"] == deal["seller"]["id"]
    assert body["amount"] == {"amount": 30000, "currency": "EUR"} and "currency" not in body
    assert body["status"] == "pending" and body["kind"] == "offer"
    assert body["expires_at"] > body["created_at"]


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", None])
def test_offer_amount_is_validated(client, deal, amount):
    resp = client.post(f"/api/v1/listings/{deal['listing']['id']}/offers",
                       json={"amount": eur(amount)}, headers=deal["b"])
    assert "amount" in assert_error_shape(resp, 422)["errors"]["amount"]


@pytest.mark.parametrize("body", [{"amount": 30000}, {"amount": {"amount": 30000}},
                                  {"amount": {"amount": 30000, "currency": "XXX1"}}, {}])
def test_offer_amount_must_be_money(client, deal, body):
    resp = client.post(f"/api/v1/listings/{deal['listing']['id']}/offers", json=body,
                       headers=deal["b"])
    assert "amount" in assert_error_shape(resp, 422)["errors"]


def test_offer_currency_must_be_the_listings(client, deal):
    url = f"/api/v1/listings/{deal['listing']['id']}/offers"
    resp = client.post(url, json={"amount": {"amount": 30000, "currency": "USD"}},
                       headers=deal["b"])
    errors = assert_error_shape(resp, 422)["errors"]
    assert "EUR" in errors["amount"]["currency"][0]
    o = offer(client, deal)
    resp = act(client, o["id"], "counter", deal["s"],
               amount={"amount": 35000, "currency": "GBP"})
    assert "currency" in assert_error_shape(resp, 422)["errors"]["amount"]
    assert client.get("/api/v1/offers", headers=deal["b"]).get_json()["items"] == [
        client.get(f"/api/v1/offers/{o['id']}", headers=deal["b"]).get_json()]


def test_illegal_offers_say_why(client, app, deal):
    url = f"/api/v1/listings/{deal['listing']['id']}/offers"
    body = assert_error_shape(client.post(url, json={"amount": eur(1)}, headers=deal["s"]), 409)
    assert "own listing" in body["message"]
    assert_error_shape(client.post(url, json={"amount": eur(1)}), 401)
    assert_error_shape(client.post("/api/v1/listings/999999/offers", json={"amount": eur(1)},
                                   headers=deal["b"]), 404)

    with app.app_context():
        listing_status.reserve(db.session.get(Listing, deal["listing"]["id"]))
        db.session.commit()
    body = assert_error_shape(client.post(url, json={"amount": eur(1)}, headers=deal["b"]), 409)
    assert "reserved" in body["message"]
    client.delete(f"/api/v1/listings/{deal['listing']['id']}", headers=deal["s"])


def test_accept_by_the_seller_opens_a_24h_purchase_window(client, deal):
    o = offer(client, deal)
    assert_error_shape(act(client, o["id"], "accept", deal["b"]), 403)
    resp = act(client, o["id"], "accept", deal["s"])
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "accepted"
    assert body["purchase_deadline"] > body["accepted_at"]
    for action in ("accept", "decline", "withdraw"):
        msg = assert_error_shape(act(client, o["id"], action, deal["s"] if action != "withdraw"
                                     else deal["b"]), 409)["message"]
        assert "accepted" in msg


def test_decline_and_withdraw(client, deal):
    o1, o2 = offer(client, deal), offer(client, deal, 31000)
    assert act(client, o1["id"], "decline", deal["s"]).get_json()["status"] == "declined"
    assert_error_shape(act(client, o2["id"], "withdraw", deal["s"]), 403)
    assert act(client, o2["id"], "withdraw", deal["b"]).get_json()["status"] == "withdrawn"
    body = assert_error_shape(act(client, o2["id"], "accept", deal["s"]), 409)
    assert "withdrawn" in body["message"]


def test_counter_offer_flow(client, deal):
    o = offer(client, deal, 30000)
    assert_error_shape(act(client, o["id"], "counter", deal["b"], amount=eur(35000)), 403)
    assert "amount" in assert_error_shape(
        act(client, o["id"], "counter", deal["s"], amount=eur(0)), 422)["errors"]
    resp = act(client, o["id"], "counter", deal["s"], amount=eur(35000))
    assert resp.status_code == 201
    c = resp.get_json()
    assert c["kind"] == "counter" and c["parent_offer_id"] == o["id"]
    assert c["amount"] == eur(35000) and c["buyer_id"] == deal["buyer"]["id"]
    assert client.get(f"/api/v1/offers/{o['id']}", headers=deal["b"]).get_json()["status"] \
        == "countered"
    assert_error_shape(act(client, c["id"], "counter", deal["s"], amount=eur(34000)), 409)
    # The buyer answers a counter; the seller cannot accept their own counter.
    assert_error_shape(act(client, c["id"], "accept", deal["s"]), 403)
    assert act(client, c["id"], "accept", deal["b"]).get_json()["status"] == "accepted"


def test_expired_offer_cannot_be_accepted_even_before_the_job_runs(client, app, deal):
    o = offer(client, deal)
    age(app, o["id"], 1)
    seen = client.get(f"/api/v1/offers/{o['id']}", headers=deal["b"]).get_json()
    assert seen["status"] == "expired"
    body = assert_error_shape(act(client, o["id"], "accept", deal["s"]), 409)
    assert "expired" in body["message"]
    # The failed write recorded the expiry.
    with app.app_context():
        assert db.session.get(Offer, o["id"]).status == "expired"


def test_periodic_job_marks_lapsed_offers(client, app, deal):

    assert any(p.func is jobs.expire_offers for p in PERIODIC)
    o1, o2 = offer(client, deal), offer(client, deal, 31000)
    age(app, o1["id"], 2)
    with app.app_context():
        assert jobs.expire_offers() == 1
        assert db.session.get(Offer, o1["id"]).status == "expired"
        assert db.session.get(Offer, o2["id"]).status == "pending"


def test_list_my_offers_by_role_and_status(client, app, deal):
    o1, o2, o3 = offer(client, deal, 1), offer(client, deal, 2), offer(client, deal, 3)
    act(client, o2["id"], "decline", deal["s"])
    age(app, o3["id"], 1)

    def ids(query, headers):
        resp = client.get(f"/api/v1/offers?{query}", headers=headers)
        assert resp.status_code == 200, resp.get_json()
        return [i["id"] for i in resp.get_json()["items"]]

    assert ids("role=buyer", deal["b"]) == [o3["id"], o2["id"], o1["id"]]
    assert ids("role=seller", deal["b"]) == []
    assert ids("role=seller", deal["s"]) == [o3["id"], o2["id"], o1["id"]]
    assert ids("role=buyer&status=pending", deal["b"]) == [o1["id"]]
    assert ids("status=expired", deal["s"]) == [o3["id"]]
    assert ids("status=declined", deal["s"]) == [o2["id"]]
    _, stranger = make_user(client)
    assert ids("", stranger) == []
    assert_error_shape(client.get(f"/api/v1/offers/{o1['id']}", headers=stranger), 404)
    page = client.get("/api/v1/offers?limit=2", headers=deal["b"]).get_json()
    rest = client.get(f"/api/v1/offers?limit=2&cursor={page['next_cursor']}",
                      headers=deal["b"]).get_json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [o3["id"], o2["id"], o1["id"]]
    assert rest["next_cursor"] is None
    assert "role" in assert_error_shape(
        client.get("/api/v1/offers?role=admin", headers=deal["b"]), 422)["errors"]

    assert "cursor" in assert_error_shape(
        client.get("/api/v1/offers?cursor=bm90LWEtY3Vyc29y", headers=deal["b"]), 422)["errors"]
    assert "cursor" in assert_error_shape(
        client.get("/api/v1/offers?cursor=not%20base64!", headers=deal["b"]), 422)["errors"]
    assert "limit" in assert_error_shape(
        client.get("/api/v1/offers?limit=0", headers=deal["b"]), 422)["errors"]


def _keyed(client, url, headers, key, body=None):
    return client.post(url, json=body, headers={**headers, "Idempotency-Key": key})


def test_make_offer_is_idempotent(client, deal):
    url = f"/api/v1/listings/{deal['listing']['id']}/offers"
    first = _keyed(client, url, deal["b"], "offer-1", {"amount": eur(30000)})
    again = _keyed(client, url, deal["b"], "offer-1", {"amount": eur(30000)})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_json() == first.get_json()
    other = _keyed(client, url, deal["b"], "offer-1", {"amount": eur(31000)})
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]
    items = client.get("/api/v1/offers", headers=deal["b"]).get_json()["items"]
    assert [i["id"] for i in items] == [first.get_json()["id"]]


@pytest.mark.parametrize("action", ["accept", "decline", "counter", "withdraw"])
def test_offer_actions_are_idempotent(client, deal, action):
    o = offer(client, deal)
    who = deal["b"] if action == "withdraw" else deal["s"]
    body = {"amount": eur(35000)} if action == "counter" else None
    url = f"/api/v1/offers/{o['id']}/{action}"
    first = _keyed(client, url, who, f"{action}-1", body)
    assert first.status_code in (200, 201), first.get_json()
    again = _keyed(client, url, who, f"{action}-1", body)
    assert again.status_code == first.status_code
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    # Without the key the same action runs again, and the offer is no longer pending.
    assert_error_shape(client.post(url, json=body, headers=who), 409)
    other = _keyed(client, url, who, f"{action}-1", {"amount": eur(36000)})
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]
    if action == "counter":
        offers = client.get("/api/v1/offers?role=buyer", headers=deal["b"]).get_json()["items"]
        assert [i["kind"] for i in offers] == ["counter", "offer"]
