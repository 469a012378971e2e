"""Conversations: open/reuse, privacy, messages, read markers, blocking, masking, limits."""

from __future__ import annotations

from tests import factories
from tests.factories import assert_error_shape


def _setup(client):
    seller, seller_h = factories.make_user(client, "Sally")
    buyer, buyer_h = factories.make_user(client, "Bob")
    listing = factories.create_listing(client, seller_h)
    return seller, seller_h, buyer, buyer_h, listing


def _open(client, listing, headers, code=201):
    resp = client.post(f"/api/v1/listings/{listing['id']}/conversations", headers=headers)
    assert resp.status_code == code, resp.get_json()
    return resp.get_json()


def _post(client, conv, headers, body, code=201):
    resp = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": body},
                       headers=headers)
    assert resp.status_code == code, resp.get_json()
    return resp.get_json()


def test_open_reuse_post_list_and_read(client):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    assert conv["role"] == "buyer" and conv["unread_count"] == 0
    assert _open(client, listing, buyer_h, 200)["id"] == conv["id"]
    _post(client, conv, buyer_h, "Is the battery original?")
    _post(client, conv, buyer_h, "Can you ship Monday?")
    mine = client.get("/api/v1/conversations", headers=seller_h).get_json()
    assert [c["id"] for c in mine["items"]] == [conv["id"]]
    assert mine["items"][0]["unread_count"] == 2
    assert mine["items"][0]["role"] == "seller"
    assert mine["items"][0]["last_message"]["body"] == "Can you ship Monday?"
    assert client.get("/api/v1/conversations", headers=buyer_h).get_json()["items"][0][
        "unread_count"] == 0
    page = client.get(f"/api/v1/conversations/{conv['id']}/messages?limit=1",
                      headers=seller_h).get_json()
    assert [m["body"] for m in page["items"]] == ["Can you ship Monday?"]
    page2 = client.get(f"/api/v1/conversations/{conv['id']}/messages?limit=1&cursor="
                       f"{page['next_cursor']}", headers=seller_h).get_json()
    assert [m["body"] for m in page2["items"]] == ["Is the battery original?"]
    read = client.post(f"/api/v1/conversations/{conv['id']}/read", json={}, headers=seller_h)
    assert read.status_code == 200 and read.get_json()["unread_count"] == 0


def test_newest_activity_first(client):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    other = factories.create_listing(client, seller_h, title="Pixel 7")
    a = _open(client, listing, buyer_h)
    b = _open(client, other, buyer_h)
    _post(client, b, buyer_h, "first")
    _post(client, a, buyer_h, "second")
    ids = [c["id"] for c in client.get("/api/v1/conversations", headers=seller_h)
           .get_json()["items"]]
    assert ids == [a["id"], b["id"]]
    page = client.get("/api/v1/conversations?limit=1", headers=seller_h).get_json()
    rest = client.get(f"/api/v1/conversations?limit=1&cursor={page['next_cursor']}",
                      headers=seller_h).get_json()
    assert [c["id"] for c in page["items"] + rest["items"]] == [a["id"], b["id"]]
    assert rest["next_cursor"] is None


def test_stranger_gets_404_admin_reads(client, app):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    _post(client, conv, buyer_h, "hello")
    _, stranger_h = factories.make_user(client, "Eve")
    for resp in (
        client.get(f"/api/v1/conversations/{conv['id']}", headers=stranger_h),
        client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=stranger_h),
        client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": "hi"},
                    headers=stranger_h),
        client.post(f"/api/v1/conversations/{conv['id']}/read", json={}, headers=stranger_h),
    ):
        assert_error_shape(resp, 404)
    admin_h = factories.make_admin(client, app)
    assert client.get(f"/api/v1/conversations/{conv['id']}/messages",
                      headers=admin_h).status_code == 200
    roles = [client.get(f"/api/v1/conversations/{conv['id']}", headers=h).get_json()["role"]
             for h in (buyer_h, seller_h, admin_h)]
    assert roles == ["buyer", "seller", "admin"]  # (an admin was shown as the seller)
    assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                   json={"body": "hi"}, headers=admin_h), 404)


def test_own_listing_and_bad_input(client):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    assert_error_shape(client.post(f"/api/v1/listings/{listing['id']}/conversations",
                                   headers=seller_h), 409)
    assert_error_shape(client.post("/api/v1/listings/999999/conversations",
                                   headers=buyer_h), 404)
    conv = _open(client, listing, buyer_h)
    assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                   json={"body": "x" * 2001}, headers=buyer_h), 422)
    assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                   json={"body": "   "}, headers=buyer_h), 422)
    assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                   json={}, headers=buyer_h), 422)


def test_blocked_user_cannot_message_offer_or_buy(client):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    assert client.put(f"/api/v1/users/me/blocks/{buyer['id']}",
                      headers=seller_h).status_code == 200
    assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                   json={"body": "hello?"}, headers=buyer_h), 403)
    other = factories.create_listing(client, seller_h, title="Pixel 7")
    assert_error_shape(client.post(f"/api/v1/listings/{other['id']}/conversations",
                                   headers=buyer_h), 403)
    assert_error_shape(client.post(f"/api/v1/listings/{listing['id']}/offers",
                                   json={"amount": {"amount": 30000, "currency": "EUR"}},
                                   headers=buyer_h), 403)
    assert_error_shape(client.post("/api/v1/trades", json={"listing_id": listing["id"]},
                                   headers=buyer_h), 403)
    blocks = client.get("/api/v1/users/me/blocks", headers=seller_h).get_json()
    assert [b["blocked_id"] for b in blocks["items"]] == [buyer["id"]]
    # The blocker can still write (the block is one-way), and unblocking restores it.
    _post(client, conv, seller_h, "bye")
    assert client.delete(f"/api/v1/users/me/blocks/{buyer['id']}",
                         headers=seller_h).status_code == 204
    _post(client, conv, buyer_h, "hello again")
    assert_error_shape(client.put(f"/api/v1/users/me/blocks/{seller['id']}",
                                  headers=seller_h), 409)
    assert_error_shape(client.put("/api/v1/users/me/blocks/999999", headers=seller_h), 404)


def test_contact_details_masked_before_payment(client):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    for text in ("mail me at bob.smith@example.com", "call +33 6 12 34 56 78",
                 "pay me on paypal.me/bobsmith", "IBAN FR76 3000 6000 0112 3456 7890 189"):
        msg = _post(client, conv, buyer_h, text)
        assert msg["flagged"] is True, text
        assert "[hidden until payment]" in msg["body"], msg["body"]
    plain = _post(client, conv, buyer_h, "Is the battery at 88%? I can pay 350 EUR.")
    assert plain["flagged"] is False and plain["body"].endswith("350 EUR.")


def test_report_message_goes_to_the_moderation_queue(client, app):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    msg = _post(client, conv, buyer_h, "send the money by bank transfer")
    resp = client.post("/api/v1/reports", json={"message_id": msg["id"], "reason": "scam"},
                       headers=seller_h)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["subject_type"] == "message"
    assert resp.get_json()["message_id"] == msg["id"]
    # One's own message: 409; a stranger cannot see it: 404; twice: 409.
    assert_error_shape(client.post("/api/v1/reports", json={
        "message_id": msg["id"], "reason": "mine"}, headers=buyer_h), 409)
    _, stranger_h = factories.make_user(client, "Stranger")
    assert_error_shape(client.post("/api/v1/reports", json={
        "message_id": msg["id"], "reason": "nosy"}, headers=stranger_h), 404)
    assert_error_shape(client.post("/api/v1/reports", json={
        "message_id": msg["id"], "reason": "again"}, headers=seller_h), 409)
    admin = factories.make_admin(client, app)
    queue = client.get("/api/v1/admin/reports", headers=admin).get_json()
    assert [(r["subject_type"], r["message_id"]) for r in queue["items"]] == [
        ("message", msg["id"])]


def test_message_rate_limit(client, app):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    conv = _open(client, listing, buyer_h)
    app.config["MESSAGE_LIMIT_PER_USER"] = "3 per minute"
    try:
        for i in range(3):
            _post(client, conv, buyer_h, f"m{i}")
        assert_error_shape(client.post(f"/api/v1/conversations/{conv['id']}/messages",
                                       json={"body": "too many"}, headers=buyer_h), 429)
        _post(client, conv, seller_h, "the seller is not limited by the buyer")
    finally:
        app.config["MESSAGE_LIMIT_PER_USER"] = "30 per minute"


def test_offers_appear_as_system_messages(client, drain_jobs):
    seller, seller_h, buyer, buyer_h, listing = _setup(client)
    resp = client.post(f"/api/v1/listings/{listing['id']}/offers",
                       json={"amount": {"amount": 30000, "currency": "EUR"}}, headers=buyer_h)
    assert resp.status_code == 201
    client.post(f"/api/v1/offers/{resp.get_json()['id']}/accept", headers=seller_h)
    drain_jobs()
    convs = client.get("/api/v1/conversations", headers=buyer_h).get_json()["items"]
    assert len(convs) == 1
    msgs = client.get(f"/api/v1/conversations/{convs[0]['id']}/messages",
                      headers=buyer_h).get_json()["items"]
    assert [(m["kind"], m["event_kind"]) for m in msgs] == [
        ("system", "offer.accepted"), ("system", "offer.received")]
    assert msgs[1]["body"] == "The buyer offered 300.00 EUR."


def test_the_spec_publishes_the_configured_message_length(client, app):
    """A message as long as the spec's maxLength is accepted; one character more is not."""
    spec = client.get("/api/openapi.json").get_json()
    limit = spec["components"]["schemas"]["PostMessage"]["properties"]["body"]["maxLength"]
    assert limit == app.config["MESSAGE_MAX_CHARS"]
    _, _, _, b, listing = _setup(client)
    conv = _open(client, listing, b)
    _post(client, conv, b, "a" * limit)
    assert "body" in assert_error_shape(client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"body": "a" * (limit + 1)},
        headers=b), 422)["errors"]
