"""Outbound webhooks against a local HTTP receiver: signed, retried, logged."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.webhooks import delivery, signing
from marketplace.webhooks.models import WebhookDelivery
from tests import factories
from tests.factories import assert_error_shape


class Receiver:
    """Records each POST; answers ``codes`` in turn (then 200)."""

    def __init__(self, codes=()):
        self.requests: list[tuple[dict, bytes]] = []
        self.codes = list(codes)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    made = []

    def make(codes=()):
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for r in made:
        r.server.shutdown()


def _endpoint(client, admin_h, url, kinds=("offer.received",)):
    resp = client.post("/api/v1/admin/webhooks", headers=admin_h,
                       json={"url": url, "event_types": list(kinds), "description": "repair"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _offer(client):
    seller, seller_h = factories.make_user(client)
    buyer, buyer_h = factories.make_user(client)
    listing = factories.create_listing(client, seller_h)
    resp = client.post(f"/api/v1/listings/{listing['id']}/offers",
                       json={"amount": {"amount": 30000, "currency": "EUR"}}, headers=buyer_h)
    assert resp.status_code == 201
    return listing, resp.get_json()


def _log(client, admin_h, endpoint):
    resp = client.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_h)
    assert resp.status_code == 200
    return resp.get_json()["items"]


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_delivered_signed_and_logged(client, app, receiver, drain_jobs):
    admin_h = factories.make_admin(client, app)
    partner = receiver()
    endpoint = _endpoint(client, admin_h, partner.url)
    assert endpoint["secret"].startswith("whsec_")
    listing, offer = _offer(client)
    drain_jobs()
    drain_jobs()  # the delivery job, enqueued by the drain
    _wait_for(lambda: partner.requests)
    headers, body = partner.requests[0]
    assert signing.verify(endpoint["secret"], headers["Reloop-Signature"], body)
    assert not signing.verify(endpoint["secret"], headers["Reloop-Signature"], body + b" ")
    assert not signing.verify("whsec_other", headers["Reloop-Signature"], body)
    event = json.loads(body)
    assert event["type"] == "offer.received" and headers["Reloop-Event"] == "offer.received"
    assert event["data"]["offer_id"] == offer["id"]
    assert event["data"]["listing_id"] == listing["id"]
    log = _log(client, admin_h, endpoint)
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("delivered", 1, 200)]
    assert len(partner.requests) == 1
    assert "secret" not in client.get("/api/v1/admin/webhooks",
                                      headers=admin_h).get_json()["items"][0]


def test_retried_after_a_failure(client, app, receiver, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SECONDS", (0, 0))
    admin_h = factories.make_admin(client, app)
    partner = receiver(codes=[500])
    endpoint = _endpoint(client, admin_h, partner.url, kinds=["*"])
    _offer(client)
    drain_jobs()
    drain_jobs()
    with app.app_context():
        delivery.redeliver_due()  # the periodic job (embedded: the retry's only path)
    drain_jobs()
    _wait_for(lambda: len(partner.requests) == 2)
    assert partner.requests[0][1] == partner.requests[1][1]  # the same event, signed again
    for headers, body in partner.requests:
        assert signing.verify(endpoint["secret"], headers["Reloop-Signature"], body)
    log = _log(client, admin_h, endpoint)
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("delivered", 2, 200)]


def test_gives_up_after_the_last_interval(client, app, receiver, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SECONDS", (0,))
    admin_h = factories.make_admin(client, app)
    partner = receiver(codes=[503, 503, 503])
    endpoint = _endpoint(client, admin_h, partner.url)
    _offer(client)
    for _ in range(3):
        drain_jobs()
        with app.app_context():
            delivery.redeliver_due()
    drain_jobs()
    log = _log(client, admin_h, endpoint)
    assert [(d["status"], d["attempts"], d["last_error"]) for d in log] == [
        ("failed", 2, "HTTP 503")]
    assert len(partner.requests) == 2


def test_signature_rejects_stale_timestamps():
    body = b'{"id":"evt_1"}'
    header = signing.sign("whsec_x", body, timestamp=1_000_000)
    assert signing.verify("whsec_x", header, body, now=1_000_100)
    assert not signing.verify("whsec_x", header, body, now=1_000_000 + 301)
    assert not signing.verify("whsec_x", "garbage", body)


def test_admin_only_and_validation(client, app, receiver):
    _, user_h = factories.make_user(client)
    assert_error_shape(client.post("/api/v1/admin/webhooks", headers=user_h, json={
        "url": "http://127.0.0.1/x", "event_types": ["*"]}), 403)
    admin_h = factories.make_admin(client, app)
    assert_error_shape(client.post("/api/v1/admin/webhooks", headers=admin_h, json={
        "url": "ftp://x", "event_types": ["*"]}), 422)
    assert_error_shape(client.post("/api/v1/admin/webhooks", headers=admin_h, json={
        "url": "http://127.0.0.1/x", "event_types": ["offer.nope"]}), 422)
    assert_error_shape(client.get("/api/v1/admin/webhooks/999/deliveries",
                                  headers=admin_h), 404)


def test_unsubscribed_and_disabled_endpoints_get_nothing(client, app, receiver, drain_jobs):
    admin_h = factories.make_admin(client, app)
    partner = receiver()
    other = _endpoint(client, admin_h, partner.url, kinds=["trade.completed"])
    off = _endpoint(client, admin_h, partner.url)
    assert client.patch(f"/api/v1/admin/webhooks/{off['id']}", json={"active": False},
                        headers=admin_h).get_json()["active"] is False
    _offer(client)
    drain_jobs()
    drain_jobs()
    assert _log(client, admin_h, other) == [] and _log(client, admin_h, off) == []
    assert partner.requests == []


def test_closing_an_account_scrubs_its_messages_from_the_delivery_log(client, app, receiver,
                                                                     drain_jobs):
    admin_h = factories.make_admin(client, app)
    endpoint = _endpoint(client, admin_h, receiver().url, kinds=("message.received",))
    seller, seller_h = factories.make_user(client, "Sam Seller")
    buyer, buyer_h = factories.make_user(client, "Bea Private-Name")
    listing = factories.create_listing(client, seller_h)
    convo = client.post(f"/api/v1/listings/{listing['id']}/conversations", headers=buyer_h,
                        json={}).get_json()
    for headers, text in ((buyer_h, "Hi, I live at 3 rue Secrète"), (seller_h, "Hello!")):
        sent = client.post(f"/api/v1/conversations/{convo['id']}/messages", headers=headers,
                           json={"body": text})
        assert sent.status_code == 201, sent.get_json()
    drain_jobs()
    with app.app_context():
        before = {d.payload["data"]["sender_id"]: d.payload["data"] for d in
                  db.session.scalars(select(WebhookDelivery)
                                     .where(WebhookDelivery.endpoint_id == endpoint["id"]))}
    assert before[buyer["id"]]["preview"].startswith("Hi, I live at")
    closed = client.delete("/api/v1/users/me", headers=buyer_h,
                           json={"password": "correct horse battery"})
    assert closed.status_code in (200, 202, 204), closed.get_json()
    with app.app_context():
        after = {d.payload["data"]["sender_id"]: d.payload["data"] for d in
                 db.session.scalars(select(WebhookDelivery)
                                    .where(WebhookDelivery.endpoint_id == endpoint["id"]))}
    text = json.dumps(after)
    assert "Bea Private-Name" not in text and "rue Secrète" not in text
    assert after[buyer["id"]]["sender_name"] == "Former member"
    assert after[seller["id"]] == before[seller["id"]]  # the other party's copy is kept
