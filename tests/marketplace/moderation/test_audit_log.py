"""The audit log view's query arguments."""

from __future__ import annotations

from tests.factories import assert_error_shape, make_admin, make_user

V1 = "/api/v1"
PASSWORD = "correct horse battery"


def test_audit_log_filters_by_actor(client, app):
    admin = make_admin(client, app)
    user, headers = make_user(client, "Paul", address=False)
    changed = client.post(f"{V1}/users/me/password", headers=headers, json={
        "old_password": PASSWORD, "new_password": "another password"})
    assert changed.status_code == 204
    resp = client.get(f"{V1}/admin/audit?actor_id={user['id']}", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    assert [e["action"] for e in resp.get_json()["items"]] == ["account.password_changed"]
    assert all(e["actor_id"] == user["id"] for e in resp.get_json()["items"])


def test_audit_log_refuses_bad_actor_ids(client, app):
    admin = make_admin(client, app)
    for bad in ("abc", "0", "-3", "1.5", str(2**63)):
        body = assert_error_shape(client.get(f"{V1}/admin/audit?actor_id={bad}",
                                             headers=admin), 422)
        assert "actor_id" in body["errors"], (bad, body)
