"""Login limits that an attacker cannot turn against the account's owner."""

from __future__ import annotations

import threading

from tests.factories import assert_error_shape, register

PASSWORD = "correct horse battery"
ATTACKER = {"REMOTE_ADDR": "198.51.100.66"}
VICTIM = {"REMOTE_ADDR": "203.0.113.10"}


def _login(client, email, password, where):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password},
                       environ_base=where)


def test_victim_logs_in_while_an_attacker_hammers_their_email(client):
    register(client, "victim@example.com")
    statuses = [_login(client, "victim@example.com", f"guess {i} password", ATTACKER).status_code
                for i in range(25)]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    # Even the right password is refused from the attacker's address (it is being guessed)...
    assert_error_shape(_login(client, "victim@example.com", PASSWORD, ATTACKER), 429)
    # ...but the owner, from an address that has not failed, logs in.
    assert _login(client, "victim@example.com", PASSWORD, VICTIM).status_code == 201
    # And keeps logging in while the attack goes on.
    _login(client, "victim@example.com", "one more guess!", ATTACKER)
    assert _login(client, "victim@example.com", PASSWORD, VICTIM).status_code == 201


def test_an_address_failing_across_many_emails_is_slowed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "5 per minute")
    register(client, "spray@example.com")
    for i in range(5):
        assert _login(client, f"u{i}@example.com", "wrong password", ATTACKER).status_code == 401
    assert_error_shape(_login(client, "u9@example.com", "wrong password", ATTACKER), 429)
    assert _login(client, "spray@example.com", PASSWORD, VICTIM).status_code == 201


def test_failures_do_not_reveal_whether_the_email_exists(client):
    register(client, "real@example.com")
    known = _login(client, "real@example.com", "wrong password", VICTIM)
    unknown = _login(client, "ghost@example.com", "wrong password", VICTIM)
    assert known.status_code == unknown.status_code == 401
    assert known.get_json() == unknown.get_json()


def test_a_stolen_token_cannot_guess_the_password_without_limit(client):
    """Changing the password and closing the account check the current one: wrong guesses
    are limited per token, and the owner's own session is not slowed."""
    register(client, "held@example.com")
    stolen = _token(client, "held@example.com", ATTACKER)
    owner = _token(client, "held@example.com", VICTIM)
    change = [client.post("/api/v1/users/me/password", headers=stolen, json={
        "old_password": f"guess {i} password", "new_password": "new password 123"}).status_code
        for i in range(12)]
    assert change[:10] == [422] * 10 and set(change[10:]) == {429}
    close = client.delete("/api/v1/users/me", headers=stolen, json={"password": PASSWORD})
    assert_error_shape(close, 429)  # the right one too, from the guessing session
    assert client.get("/api/v1/users/me", headers=stolen).status_code == 200  # not closed
    # The owner changes the password from their own session (which logs the other out).
    assert client.post("/api/v1/users/me/password", headers=owner, json={
        "old_password": PASSWORD, "new_password": "owner new password"}).status_code == 204
    assert client.get("/api/v1/users/me", headers=stolen).status_code == 401


def test_form_errors_do_not_spend_the_owners_allowance(client):
    """Only password checks count: a too-short new password (422 from the schema) does not."""
    register(client, "typo@example.com")
    owner = _token(client, "typo@example.com", VICTIM)
    for _ in range(12):
        short = client.post("/api/v1/users/me/password", headers=owner, json={
            "old_password": PASSWORD, "new_password": "short"})
        assert "new_password" in assert_error_shape(short, 422)["errors"]
    assert client.post("/api/v1/users/me/password", headers=owner, json={
        "old_password": PASSWORD, "new_password": "a long enough one"}).status_code == 204


def test_parallel_guesses_cannot_overtake_the_count(app, client):
    """Counted before the check: 13 guesses at once get the allowance's 10 checks, no more
    (13: below the test pool's 15 connections)."""
    register(client, "burst@example.com")
    stolen = _token(client, "burst@example.com", ATTACKER)
    codes = _at_once(app, 13, lambda c, i: c.post("/api/v1/users/me/password", headers=stolen,
                     json={"old_password": f"parallel guess {i}", "new_password": "x" * 12}))
    assert sorted(codes) == [422] * 10 + [429] * 3


def test_a_burst_of_parallel_logins_cannot_overtake_the_pair_limit(app, client):
    """13 guesses at once from one address: the pair's 10 are checked (401), no more."""
    register(client, "rush@example.com")
    codes = _at_once(app, 13, lambda c, i: _login(c, "rush@example.com", f"burst guess {i}",
                                                  ATTACKER))
    assert sorted(codes) == [401] * 10 + [429] * 3
    assert _login(client, "rush@example.com", PASSWORD, VICTIM).status_code == 201


def _at_once(app, n, send) -> list[int]:
    """``send(client, i)`` from ``n`` threads released together; their status codes, sorted."""
    codes: list[int] = []
    start = threading.Barrier(n, timeout=30)

    def run(i):
        with app.test_client() as c:
            start.wait()
            codes.append(send(c, i).status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


def _token(client, email, where) -> dict:
    resp = _login(client, email, PASSWORD, where)
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}
