"""Redis down: the rate-limited endpoints fail closed (503), nothing falls back to counters
kept per process; other endpoints are unaffected."""

from __future__ import annotations

from marketplace.app import create_app
from tests.factories import assert_error_shape


def test_login_and_registration_fail_closed_when_redis_is_down(app, app_config):
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = down.test_client()
    for _ in range(3):  # no in-memory fallback kicks in after the first failure
        resp = client.post("/api/v1/auth/tokens", json={"email": "a@b.co", "password": "pw"})
        assert_error_shape(resp, 503)
        assert resp.headers["Retry-After"] == "10"
    resp = client.post("/api/v1/auth/register", json={
        "email": "new@b.co", "password": "long enough pw", "display_name": "N"})
    assert_error_shape(resp, 503)
    assert client.get("/api/v1/listings").status_code == 200
