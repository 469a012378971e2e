"""Reports, listing and user suspensions, and the audit log."""

from __future__ import annotations

from tests.factories import (
    assert_error_shape,
    create_listing,
    listing_body,
    login,
    make_admin,
    make_user,
)


def _ok(resp, status=200) -> dict:
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _search_ids(client, headers=None) -> list[int]:
    page = _ok(client.get("/api/v1/listings?limit=100", headers=headers or {}))
    return [item["id"] for item in page["items"]]


def _audit(client, admin, subject_type, subject_id) -> list[str]:
    page = _ok(client.get(f"/api/v1/admin/audit?subject_type={subject_type}"
                          f"&subject_id={subject_id}", headers=admin))
    return [e["action"] for e in page["items"]]


def test_reported_listing_suspended_and_unsuspended(client, app):
    _, seller = make_user(client, "Seller")
    _, reporter = make_user(client, "Reporter")
    _, stranger = make_user(client, "Stranger")
    admin = make_admin(client, app)
    listing = create_listing(client, seller)
    lid = listing["id"]

    assert_error_shape(client.post("/api/v1/reports", json={"listing_id": lid,
                                                            "reason": "mine"},
                                   headers=seller), 422)
    assert_error_shape(client.post("/api/v1/reports", json={"reason": "neither"},
                                   headers=reporter), 422)
    assert_error_shape(client.post("/api/v1/reports", json={"listing_id": lid, "user_id": 1,
                                                            "reason": "both"},
                                   headers=reporter), 422)
    assert_error_shape(client.post("/api/v1/reports", json={"listing_id": 10**9,
                                                            "reason": "gone"},
                                   headers=reporter), 404)
    report = _ok(client.post("/api/v1/reports", json={"listing_id": lid,
                                                      "reason": "Counterfeit device"},
                             headers={**reporter, "Idempotency-Key": "rep-1"}), 201)
    assert (report["subject_type"], report["status"]) == ("listing", "open")
    assert_error_shape(client.post("/api/v1/reports", json={"listing_id": lid,
                                                            "reason": "again!"},
                                   headers=reporter), 409)
    # Only the reporter and admins see a report.
    rid = report["id"]
    assert _ok(client.get(f"/api/v1/reports/{rid}", headers=reporter))["id"] == rid
    assert_error_shape(client.get(f"/api/v1/reports/{rid}", headers=stranger), 404)
    assert_error_shape(client.get(f"/api/v1/reports/{rid}", headers=seller), 404)
    assert _ok(client.get("/api/v1/reports", headers=stranger))["items"] == []
    assert_error_shape(client.get("/api/v1/admin/reports", headers=reporter), 403)
    queue = _ok(client.get("/api/v1/admin/reports?status=open", headers=admin))["items"]
    assert rid in [r["id"] for r in queue]

    suspend = f"/api/v1/admin/listings/{lid}/suspend"
    assert_error_shape(client.post(suspend, json={"reason": "Counterfeit"}, headers=seller),
                       403)
    other = _ok(client.post("/api/v1/reports", json={"user_id": report["reporter_id"],
                                                     "reason": "spam reports"},
                            headers=stranger), 201)
    assert_error_shape(client.post(suspend, json={"reason": "Counterfeit",
                                                  "report_id": other["id"]}, headers=admin),
                       422)  # that report is about someone else
    done = _ok(client.post(suspend, json={"reason": "Counterfeit", "report_id": rid},
                           headers=admin))
    assert done["status"] == "suspended"
    assert_error_shape(client.post(suspend, json={"reason": "Counterfeit"}, headers=admin),
                       409)
    assert lid not in _search_ids(client)
    assert_error_shape(client.get(f"/api/v1/listings/{lid}", headers=stranger), 404)
    assert _ok(client.get(f"/api/v1/listings/{lid}", headers=seller))["status"] == "suspended"
    assert_error_shape(client.post("/api/v1/trades", json={"listing_id": lid},
                                   headers=stranger), 404)
    closed = _ok(client.get(f"/api/v1/reports/{rid}", headers=reporter))
    assert (closed["status"], closed["resolution"]) == ("resolved", "actioned")

    lift = f"/api/v1/admin/listings/{lid}/unsuspend"
    assert _ok(client.post(lift, json={"note": "Seller proved it genuine"},
                           headers=admin))["status"] == "active"
    assert_error_shape(client.post(lift, json={}, headers=admin), 409)
    assert lid in _search_ids(client)
    assert _ok(client.get(f"/api/v1/listings/{lid}", headers=stranger))["status"] == "active"
    assert _audit(client, admin, "listing", lid) == ["listing.unsuspended",
                                                     "listing.suspended"]
    assert _audit(client, admin, "report", rid) == ["report.resolved"]
    dismissed = _ok(client.post(f"/api/v1/admin/reports/{other['id']}/resolve",
                                json={"resolution": "dismissed"}, headers=admin))
    assert dismissed["resolution"] == "dismissed"
    assert_error_shape(client.get("/api/v1/admin/audit?subject_id=1", headers=admin), 422)


def test_report_queue_open_first_oldest_first(client, app):
    _, seller = make_user(client, "Seller")
    _, reporter = make_user(client, "Reporter")
    admin = make_admin(client, app)
    ids = []
    for _ in range(3):
        listing = create_listing(client, seller)
        ids.append(_ok(client.post("/api/v1/reports", json={"listing_id": listing["id"],
                                                            "reason": "looks fake"},
                                   headers=reporter), 201)["id"])
    _ok(client.post(f"/api/v1/admin/reports/{ids[0]}/resolve",
                    json={"resolution": "dismissed"}, headers=admin))
    first = _ok(client.get("/api/v1/admin/reports?limit=2&subject_type=listing",
                           headers=admin))
    mine = [r["id"] for r in first["items"]]
    rest = _ok(client.get(f"/api/v1/admin/reports?limit=100&subject_type=listing"
                          f"&cursor={first['next_cursor']}", headers=admin))["items"]
    order = mine + [r["id"] for r in rest]
    statuses = [r["status"] for r in first["items"] + rest]
    assert statuses == sorted(statuses)  # open ones, then resolved ones
    assert order.index(ids[1]) < order.index(ids[2]) < order.index(ids[0])
    assert_error_shape(client.get("/api/v1/admin/reports?cursor=bad!", headers=admin), 422)


def test_suspended_user_cannot_log_in_list_offer_or_buy(client, app):
    user, token = make_user(client, "Suspect")
    _, seller = make_user(client, "Seller")
    _, other = make_user(client, "Other")
    admin = make_admin(client, app)
    theirs = create_listing(client, token)
    listing = create_listing(client, seller)
    report = _ok(client.post("/api/v1/reports", json={"user_id": user["id"],
                                                      "reason": "Scam attempts"},
                             headers=other), 201)
    assert_error_shape(client.get(f"/api/v1/reports/{report['id']}", headers=token), 404)
    assert_error_shape(client.post(f"/api/v1/admin/users/{user['id']}/suspend",
                                   json={"reason": "Scam"}, headers=other), 403)
    done = _ok(client.post(f"/api/v1/admin/users/{user['id']}/suspend",
                           json={"reason": "Scam", "report_id": report["id"]}, headers=admin))
    assert done["suspended"] is True and done["suspension_reason"] == "Scam"
    assert_error_shape(client.post(f"/api/v1/admin/users/{user['id']}/suspend",
                                   json={"reason": "Scam"}, headers=admin), 409)

    body = assert_error_shape(client.post("/api/v1/auth/tokens", json={
        "email": user["email"], "password": "correct horse battery"}), 403)
    assert "suspended" in body["message"]
    assert_error_shape(client.post("/api/v1/auth/tokens", json={
        "email": user["email"], "password": "wrong password!"}), 401)  # nothing told
    assert_error_shape(client.post("/api/v1/listings", json=listing_body(), headers=token),
                       401)
    assert_error_shape(client.post(f"/api/v1/listings/{listing['id']}/offers",
                                   json={"amount": {"amount": 30000, "currency": "EUR"}},
                                   headers=token), 401)
    assert_error_shape(client.post("/api/v1/trades", json={"listing_id": listing["id"]},
                                   headers=token), 401)
    # Their open listing is hidden from everyone else, not from admins.
    assert theirs["id"] not in _search_ids(client)
    assert_error_shape(client.get(f"/api/v1/listings/{theirs['id']}", headers=other), 404)
    assert_error_shape(client.get(f"/api/v1/listings/{theirs['id']}"), 404)
    assert _ok(client.get(f"/api/v1/listings/{theirs['id']}", headers=admin))["id"] == \
        theirs["id"]
    assert_error_shape(client.post(f"/api/v1/listings/{theirs['id']}/offers",
                                   json={"amount": {"amount": 30000, "currency": "EUR"}},
                                   headers=other), 404)

    _ok(client.post(f"/api/v1/admin/users/{user['id']}/reinstate", json={}, headers=admin))
    again = login(client, user["email"])
    assert theirs["id"] in _search_ids(client)
    create_listing(client, again)
    assert _audit(client, admin, "user", user["id"]) == ["user.reinstated", "user.suspended"]
    report_now = _ok(client.get(f"/api/v1/reports/{report['id']}", headers=other))
    assert report_now["resolution"] == "actioned"


def test_admins_cannot_be_suspended_and_unknown_users_are_404(client, app):
    admin = make_admin(client, app)
    me = _ok(client.get("/api/v1/users/me", headers=admin))
    assert_error_shape(client.post(f"/api/v1/admin/users/{me['id']}/suspend",
                                   json={"reason": "oops"}, headers=admin), 409)
    assert_error_shape(client.post("/api/v1/admin/users/999999999/suspend",
                                   json={"reason": "nobody"}, headers=admin), 404)
    assert_error_shape(client.post("/api/v1/admin/users/999999999/reinstate",
                                   json={}, headers=admin), 404)
