"""Data export and account closure over a real trade: carbon credited, points earned,
reviews written, offers made; another user's data alongside."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from carbon.ledger.models import ISSUANCE_CODE, LedgerAccount, LedgerLine
from marketplace.accounts import export
from marketplace.addresses.models import Address
from marketplace.core.db import db
from marketplace.core.http.idempotency import IdempotencyKey
from marketplace.trades.models import Trade
from tests.carbon.incentives.helpers import points_rule
from tests.factories import (
    ADDRESS,
    assert_error_shape,
    create_listing,
    login,
    make_admin,
    make_user,
    register,
)
from tests.marketplace.trades.conftest import Env

PASSWORD = "correct horse battery"


@pytest.fixture
def world(client, stripe_app, localstripe, drain_jobs):
    """Seller sells to buyer (completed, credited, reviewed both ways); the buyer also lists
    a phone and makes an offer on a third user's listing."""
    with stripe_app.app_context():
        points_rule(every_kg=1, amount=10)
    seller, s = make_user(client, "Sally Seller")
    buyer, b = make_user(client, "Bruno Buyer")
    other, o = make_user(client, "Olga Other")
    env = Env(client, stripe_app, localstripe, drain_jobs, buyer, b, seller, s, {},
              create_listing(client, s, title="Sally's iPhone"))
    trade = env.completed()
    for headers, text in ((b, "Great seller"), (s, "Prompt payment")):
        resp = env.post(f"/trades/{trade['id']}/reviews", headers, {"rating": 5, "comment": text})
        assert resp.status_code == 201, resp.get_json()
    create_listing(client, b, title="Bruno's old Pixel", photos=["https://img.example.com/b.jpg"])
    olga = create_listing(client, o, title="Olga's laptop secret")
    offer = client.post(f"/api/v1/listings/{olga['id']}/offers", headers=b,
                        json={"amount": {"amount": 30000, "currency": "EUR"}})
    assert offer.status_code == 201, offer.get_json()
    # A conversation about Olga's laptop: the buyer asks, Olga answers.
    convo = client.post(f"/api/v1/listings/{olga['id']}/conversations", headers=b, json={})
    assert convo.status_code in (200, 201), convo.get_json()
    cid = convo.get_json()["id"]
    for headers, text in ((b, "Bruno asks: is the hinge loose?"), (o, "Olga answers: no.")):
        sent = client.post(f"/api/v1/conversations/{cid}/messages", headers=headers,
                           json={"body": text})
        assert sent.status_code == 201, sent.get_json()
    drain_jobs()
    env.conversation_id = cid
    return env, trade, other, o


def _export(client, headers, drain_jobs) -> dict[str, object]:
    started = client.post("/api/v1/users/me/export", headers=headers)
    assert started.status_code == 201, started.get_json()
    drain_jobs()
    status = client.get(f"/api/v1/users/me/export/{started.get_json()['id']}", headers=headers)
    body = status.get_json()
    assert body["status"] == "ready" and body["url"], body
    resp = client.get(urlsplit(body["url"]).path)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    raw = resp.get_data()
    archive = zipfile.ZipFile(io.BytesIO(raw))
    files = {n: archive.read(n).decode() for n in archive.namelist()}
    return {"raw": "\n".join(files.values()), "files": files,
            **{n[:-5]: json.loads(t) for n, t in files.items() if n.endswith(".json")}}


def test_export_has_every_record_of_the_user_and_nothing_of_anyone_else(world, client,
                                                                        drain_jobs):
    env, trade, other, o = world
    buyer_id = env.buyer["id"]
    data = _export(client, env.b, drain_jobs)
    assert {"profile", "consents", "sessions", "listings", "offers", "trades", "reviews_written",
            "notifications", "carbon_ledger", "points", "rewards", "payouts"} <= set(data)
    assert data["profile"]["email"] == env.buyer["email"]
    assert [li["title"] for li in data["listings"]] == ["Bruno's old Pixel"]
    assert [(x["buyer_id"], x["amount"]) for x in data["offers"]] == [(buyer_id, 30000)]
    assert [t["id"] for t in data["trades"]] == [trade["id"]]
    assert "client_secret" not in data["trades"][0]
    assert [r["comment"] for r in data["reviews_written"]] == ["Great seller"]
    assert {n["user_id"] for n in data["notifications"]} == {buyer_id} and data["notifications"]
    account = client.get("/api/v1/carbon/account", headers=env.b).get_json()
    entries = data["carbon_ledger"]["entries"]
    assert entries and sum(e["amount_g"] for e in entries) == account["balance_g"] > 0
    assert data["points"]["balance"] > 0 and data["points"]["entries"]
    assert {r["user_id"] for r in data["rewards"]["rewards"]} == {buyer_id}
    assert data["consents"]["leaderboards"] is False
    assert [a["name"] for a in data["addresses"]] == ["Bruno Buyer"]
    assert [m["body"] for m in data["conversations"]["messages_written"]] == [
        "Bruno asks: is the hinge loose?"]
    assert "Olga answers" not in data["raw"]
    # Nothing of anyone else: no other user's email, name, listing or review.
    for foreign in (env.seller["email"], other["email"], "Sally Seller", "Olga Other",
                    "Olga's laptop secret", "Prompt payment"):
        assert foreign not in data["raw"], foreign
    # The link is the user's only: another user cannot read the status; a forged link is 404.
    assert_error_shape(client.get(f"/api/v1/users/me/export/{data['trades'][0]['id']}",
                                  headers=o), 404)
    assert_error_shape(client.get("/api/v1/exports/forged.token.value"), 404)


def test_a_sellers_export_has_the_sale_but_not_the_buyers_address(world, client, drain_jobs):
    env, trade, _, _ = world
    with env.app.app_context():
        address = db.session.get(Trade, trade["id"]).shipping_address
    assert address and address["line1"]  # the buyer's, on the trade
    data = _export(client, env.s, drain_jobs)
    assert [(t["id"], t["shipping_address"]) for t in data["trades"]] == [(trade["id"], None)]
    assert address["line1"] not in data["files"]["trades.json"]
    assert address["line1"] in _export(client, env.b, drain_jobs)["files"]["trades.json"]


def _platform_totals():
    issuance = db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_g), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.code == ISSUANCE_CODE))
    users = db.session.scalar(select(func.sum(LedgerAccount.balance_g))
                              .where(LedgerAccount.user_id.is_not(None)))
    return int(issuance), int(users)


def test_closing_the_account_erases_personal_data_and_keeps_the_ledger(world, client, app,
                                                                       drain_jobs):
    env, trade, other, o = world
    buyer, b, s = env.buyer, env.b, env.s
    with app.app_context():
        before = _platform_totals()
    wrong = client.delete("/api/v1/users/me", headers=b, json={"password": "not it at all"})
    assert "password" in assert_error_shape(wrong, 422)["errors"]
    assert client.delete("/api/v1/users/me", headers=b, json={"password": PASSWORD}
                         ).status_code == 204
    # Tokens revoked, the old credentials dead.
    assert client.get("/api/v1/users/me", headers=b).status_code == 401
    assert client.post("/api/v1/auth/tokens", json={
        "email": buyer["email"], "password": PASSWORD}).status_code == 401
    # No endpoint returns the old personal data.
    seen = [
        client.get(f"/api/v1/users/{buyer['id']}"),
        client.get(f"/api/v1/trades/{trade['id']}", headers=s),
        client.get(f"/api/v1/trades/{trade['id']}/reviews", headers=s),
        client.get(f"/api/v1/trades/{trade['id']}/events", headers=s),
        client.get(f"/api/v1/users/{env.seller['id']}/reviews"),
        client.get(f"/api/v1/listings?seller_id={buyer['id']}"),
        client.get("/api/v1/listings?q=Pixel"),
        client.get("/api/v1/offers", headers=o),
        client.get("/api/v1/admin/users?limit=100", headers=make_admin(client, app)),
        client.get(f"/api/v1/conversations/{env.conversation_id}/messages", headers=o),
    ]
    assert seen[0].status_code == 404
    for resp in seen:
        text = resp.get_data(as_text=True)
        for personal in (buyer["email"], "Bruno Buyer", "img.example.com/b.jpg",
                         "is the hinge loose"):
            assert personal not in text, (resp.request.path, personal)
    # The review stays, under the closed ("Former member") account; the offer is closed.
    reviews = seen[2].get_json()["items"]
    assert "Great seller" in [r["comment"] for r in reviews]
    assert {x["status"] for x in seen[7].get_json()["items"]} == {"withdrawn"}
    # Olga keeps her thread (her own message and a placeholder for the buyer's).
    assert "Olga answers: no." in seen[9].get_data(as_text=True)
    with app.app_context():  # the address book is gone
        assert db.session.scalar(select(func.count()).select_from(Address)
                                 .where(Address.user_id == buyer["id"])) == 0
    # The ledger still balances and platform totals did not move.
    result = app.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _platform_totals() == before
    # The same email can register again: a new, empty account.
    again = register(client, buyer["email"], password="another long password", name="Bruno 2")
    assert again["id"] != buyer["id"]
    headers = login(client, buyer["email"], "another long password")
    assert client.get("/api/v1/carbon/account", headers=headers).get_json()["balance_g"] == 0


def test_closing_is_refused_while_a_trade_is_in_flight_or_money_is_owed(world, client):
    env, trade, other, o = world
    listing = create_listing(client, env.s, title="Another phone")
    resp = client.post("/api/v1/trades", json={"listing_id": listing["id"]}, headers=env.b)
    assert resp.status_code == 201, resp.get_json()
    busy = client.delete("/api/v1/users/me", headers=env.b, json={"password": PASSWORD})
    assert "in progress" in assert_error_shape(busy, 409)["message"]
    # The seller's payout from the completed trade is accrued (no payout account yet).
    owed = client.delete("/api/v1/users/me", headers=env.s, json={"password": PASSWORD})
    assert "owed" in assert_error_shape(owed, 409)["message"]
    assert client.get("/api/v1/users/me", headers=env.b).status_code == 200


def test_download_links_expire(client, drain_jobs, monkeypatch):
    user, headers = make_user(client)
    started = client.post("/api/v1/users/me/export", headers=headers).get_json()
    drain_jobs()
    url = client.get(f"/api/v1/users/me/export/{started['id']}", headers=headers).get_json()["url"]
    path = urlsplit(url).path
    assert client.get(path).status_code == 200
    monkeypatch.setattr(export, "LINK_MAX_AGE", -1)  # as if a day had passed
    assert_error_shape(client.get(path), 404)


def test_closing_drops_the_responses_stored_for_retries(client, app):
    """An Idempotency-Key keeps the response for 24 hours (a deleted address, as returned):
    not past the account's closure."""
    user, headers = make_user(client, "Ida", address=False)
    resp = client.post("/api/v1/users/me/addresses", json={**ADDRESS, "line1": "7 impasse Privee"},
                       headers={**headers, "Idempotency-Key": "k1"})
    assert resp.status_code == 201
    with app.app_context():
        assert _stored_bodies(user["id"]) and b"impasse Privee" in _stored_bodies(user["id"])[0]
    assert client.delete("/api/v1/users/me", headers=headers,
                         json={"password": PASSWORD}).status_code == 204
    with app.app_context():
        assert _stored_bodies(user["id"]) == []


def _stored_bodies(user_id: int) -> list[bytes]:
    return list(db.session.scalars(select(IdempotencyKey.response_body).where(
        IdempotencyKey.user_id == user_id)))


def test_exports_are_limited_per_user_and_a_replay_is_not_counted(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_LIMIT_PER_USER", "2 per day")
    _, headers = make_user(client, "Greedy", address=False)
    _, other = make_user(client, "Other", address=False)
    first = client.post("/api/v1/users/me/export", headers={**headers, "Idempotency-Key": "e1"})
    again = client.post("/api/v1/users/me/export", headers={**headers, "Idempotency-Key": "e1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]  # the replay, not counted
    assert client.post("/api/v1/users/me/export", headers=headers).status_code == 201
    assert_error_shape(client.post("/api/v1/users/me/export", headers=headers), 429)
    assert client.post("/api/v1/users/me/export", headers=other).status_code == 201
