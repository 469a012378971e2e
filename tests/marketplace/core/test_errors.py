"""Every error status comes back in the one standard shape."""

import pytest

from marketplace.app import create_app
from tests.factories import assert_error_shape


def test_404_from_routing(client):
    body = assert_error_shape(client.get("/api/v1/nope"), 404)
    assert body["status"] == "Not Found"


def test_405_keeps_allow_header(client):
    resp = client.put("/api/v1/users/me")
    assert_error_shape(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_400_on_malformed_json(client):
    resp = client.post("/api/v1/auth/register", data="{not json",
                       headers={"Content-Type": "application/json"})
    assert resp.status_code in (400, 422)
    assert_error_shape(resp, resp.status_code)


def test_422_field_errors(client):
    body = assert_error_shape(client.post("/api/v1/auth/tokens", json={"email": 3}), 422)
    assert set(body["errors"]) == {"email", "password"}


@pytest.fixture
def boom_app(app_config):
    app = create_app({**app_config, "TESTING": False, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail /etc/passwd")

    return app


def test_500_never_leaks_a_stack_trace(boom_app):
    resp = boom_app.test_client().get("/boom")
    body = assert_error_shape(resp, 500)
    text = resp.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert body["status"] == "Internal Server Error"


def test_request_id_is_honoured_or_generated(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    for bad in ("has spaces; and <html>", "x" * 200):
        echoed = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32


def test_one_access_log_line_per_request(client, caplog):
    with caplog.at_level("INFO", logger="marketplace.access"):
        client.get("/healthz", headers={"X-Request-ID": "log-me"})
    records = [r for r in caplog.records if r.name == "marketplace.access"]
    assert len(records) == 1
    r = records[0]
    assert (r.method, r.route, r.status, r.request_id) == ("GET", "/healthz", 200, "log-me")
    assert r.duration_ms >= 0


def test_the_access_log_has_the_route_not_a_secret_in_the_path(client, caplog):
    # A data export's download link is its own credential: it must not reach the logs.
    secret = "eyJleHBvcnRfaWQiOjF9.secret-part-of-the-link"
    with caplog.at_level("INFO", logger="marketplace.access"):
        client.get(f"/api/v1/exports/{secret}")
        client.get("/api/v1/no-such-route/also-secret")
    records = [r for r in caplog.records if r.name == "marketplace.access"]
    assert [r.route for r in records] == ["/api/v1/exports/<string:token>", "<unmatched>"]
    for r in records:
        assert "secret" not in repr(vars(r))


def test_a_request_the_guard_refuses_keeps_its_request_id_and_log_line(client, caplog):
    with caplog.at_level("INFO", logger="marketplace.access"):
        resp = client.get("/api/v1/listings?q=%00", headers={"X-Request-ID": "refused-1"})
    assert resp.status_code == 422
    assert resp.headers["X-Request-ID"] == "refused-1"
    records = [r for r in caplog.records if r.name == "marketplace.access"]
    assert [(r.status, r.request_id) for r in records] == [(422, "refused-1")]
    assert records[0].duration_ms is not None
