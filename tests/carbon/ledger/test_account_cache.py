"""The carbon account page kept per bearer token in the response cache: served without the
database while nothing moved; gone at once when a credit, a pending share, a reversal, a
revocation or a change of the user commits; never past its token's expiry."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from carbon.ledger import posting
from marketplace.accounts.models import ApiToken
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.http import cachestores, respcache
from marketplace.core.outbox import OutboxMessage, processing
from tests.factories import assert_error_shape, login, make_admin, make_user, recorded_statements

URL = "/api/v1/carbon/account"


@pytest.fixture(autouse=True)
def short_tombstones(monkeypatch):
    """A change of a user blocks storing their copies for TOMBSTONE_SECONDS (10 s): 1 s here,
    and ``settle()`` waits it out after the set-up's own changes."""
    monkeypatch.setattr(cachestores, "TOMBSTONE_SECONDS", 1)


def settle() -> None:
    time.sleep(1.1)


def _completion(trade_id: int, buyer: int, seller: int, grams: int = 10_000) -> dict:
    return {"trade_id": trade_id, "buyer_id": buyer, "seller_id": seller, "avoided_g": grams,
            "listing_id": None, "listing_title": "Phone", "category": "smartphone",
            "completed_at": utcnow().isoformat()}


def test_a_second_read_needs_no_database(client, app):
    _, headers = make_user(client)
    settle()
    first = client.get(URL, headers=headers)
    with recorded_statements(app) as statements:
        second = client.get(URL, headers=headers)
    assert second.status_code == 200 and statements == []
    assert second.get_json() == first.get_json()
    assert client.get(URL, headers={"If-None-Match": first.headers["ETag"],
                                    **headers}).status_code == 304
    # Another token's copy is its own; no token, or a wrong one, is never served a copy.
    assert_error_shape(client.get(URL), 401)
    assert_error_shape(client.get(URL, headers={"Authorization": "Bearer nope"}), 401)
    token = headers["Authorization"].split()[1]
    assert_error_shape(client.get(URL, headers={"Authorization": f"Bearer {token}x"}), 401)


def test_pending_credit_and_balance_show_at_once(client, app):
    buyer, b = make_user(client, "Buyer")
    seller, s = make_user(client, "Seller")
    settle()
    for headers in (b, s, b, s):
        assert client.get(URL, headers=headers).get_json()["pending_g"] == 0
    payload = _completion(1, buyer["id"], seller["id"])
    with app.app_context():
        posting.announce_completion(payload)
        db.session.commit()
    # Pending (with workers), or already credited (embedded: the outbox runs at commit).
    for headers in (b, s):
        account = client.get(URL, headers=headers).get_json()
        assert account["pending_g"] + account["balance_g"] > 0
    with app.app_context():
        posting.post_credits([SimpleNamespace(payload=payload, created_at=utcnow())])
        db.session.commit()
    for headers in (b, s):
        account = client.get(URL, headers=headers).get_json()
        assert account["pending_g"] == 0 and account["balance_g"] > 0
        assert account["credited_trades"] == 1


def test_logging_out_ends_the_copy_at_once(client):
    user, headers = make_user(client)
    other = login(client, user["email"])
    settle()
    for h in (headers, headers, other, other):
        assert client.get(URL, headers=h).status_code == 200
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert_error_shape(client.get(URL, headers=headers), 401)
    assert client.get(URL, headers=other).status_code == 200
    assert client.delete("/api/v1/users/me/sessions", headers=other).status_code in (200, 204)
    third = login(client, user["email"])
    assert client.get(URL, headers=third).status_code == 200


@pytest.mark.parametrize("how", ["password", "suspension"])
def test_every_token_of_the_user_stops_reading(client, app, how):
    user, headers = make_user(client)
    other = login(client, user["email"])
    admin = make_admin(client, app)
    settle()
    for h in (headers, other, headers, other):
        assert client.get(URL, headers=h).status_code == 200
    if how == "password":
        changed = client.post("/api/v1/users/me/password", headers=headers, json={
            "old_password": "correct horse battery",
            "new_password": "a much better passphrase"})
        assert changed.status_code in (200, 204), changed.get_json()
    else:
        done = client.post(f"/api/v1/admin/users/{user['id']}/suspend",
                           json={"reason": "Fraud"}, headers=admin)
        assert done.status_code == 200, done.get_json()
        assert_error_shape(client.get(URL, headers=headers), 401)
    assert_error_shape(client.get(URL, headers=other), 401)


def test_a_copy_never_outlives_its_token(client, app):
    user, headers = make_user(client)
    with app.app_context():
        token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user["id"],
                                                          ApiToken.revoked_at.is_(None))).one()
        token.expires_at = utcnow() + timedelta(seconds=2.5)
        db.session.commit()
    settle()
    assert client.get(URL, headers=headers).status_code == 200
    assert client.get(URL, headers=headers).status_code == 200  # a copy for <= 1 s
    time.sleep(1.6)
    assert_error_shape(client.get(URL, headers=headers), 401)


def test_a_revocation_whose_forget_fails_is_forgotten_from_the_outbox(client, app, monkeypatch):
    _, headers = make_user(client)
    settle()
    assert client.get(URL, headers=headers).status_code == 200
    assert client.get(URL, headers=headers).status_code == 200  # the copy
    store = app.extensions["reloop.respcache"].store

    def down(owners):
        raise RedisConnectionError("timed out")

    with monkeypatch.context() as patched:
        patched.setattr(store, "forget_owners", down)
        patched.setattr(respcache, "PAUSE_SECONDS", 0.0)  # as in another worker: not paused
        assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
        assert client.get(URL, headers=headers).status_code == 200  # the copy, still
    with app.app_context():
        pending = db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.topic == respcache.FORGET_TOPIC,
            OutboxMessage.processed_at.is_(None))).all()
        assert pending
        processing.process(list(pending))  # a worker's drain, Redis back
    assert_error_shape(client.get(URL, headers=headers), 401)
