"""Sign-up, email verification and password reset, through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.accounts.models import EmailToken, User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from tests.factories import assert_error_shape, listing_body, login, register

PASSWORD = "correct horse battery"


def _code(message) -> str:
    """The token in an email body: the line that is nothing but a long URL-safe string."""
    body = message.get_payload(decode=True).decode()
    return re.search(r"^([A-Za-z0-9_-]{40,})\r?$", body, re.MULTILINE).group(1)


def _signup(client, email, name="Nia"):
    return client.post("/api/v1/auth/register",
                       json={"email": email, "password": PASSWORD, "display_name": name})


def test_signup_emails_a_code_that_verifies_once(smtp_app, smtp_server, client, drain_jobs):
    assert _signup(client, "nia@example.com").status_code == 202
    drain_jobs()
    [msg] = smtp_server.to("nia@example.com")
    assert "Confirm your email" in msg["Subject"]
    headers = login(client, "nia@example.com")
    # Unverified: browsing works, selling and buying do not.
    assert client.get("/api/v1/listings").status_code == 200
    body = assert_error_shape(client.post("/api/v1/listings", json=listing_body(),
                                          headers=headers), 403)
    assert "Verify your email" in body["message"]
    code = _code(msg)
    resp = client.post("/api/v1/auth/email-verification", json={"token": code})
    assert resp.status_code == 200 and resp.get_json()["email_verified"] is True
    assert client.post("/api/v1/listings", json=listing_body(),
                       headers=headers).status_code == 201
    again = client.post("/api/v1/auth/email-verification", json={"token": code})
    assert "token" in assert_error_shape(again, 422)["errors"]


def test_verification_can_be_switched_off(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_VERIFIED_EMAIL", False)
    user = register(client, "lax@example.com", verified=False)
    assert user["email_verified"] is False
    headers = login(client, "lax@example.com")
    assert client.post("/api/v1/listings", json=listing_body(),
                       headers=headers).status_code == 201


def test_resend_verification_sends_a_new_code(smtp_app, smtp_server, client, drain_jobs):
    _signup(client, "again@example.com")
    headers = login(client, "again@example.com")
    assert client.post("/api/v1/users/me/email-verification", headers=headers).status_code == 202
    drain_jobs()
    first, second = smtp_server.to("again@example.com")
    assert _code(first) != _code(second)
    assert client.post("/api/v1/auth/email-verification",
                       json={"token": _code(second)}).status_code == 200


def test_signup_does_not_reveal_a_taken_email(smtp_app, smtp_server, client, drain_jobs):
    register(client, "taken@example.com")
    new = _signup(client, "fresh@example.com", name="Other")
    taken = _signup(client, "taken@example.com", name="Other")
    assert (taken.status_code, taken.get_json()) == (new.status_code, new.get_json())
    assert set(taken.headers.keys()) == set(new.headers.keys())
    drain_jobs()
    *_, notice = smtp_server.to("taken@example.com")  # after its own verification email
    assert "tried to register" in notice["Subject"]
    assert "Confirm" in smtp_server.to("fresh@example.com")[0]["Subject"]
    login(client, "taken@example.com")  # the owner's password is untouched


def test_reset_does_not_reveal_emails_and_tokens_are_single_use(smtp_app, smtp_server, client,
                                                                drain_jobs):
    register(client, "rosa@example.com")
    old = login(client, "rosa@example.com")
    known = client.post("/api/v1/auth/password-reset", json={"email": "ROSA@example.com"})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    drain_jobs()
    assert smtp_server.to("nobody@example.com") == []
    msg = smtp_server.to("rosa@example.com")[-1]
    code = _code(msg)
    resp = client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": code, "new_password": "a brand new password"})
    assert resp.status_code == 204
    # Every session is logged out; the old password is gone, the new one works.
    assert client.get("/api/v1/users/me", headers=old).status_code == 401
    assert client.post("/api/v1/auth/tokens", json={
        "email": "rosa@example.com", "password": PASSWORD}).status_code == 401
    login(client, "rosa@example.com", "a brand new password")
    # Single use.
    replay = client.post("/api/v1/auth/password-reset/confirm",
                         json={"token": code, "new_password": "attacker password!"})
    assert "token" in assert_error_shape(replay, 422)["errors"]
    login(client, "rosa@example.com", "a brand new password")


def _two_reset_codes(client, smtp_server, drain_jobs, email) -> tuple[str, str]:
    for _ in range(2):
        assert client.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
    drain_jobs()
    first, second = smtp_server.to(email)[-2:]
    return _code(first), _code(second)


def test_a_reset_voids_the_other_reset_codes(smtp_app, smtp_server, client, drain_jobs):
    register(client, "rita@example.com")
    first, second = _two_reset_codes(client, smtp_server, drain_jobs, "rita@example.com")
    assert client.post("/api/v1/auth/password-reset/confirm", json={
        "token": second, "new_password": "owner new password"}).status_code == 204
    late = client.post("/api/v1/auth/password-reset/confirm", json={
        "token": first, "new_password": "attacker password 1"})
    assert "token" in assert_error_shape(late, 422)["errors"]
    login(client, "rita@example.com", "owner new password")


def test_a_password_change_voids_reset_codes(smtp_app, smtp_server, client, drain_jobs):
    """A code someone read in the mailbox no longer works once the owner changed the password."""
    register(client, "rosa2@example.com")
    headers = login(client, "rosa2@example.com")
    code, _ = _two_reset_codes(client, smtp_server, drain_jobs, "rosa2@example.com")
    assert client.post("/api/v1/users/me/password", headers=headers, json={
        "old_password": PASSWORD, "new_password": "owner new password"}).status_code == 204
    late = client.post("/api/v1/auth/password-reset/confirm", json={
        "token": code, "new_password": "attacker password 1"})
    assert "token" in assert_error_shape(late, 422)["errors"]
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200  # still in


def test_reset_tokens_expire_and_are_stored_hashed(smtp_app, smtp_server, client, app,
                                                   drain_jobs):
    register(client, "exp@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "exp@example.com"})
    drain_jobs()
    code = _code(smtp_server.to("exp@example.com")[-1])
    with app.app_context():
        stored = db.session.scalars(select(EmailToken.token_hash)).all()
        assert code not in stored and len(stored[0]) == 64
        db.session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    resp = client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": code, "new_password": "a brand new password"})
    assert_error_shape(resp, 422)
    login(client, "exp@example.com")  # unchanged


def test_a_reset_code_cannot_verify_and_a_wrong_code_is_422(client):
    resp = client.post("/api/v1/auth/email-verification", json={"token": "x" * 43})
    assert_error_shape(resp, 422)
    resp = client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": "nope", "new_password": "short"})
    assert set(assert_error_shape(resp, 422)["errors"]) == {"new_password"}


def test_reset_requests_are_rate_limited_per_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_LIMIT_PER_ADDRESS", "2 per hour")
    for _ in range(2):
        assert client.post("/api/v1/auth/password-reset",
                           json={"email": "x@example.com"}).status_code == 202
    assert_error_shape(client.post("/api/v1/auth/password-reset",
                                   json={"email": "y@example.com"}), 429)


def test_operator_created_accounts_are_verified(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create-admin", "op@example.com", "--password-stdin"],
                  input="operator password\n")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "op@example.com"))
        assert user.is_verified
