"""Payout accounts from Stripe Connect onboarding: the client gets a link, never sets an id;
the account becomes the payout account from Stripe's ``account.updated`` webhook only.

localstripe has no Connect: ``POST /v1/accounts`` and ``POST /v1/account_links`` go to a
narrow local fake (``FakeConnect``), as the transfers tests do with ``FakeTransfers``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from http.server import ThreadingHTTPServer

import pytest

from marketplace.core.db import db
from marketplace.payments import payouts
from marketplace.payments.connect import PayoutOnboarding
from marketplace.payments.models import PayoutStatus
from tests.factories import assert_error_shape, login, register
from tests.stripe_fixtures import JsonHandler, sign

PASSWORD = "correct horse battery"
URL = "/api/v1/users/me/payout-account/onboarding"


class FakeConnect:
    def __init__(self):
        self.requests: list[dict] = []
        self.accounts = 0
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form,
                                      "headers": dict(self.headers)})
                if self.path == "/v1/accounts":
                    fake.accounts += 1
                    status, body = 200, {"id": f"acct_fake{fake.accounts:04d}",
                                         "object": "account", "type": form.get("type")}
                elif self.path == "/v1/account_links":
                    status, body = 200, {
                        "object": "account_link", "expires_at": 1_900_000_000,
                        "url": f"https://connect.example.test/setup/{form['account']}"}
                else:
                    status, body = 404, {"error": {"type": "invalid_request_error",
                                                   "message": "not faked"}}
                self.reply(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def connect(app, stripe_config):
    fake = FakeConnect()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    stripe_config["STRIPE_API_BASE"] = fake.url
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(10)


@pytest.fixture
def seller(client):
    user = register(client, name="Seller")
    return user["id"], login(client, user["email"])


def _deliver(client, drain_jobs, account: dict) -> None:
    payload = json.dumps({"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event",
                          "type": "account.updated", "data": {"object": account},
                          "created": 0, "livemode": False}).encode()
    resp = client.post("/api/v1/payments/stripe/webhook", data=payload,
                       headers={"Stripe-Signature": sign(payload),
                                "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.get_json()
    drain_jobs()


def _account(account_id, user_id, ready=True) -> dict:
    return {"id": account_id, "object": "account", "details_submitted": ready,
            "payouts_enabled": ready, "capabilities": {"transfers": "active" if ready
                                                       else "inactive"},
            "metadata": {"reloop_user_id": str(user_id)}}


def _current(client, headers):
    resp = client.get("/api/v1/users/me/payout-account", headers=headers)
    return resp.get_json()["stripe_account_id"] if resp.status_code == 200 else None


def test_onboarding_link_then_the_webhook_sets_the_account(app, client, seller, connect,
                                                           drain_jobs):
    seller_id, headers = seller
    with app.app_context():
        payout = payouts.schedule_payout(77, seller_id, 1500, "EUR")
        db.session.commit()
        payout_id = payout.id
    drain_jobs()
    resp = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["url"] == "https://connect.example.test/setup/acct_fake0001"
    created, link = connect.requests
    assert created["form"]["type"] == "express"
    assert created["form"]["metadata[reloop_user_id]"] == str(seller_id)
    assert link["form"]["account"] == "acct_fake0001"
    assert link["form"]["type"] == "account_onboarding"
    assert link["form"]["return_url"].endswith("/api/v1/users/me/payout-account")
    # Nothing is set until Stripe says the account is ready.
    assert _current(client, headers) is None
    _deliver(client, drain_jobs, _account("acct_fake0001", seller_id, ready=False))
    assert _current(client, headers) is None
    # Asking again continues the same account (a fresh link, no second account).
    client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert connect.accounts == 1
    connect.requests.clear()  # the accrued payout's transfer goes to the same fake (404)
    _deliver(client, drain_jobs, _account("acct_fake0001", seller_id))
    assert _current(client, headers) == "acct_fake0001"
    with app.app_context():
        row = db.session.get(payouts.Payout, payout_id)
        assert row.status != PayoutStatus.ACCRUED  # re-queued for the new account
    assert [r["path"] for r in connect.requests] == ["/v1/transfers"]


def test_password_required_and_clients_cannot_choose_the_account(app, client, seller,
                                                                 connect, drain_jobs):
    seller_id, headers = seller
    resp = client.post(URL, json={"password": "wrong password"}, headers=headers)
    assert "password" in assert_error_shape(resp, 403)["errors"]
    assert_error_shape(client.post(URL, json={}, headers=headers), 422)
    assert connect.requests == []
    body = {"password": PASSWORD, "stripe_account_id": "acct_attacker"}
    assert_error_shape(client.post(URL, json=body, headers=headers), 422)
    assert_error_shape(client.put("/api/v1/users/me/payout-account", headers=headers,
                                  json={"stripe_account_id": "acct_attacker"}), 405)


def test_webhook_for_someone_elses_or_unknown_account_changes_nothing(app, client, seller,
                                                                     connect, drain_jobs):
    seller_id, headers = seller
    other = register(client, name="Other")
    other_headers = login(client, other["email"])
    client.post(URL, json={"password": PASSWORD}, headers=headers)
    # The account we created for the seller, claiming to be the other user's: ignored.
    _deliver(client, drain_jobs, _account("acct_fake0001", other["id"]))
    assert _current(client, headers) is None and _current(client, other_headers) is None
    # An account we never created: never applied (left for retries, then abandoned).
    _deliver(client, drain_jobs, _account("acct_stranger", seller_id))
    assert _current(client, headers) is None


def test_changing_the_account_needs_the_password_and_a_new_onboarding(app, client, seller,
                                                                     connect, drain_jobs):
    seller_id, headers = seller
    client.post(URL, json={"password": PASSWORD}, headers=headers)
    _deliver(client, drain_jobs, _account("acct_fake0001", seller_id))
    assert _current(client, headers) == "acct_fake0001"
    assert_error_shape(client.post(URL, json={"password": "guess"}, headers=headers), 403)
    resp = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert resp.get_json()["url"].endswith("acct_fake0002")
    assert _current(client, headers) == "acct_fake0001"  # until Stripe says the new one is ready
    _deliver(client, drain_jobs, _account("acct_fake0002", seller_id))
    assert _current(client, headers) == "acct_fake0002"
    with app.app_context():
        rows = db.session.query(PayoutOnboarding).order_by(PayoutOnboarding.id).all()
        assert [(r.stripe_account_id, r.completed_at is not None) for r in rows] == [
            ("acct_fake0001", True), ("acct_fake0002", True)]


def test_wrong_passwords_are_rate_limited_per_token(app, client, seller, connect,
                                                    monkeypatch):
    _, headers = seller
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_EMAIL", "3 per minute")
    for _ in range(3):
        assert_error_shape(client.post(URL, json={"password": "guess"}, headers=headers), 403)
    resp = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert_error_shape(resp, 429)
    assert connect.requests == []
