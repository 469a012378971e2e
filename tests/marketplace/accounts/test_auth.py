from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import ApiToken, User
from marketplace.accounts.services import hash_token
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from tests.factories import assert_error_shape, login, recorded_statements, register


def test_register_accepts_and_the_account_starts_unverified(client):
    resp = client.post("/api/v1/auth/register", json={
        "email": "Ada@Example.com", "password": "correct horse battery", "display_name": "Ada"})
    assert resp.status_code == 202
    assert set(resp.get_json()) == {"message"}
    me = client.get("/api/v1/users/me", headers=login(client, "ada@example.com")).get_json()
    assert me["email"] == "ada@example.com" and me["role"] == "user"
    assert me["email_verified"] is False and me["email_verified_at"] is None
    assert "password" not in me and "password_hash" not in me


def test_password_is_hashed_with_argon2(client, app):
    register(client, "hash@example.com")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "hash@example.com"))
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash


@pytest.mark.parametrize("second", ["dup@example.com", "DUP@example.com", " Dup@Example.COM "])
def test_duplicate_email_any_case_keeps_the_first_account(client, app, second):
    register(client, "dup@example.com")
    resp = client.post("/api/v1/auth/register", json={
        "email": second.strip(), "password": "another long password", "display_name": "X"})
    assert resp.status_code == 202  # the same answer as a new email (see test_privacy_login)
    with app.app_context():
        users = db.session.scalars(select(User).where(User.email == "dup@example.com")).all()
        assert [u.display_name for u in users] == ["Tester"]
    login(client, "dup@example.com")  # the first password still works


def test_bad_email_and_short_password_give_field_errors(client):
    resp = client.post("/api/v1/auth/register", json={
        "email": "not-an-email", "password": "short", "display_name": ""})
    body = assert_error_shape(resp, 422)
    assert set(body["errors"]) == {"email", "password", "display_name"}


def test_missing_fields_and_unknown_fields(client):
    body = assert_error_shape(client.post("/api/v1/auth/register", json={}), 422)
    assert set(body["errors"]) == {"email", "password", "display_name"}
    body = assert_error_shape(client.post("/api/v1/auth/register", json={
        "email": "a@example.com", "password": "correct horse battery", "display_name": "A",
        "role": "admin"}), 422)
    assert "role" in body["errors"]


def test_login_me_and_logout(client):
    user = register(client, "me@example.com")
    resp = client.post("/api/v1/auth/tokens",
                       json={"email": "ME@example.com", "password": "correct horse battery"})
    assert resp.status_code == 201
    token = resp.get_json()["token"]
    assert len(token) >= 40 and resp.get_json()["expires_at"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["id"] == user["id"]

    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert_error_shape(client.get("/api/v1/users/me", headers=headers), 401)


def test_token_is_stored_only_as_hash(client, app):
    register(client, "tok@example.com")
    headers = login(client, "tok@example.com")
    raw = headers["Authorization"].split()[1]
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        assert stored == [hash_token(raw)] and raw not in stored


def test_wrong_password_and_unknown_email_same_message(client):
    register(client, "known@example.com")
    a = assert_error_shape(client.post("/api/v1/auth/tokens", json={
        "email": "known@example.com", "password": "wrong password!"}), 401)
    b = assert_error_shape(client.post("/api/v1/auth/tokens", json={
        "email": "nobody@example.com", "password": "wrong password!"}), 401)
    assert a["message"] == b["message"]


def test_expired_token_is_refused(client, app):
    register(client, "exp@example.com")
    headers = login(client, "exp@example.com")
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert_error_shape(client.get("/api/v1/users/me", headers=headers), 401)


def test_garbage_and_missing_tokens_are_401(client):
    assert_error_shape(client.get("/api/v1/users/me"), 401)
    resp = client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})
    assert_error_shape(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error_shape(client.get("/api/v1/users/me", headers={"Authorization": "Basic eA=="}),
                       401)


def test_admin_endpoint_refuses_user_and_anonymous(client, app):
    register(client, "plain@example.com")
    headers = login(client, "plain@example.com")
    assert_error_shape(client.get("/api/v1/admin/users", headers=headers), 403)
    assert_error_shape(client.get("/api/v1/admin/users"), 401)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "plain@example.com",
                                 "--password-stdin"], input="a new admin password\n")
    assert result.exit_code == 0, result.output
    assert "promoted" in result.output
    admin_headers = login(client, "plain@example.com", "a new admin password")
    resp = client.get("/api/v1/admin/users", headers=admin_headers)
    assert resp.status_code == 200
    assert [u["role"] for u in resp.get_json()["items"]] == ["admin"]


def test_create_admin_creates_new_account(client, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "root@example.com",
                                 "--password-stdin"], input="root admin password\n")
    assert result.exit_code == 0 and "created" in result.output
    headers = login(client, "root@example.com", "root admin password")
    assert client.get("/api/v1/users/me", headers=headers).get_json()["role"] == "admin"
    short = runner.invoke(args=["users", "create-admin", "x@example.com", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0


def test_failed_logins_per_email_and_address_are_rate_limited(client):
    register(client, "victim@example.com")
    for _ in range(10):
        resp = client.post("/api/v1/auth/tokens", json={
            "email": "victim@example.com", "password": "wrong password!"})
        assert resp.status_code == 401
    resp = client.post("/api/v1/auth/tokens", json={
        "email": "VICTIM@example.com", "password": "correct horse battery"})
    body = assert_error_shape(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0
    assert body["status"] == "Too Many Requests"
    # Another account from the same address is not locked out by this email's limit.
    register(client, "other@example.com")
    assert client.post("/api/v1/auth/tokens", json={
        "email": "other@example.com", "password": "correct horse battery"}).status_code == 201


def test_successful_logins_do_not_count_against_the_email_limit(client):
    register(client, "busy@example.com")
    for _ in range(12):
        login(client, "busy@example.com")


def test_attempts_per_address_are_rate_limited(client, app, monkeypatch):
    # The default (100 per minute) is set low here so the test does not race the window.
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "20 per minute")
    register(client, "nat@example.com")
    for i in range(20):
        resp = client.post("/api/v1/auth/tokens", json={
            "email": f"user{i}@example.com", "password": "wrong password!"},
            environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert resp.status_code == 401, i
    resp = client.post("/api/v1/auth/tokens", json={
        "email": "nat@example.com", "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert_error_shape(resp, 429)
    other = client.post("/api/v1/auth/tokens", json={
        "email": "nat@example.com", "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 201


def test_default_login_limits(app):
    assert app.config["LOGIN_LIMIT_PER_EMAIL"] == "10 per minute"
    assert app.config["LOGIN_LIMIT_PER_ADDRESS"] == "100 per minute"


def test_welcome_notification_is_written_by_a_job(client, drain_jobs):
    user = register(client, "welcome@example.com")
    headers = login(client, "welcome@example.com")
    drain_jobs()
    notes = client.get("/api/v1/users/me/notifications", headers=headers).get_json()
    assert [n["kind"] for n in notes["items"]] == ["welcome"] and notes["next_cursor"] is None
    assert user["id"]


def test_registrations_per_address_are_rate_limited(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTER_LIMIT_PER_ADDRESS", "3 per hour")
    for i in range(3):
        register(client, f"burst{i}@example.com")
    resp = client.post("/api/v1/auth/register", json={
        "email": "burst9@example.com", "password": "correct horse battery", "display_name": "B"})
    assert_error_shape(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0


def test_admin_user_list_pages_with_opaque_cursors(client, app):
    for i in range(3):
        register(client, f"page{i}@example.com")
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create-admin", "pager@example.com", "--password-stdin"],
                  input="pager admin password\n")
    headers = login(client, "pager@example.com", "pager admin password")
    first = client.get("/api/v1/admin/users?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [u["id"] for u in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/admin/users?limit=2&cursor={cursor}",
                          headers=headers).get_json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 4
    bad = client.get("/api/v1/admin/users?cursor=not*a*cursor", headers=headers)
    assert_error_shape(bad, 422)
    forged = client.get("/api/v1/admin/users?cursor=WzEsMl0", headers=headers)  # [1,2]
    assert_error_shape(forged, 422)


def test_token_and_user_come_in_one_query_and_revocation_is_immediate(client, app):
    register(client, "onequery@example.org")
    headers = login(client, "onequery@example.org")
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with recorded_statements(app) as statements:
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    touching = [s for s in statements if "api_tokens" in s or "FROM users" in s]
    assert len(touching) == 1, statements  # the token joined with its user, nothing lazy
    assert "JOIN api_tokens" in touching[0] and "FROM users" in touching[0]
    # No cache: a revoked token is refused on the very next request.
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
