"""Login limits that an attacker cannot turn against the account's owner."""

from __future__ import annotations

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
