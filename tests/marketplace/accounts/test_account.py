"""The caller's own account: profile, password, sessions, privacy settings."""

from __future__ import annotations

from marketplace.core import privacy
from tests.factories import assert_error_shape, login, make_user, register

PASSWORD = "correct horse battery"


def test_patch_profile(client):
    user, headers = make_user(client, "Pat")
    resp = client.patch("/api/v1/users/me", headers=headers, json={
        "display_name": "Patricia", "bio": "Fixes phones.", "city": "Lyon", "country": "FR",
        "locale": "fr-FR", "currency": "EUR"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["display_name"], body["city"], body["country"], body["locale"],
            body["currency"]) == ("Patricia", "Lyon", "FR", "fr-FR", "EUR")
    cleared = client.patch("/api/v1/users/me", headers=headers, json={"bio": None}).get_json()
    assert cleared["bio"] is None and cleared["city"] == "Lyon"
    bad = client.patch("/api/v1/users/me", headers=headers, json={
        "display_name": "", "country": "France", "currency": "XXX1", "locale": "??",
        "email": "new@example.com"})
    assert set(assert_error_shape(bad, 422)["errors"]) == {
        "display_name", "country", "currency", "locale", "email"}
    assert client.get(f"/api/v1/users/{user['id']}").get_json()["display_name"] == "Patricia"


def test_change_password_revokes_every_other_session(client):
    user = register(client)
    phone, laptop = login(client, user["email"]), login(client, user["email"])
    wrong = client.post("/api/v1/users/me/password", headers=laptop, json={
        "old_password": "not my password", "new_password": "a new long password"})
    assert "old_password" in assert_error_shape(wrong, 422)["errors"]
    resp = client.post("/api/v1/users/me/password", headers=laptop, json={
        "old_password": PASSWORD, "new_password": "a new long password"})
    assert resp.status_code == 204
    assert client.get("/api/v1/users/me", headers=laptop).status_code == 200
    assert client.get("/api/v1/users/me", headers=phone).status_code == 401
    login(client, user["email"], "a new long password")


def test_sessions_list_and_revoke_one_or_all_others(client):
    user = register(client)
    first, second, third = (login(client, user["email"]) for _ in range(3))
    page = client.get("/api/v1/users/me/sessions", headers=second).get_json()
    assert len(page["items"]) == 3 and page["next_cursor"] is None
    assert [s["current"] for s in page["items"]] == [False, True, False]  # newest first
    first_id = page["items"][2]["id"]
    assert client.delete(f"/api/v1/users/me/sessions/{first_id}",
                         headers=second).status_code == 204
    assert client.get("/api/v1/users/me", headers=first).status_code == 401
    assert_error_shape(client.delete(f"/api/v1/users/me/sessions/{first_id}", headers=second),
                       404)
    other, other_headers = make_user(client)
    theirs = client.get("/api/v1/users/me/sessions", headers=other_headers).get_json()
    assert_error_shape(client.delete(f"/api/v1/users/me/sessions/{theirs['items'][0]['id']}",
                                     headers=second), 404)
    assert client.delete("/api/v1/users/me/sessions", headers=second).status_code == 204
    assert client.get("/api/v1/users/me", headers=third).status_code == 401
    assert client.get("/api/v1/users/me", headers=second).status_code == 200
    assert client.get("/api/v1/users/me", headers=other_headers).status_code == 200


def test_privacy_defaults_and_changes(client, app):
    user, headers = make_user(client)
    resp = client.get("/api/v1/users/me/privacy", headers=headers)
    assert resp.status_code == 200 and resp.headers["ETag"]
    assert {k: v for k, v in resp.get_json().items() if k != "updated_at"} == {
        "public_profile": True, "show_carbon": False, "leaderboards": False,
        "marketing_email": False}
    changed = client.put("/api/v1/users/me/privacy", headers=headers,
                         json={"leaderboards": True, "marketing_email": True}).get_json()
    assert changed["leaderboards"] and changed["marketing_email"] and changed["public_profile"]
    other, _ = make_user(client)
    with app.app_context():
        assert privacy.leaderboard_members([user["id"], other["id"]]) == {user["id"]}
        assert privacy.allows_marketing(user["id"]) and not privacy.allows_marketing(other["id"])
    bad = client.put("/api/v1/users/me/privacy", headers=headers,
                     json={"leaderboards": "maybe", "nickname": True})
    assert set(assert_error_shape(bad, 422)["errors"]) == {"leaderboards", "nickname"}


def test_a_private_profile_is_not_shown(client):
    user, headers = make_user(client)
    assert client.get(f"/api/v1/users/{user['id']}").status_code == 200
    client.put("/api/v1/users/me/privacy", headers=headers, json={"public_profile": False})
    missing = assert_error_shape(client.get(f"/api/v1/users/{user['id']}"), 404)
    unknown = assert_error_shape(client.get("/api/v1/users/999999"), 404)
    assert missing == unknown


def test_a_blank_display_name_or_city_is_refused(client):
    """Names are stored stripped: whitespace alone would be an empty name (422, not "")."""
    resp = client.post("/api/v1/auth/register", json={
        "email": "blank@example.com", "password": "correct horse battery",
        "display_name": " \t "})
    assert "display_name" in assert_error_shape(resp, 422)["errors"]
    _, headers = make_user(client, "Named", address=False)
    for body in ({"display_name": "   "}, {"city": " "}):
        assert set(body) <= set(assert_error_shape(
            client.patch("/api/v1/users/me", json=body, headers=headers), 422)["errors"])
    me = client.get("/api/v1/users/me", headers=headers).get_json()
    assert me["display_name"] == "Named"
    ok = client.patch("/api/v1/users/me", json={"display_name": "  Nina  "}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["display_name"] == "Nina"
