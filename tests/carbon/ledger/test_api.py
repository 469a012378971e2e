"""``/api/v1/carbon``: account, entries, summary; admins see any account."""

from datetime import UTC, datetime

import pytest

from carbon.ledger import posting
from marketplace.accounts.models import User
from marketplace.accounts.services import Role
from marketplace.core import jobs
from marketplace.core.db import db
from tests.carbon.ledger.helpers import PASSWORD, completion, make_users, refund
from tests.factories import assert_error_shape, login


def _headers(client, app, user_id):

    with app.app_context():
        email = db.session.get(User, user_id).email
    return login(client, email, PASSWORD)


def _setup(app, drain_jobs, trades=3):
    with app.app_context():
        me, other = make_users(2)
        for i in range(1, trades + 1):
            completion(i, me, other, 1000 * i, category="laptop" if i % 2 else "smartphone",
                       title=f"Item {i}", completed_at=datetime(2026, i, 10, tzinfo=UTC))
        db.session.commit()
    drain_jobs()
    return me, other


def _hold_drains(patcher) -> None:
    """The workers are behind: completions wait in the outbox (no drain is requested)."""
    patcher.setattr(jobs, "enqueue_coalesced", lambda *args, **kwargs: None)


def _announce(trade_id, buyer, seller, grams):
    posting.announce_completion({"trade_id": trade_id, "buyer_id": buyer,
                                 "seller_id": seller, "avoided_g": grams})


def test_account_shows_balance_credited_trades_and_pending(client, app, drain_jobs,
                                                           monkeypatch):
    me, other = _setup(app, drain_jobs)
    headers = _headers(client, app, me)
    _hold_drains(monkeypatch)
    with app.app_context():  # a completion whose credit has not run yet
        _announce(99, other, me, 801)
        db.session.commit()
    body = client.get("/api/v1/carbon/account", headers=headers).get_json()
    assert body["balance_g"] == 3000 and body["balance_kgco2e"] == 3.0
    assert body["credited_trades"] == 3
    assert body["pending_g"] == 400 and body["pending_kgco2e"] == 0.4  # seller's half
    assert body["as_of"].endswith("+00:00")


def test_account_of_a_new_user_is_empty(client, app):
    with app.app_context():
        (me,) = make_users(1)
    body = client.get("/api/v1/carbon/account", headers=_headers(client, app, me)).get_json()
    assert body["balance_g"] == 0 and body["credited_trades"] == 0 and body["pending_g"] == 0


def test_entries_page_with_a_cursor(client, app, drain_jobs):
    me, _ = _setup(app, drain_jobs)
    with app.app_context():
        refund(3, "re_9", 50, 100)
        db.session.commit()
    drain_jobs()
    headers = _headers(client, app, me)
    first = client.get("/api/v1/carbon/entries?limit=2", headers=headers).get_json()
    assert set(first) == {"items", "next_cursor"}
    assert [e["kind"] for e in first["items"]] == ["reversal", "credit"]
    assert not first["next_cursor"].isdigit()  # the shared opaque cursor, not an id
    rev, credit = first["items"]
    assert rev["amount_g"] == -750 and rev["trade_id"] == 3 and rev["listing_title"] == "Item 3"
    assert credit["amount_g"] == 1500 and credit["category"] == "laptop"
    assert credit["amount_kgco2e"] == 1.5 and rev["amount_kgco2e"] == -0.75
    assert credit["occurred_at"].startswith("2026-03-10")
    second = client.get(f"/api/v1/carbon/entries?limit=2&cursor={first['next_cursor']}",
                        headers=headers).get_json()
    assert [e["trade_id"] for e in second["items"]] == [2, 1]
    assert second["next_cursor"] is None
    everything = client.get("/api/v1/carbon/entries?limit=100", headers=headers).get_json()
    assert [e["id"] for e in everything["items"]] == [
        e["id"] for e in first["items"] + second["items"]]
    assert everything["next_cursor"] is None
    assert_error_shape(client.get("/api/v1/carbon/entries?limit=0", headers=headers), 422)
    assert_error_shape(client.get("/api/v1/carbon/entries?limit=101", headers=headers), 422)


@pytest.mark.parametrize("cursor", ["2", "not a cursor!", "WzEsMl0", "bm9wZQ"])
def test_entries_with_a_malformed_cursor_are_422(client, app, drain_jobs, cursor):
    me, _ = _setup(app, drain_jobs, trades=1)
    headers = _headers(client, app, me)
    resp = client.get("/api/v1/carbon/entries", query_string={"cursor": cursor},
                      headers=headers)
    assert "cursor" in assert_error_shape(resp, 422)["errors"]
    with app.app_context():
        (nobody,) = make_users(1)  # no ledger account at all: still a 422
    resp = client.get("/api/v1/carbon/entries", query_string={"cursor": cursor},
                      headers=_headers(client, app, nobody))
    assert "cursor" in assert_error_shape(resp, 422)["errors"]


def test_summary_per_month_and_category_with_equivalents(client, app, drain_jobs):
    me, _ = _setup(app, drain_jobs)
    headers = _headers(client, app, me)
    body = client.get("/api/v1/carbon/summary?from=2026-01-01&to=2026-04-01",
                      headers=headers).get_json()
    assert [p["net_g"] for p in body["periods"]] == [500, 1000, 1500]
    assert body["periods"][0]["start"].startswith("2026-01-01")
    assert body["net_g"] == 3000
    assert {c["category"]: c["net_g"] for c in body["by_category"]} == {
        "laptop": 2000, "smartphone": 1000}
    car = next(e for e in body["equivalents"] if e["key"] == "car_km")
    assert car["value"] == round(3000 / car["factor_g_per_unit"], 1)
    assert all(e["source"] and e["factor"] for e in body["equivalents"])
    weeks = client.get("/api/v1/carbon/summary?from=2026-02-01&to=2026-03-01&granularity=week",
                       headers=headers).get_json()
    assert sum(p["net_g"] for p in weeks["periods"]) == 1000 and len(weeks["periods"]) == 5
    assert_error_shape(client.get("/api/v1/carbon/summary?from=2026-05-01&to=2026-01-01",
                                  headers=headers), 422)
    assert_error_shape(client.get("/api/v1/carbon/summary?granularity=day", headers=headers),
                       422)


def test_only_admins_see_other_accounts(client, app, drain_jobs):
    me, other = _setup(app, drain_jobs)
    with app.app_context():
        (admin,) = make_users(1, role=Role.ADMIN)
    url = f"/api/v1/admin/carbon/accounts/{other}"
    assert_error_shape(client.get(url), 401)
    assert_error_shape(client.get(url, headers=_headers(client, app, me)), 403)
    admin_headers = _headers(client, app, admin)
    body = client.get(url, headers=admin_headers).get_json()
    assert body["user_id"] == other and body["balance_g"] == 3000
    first = client.get(url + "/entries?limit=2", headers=admin_headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(url + "/entries", query_string={"limit": 2, "cursor": first["next_cursor"]},
                      headers=admin_headers).get_json()
    assert [e["trade_id"] for e in first["items"] + rest["items"]] == [3, 2, 1]
    assert rest["next_cursor"] is None
    assert_error_shape(client.get(url + "/entries?cursor=x.y", headers=admin_headers), 422)
    assert_error_shape(client.get("/api/v1/admin/carbon/accounts/999999",
                                  headers=admin_headers), 404)
    assert_error_shape(client.get("/api/v1/carbon/account"), 401)


def test_account_etag_304_until_the_figures_change(client, app, drain_jobs, monkeypatch):
    me, other = _setup(app, drain_jobs, trades=1)
    headers = _headers(client, app, me)
    first = client.get("/api/v1/carbon/account", headers=headers)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    same = client.get("/api/v1/carbon/account", headers={**headers, "If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    other_etag = client.get("/api/v1/carbon/account", headers={**headers,
                                                               "If-None-Match": '"nope"'})
    assert other_etag.status_code == 200 and other_etag.headers["ETag"] == etag
    with monkeypatch.context() as busy, app.app_context():
        # a completion not credited yet (the workers are behind): the pending share changes
        _hold_drains(busy)
        _announce(2, other, me, 2000)
        db.session.commit()
    pending = client.get("/api/v1/carbon/account", headers={**headers, "If-None-Match": etag})
    assert pending.status_code == 200 and pending.get_json()["pending_g"] == 1000
    assert pending.headers["ETag"] != etag
    with app.app_context():  # another trade credited: the balance changes
        completion(3, other, me, 3000, completed_at=datetime(2026, 5, 1, tzinfo=UTC))
        db.session.commit()
    drain_jobs()
    credited = client.get("/api/v1/carbon/account",
                          headers={**headers, "If-None-Match": pending.headers["ETag"]})
    assert credited.status_code == 200
    body = credited.get_json()
    # The drain that credits trade 3 takes trade 2's record along (drains claim every due
    # record of their queue): both are credited, nothing is pending.
    assert body["balance_g"] == 500 + 1000 + 1500 and body["pending_g"] == 0
    assert credited.headers["ETag"] not in (etag, pending.headers["ETag"])
    again = client.get("/api/v1/carbon/account",
                       headers={**headers, "If-None-Match": credited.headers["ETag"]})
    assert again.status_code == 304
    # Another user's account has its own ETag.
    theirs = client.get("/api/v1/carbon/account", headers={
        **_headers(client, app, other), "If-None-Match": credited.headers["ETag"]})
    assert theirs.status_code == 200


def test_pending_counts_each_uncredited_trade_once(client, app, drain_jobs, monkeypatch):
    me, other = _setup(app, drain_jobs, trades=1)
    headers = _headers(client, app, me)
    _hold_drains(monkeypatch)
    with app.app_context():
        _announce(1, me, other, 1000)  # trade 1 is credited already: counts nothing
        _announce(7, me, other, 600)  # trade 7 twice: counted once
        _announce(7, me, other, 600)
        _announce(9, me, me, 101)  # a self-trade: both halves
        _announce(10, other, other, 5000)  # someone else's trade: nothing
        with pytest.raises(posting.InvalidEvent):  # refused when written, never pending
            _announce(8, me, other, "lots")
        db.session.commit()
    body = client.get("/api/v1/carbon/account", headers=headers).get_json()
    assert body["pending_g"] == 300 + 101 and body["pending_kgco2e"] == 0.401
    assert body["balance_g"] == 500
