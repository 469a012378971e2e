"""Redis down: login fails closed (503), not per-process counters; registration falls back
to per-process counters and keeps working; other endpoints are unaffected."""

from __future__ import annotations

from marketplace.app import create_app
from tests.factories import assert_error_shape


def test_login_fails_closed_when_redis_is_down(app, app_config):
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = down.test_client()
    resp = client.post("/api/v1/auth/register", json={
        "email": "new@b.co", "password": "long enough pw", "display_name": "N"})
    assert resp.status_code == 202, resp.get_json()  # accepted (the email says the rest)
    for password in ("wrong", "long enough pw", "wrong"):  # right or wrong: no login
        resp = client.post("/api/v1/auth/tokens", json={"email": "new@b.co",
                                                        "password": password})
        assert_error_shape(resp, 503)
        assert resp.headers["Retry-After"] == "10"
    assert client.get("/api/v1/listings").status_code == 200
