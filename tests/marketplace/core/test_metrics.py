"""/metrics: token-gated Prometheus text with request, outbox, queue and feature gauges;
Sentry reporting with the request id."""

import re

import pytest
import sentry_sdk
from flask import request
from sentry_sdk.transport import Transport

from marketplace.app import create_app
from marketplace.core import metrics, outbox
from marketplace.core.db import db
from tests.factories import REDIS_URL, create_listing, make_user

TOKEN = "metrics-secret-token"
# Sent to a failing view: none of it may reach Sentry. (Kept away from the view's source lines,
# which Sentry sends as context.)
_PRIVATE_BODY = {"email": "alice@example.com", "new_password": "N3w-Secret-pw!",
                 "current_password": "0ld-Secret-pw!", "display_name": "Alice Smith",
                 "phone": "+33 6 12 34 56 78"}
_PRIVATE_URL = "/boom/path-secret-token?email=bob%40example.com"
_PRIVATE_HEADERS = {"X-Request-ID": "req-sentry-2", "Cookie": "session=cookie-secret",
                    "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def metrics_app(app_config, app):
    # ``app`` (session fixture) has migrated the database this app shares.
    return create_app({**app_config, "METRICS_TOKEN": TOKEN})


def _sample(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            got = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in:\n{text}")


def test_metrics_is_404_without_a_configured_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_metrics_needs_the_token(metrics_app):
    c = metrics_app.test_client()
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_metrics_counts_requests_and_reads_the_gauges(metrics_app):
    c = metrics_app.test_client()
    _, headers = make_user(c)
    listing = create_listing(c, headers)
    for _ in range(3):
        assert c.get(f"/api/v1/listings/{listing['id']}").status_code == 200
    assert c.get("/api/v1/listings/999999999").status_code == 404
    with metrics_app.app_context():
        outbox.write("user.registered", {"user_id": 0})  # one record left pending
        db.session.commit()
    try:
        resp = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 200
        assert resp.mimetype == "text/plain"
        text = resp.get_data(as_text=True)
        rule = "/api/v1/listings/<int:listing_id>"
        assert _sample(text, "reloop_http_requests_total", endpoint=rule, status="200",
                       method="GET") >= 3
        assert _sample(text, "reloop_http_requests_total", endpoint=rule, status="404") >= 1
        assert _sample(text, "reloop_http_request_duration_seconds_count", endpoint=rule,
                       status="200") >= 3
        assert _sample(text, "reloop_outbox_pending", topic="user.registered") >= 1
        assert _sample(text, "reloop_outbox_oldest_age_seconds", topic="user.registered") >= 0
        assert _sample(text, "reloop_webhook_lag_seconds") >= 0
        assert _sample(text, "reloop_payouts_failed") >= 0
        assert _sample(text, "reloop_ledger_transactions_written") >= 0
        assert _sample(text, "reloop_rewards_written") >= 0
        assert _sample(text, "reloop_metrics_collector_errors") == 0
        if REDIS_URL:
            assert _sample(text, "reloop_queue_depth", queue="ledger") >= 0
            assert _sample(text, "reloop_queue_failed_jobs", queue="payments") >= 0
        else:
            assert "reloop_queue_depth" not in text
    finally:
        with metrics_app.app_context():
            db.session.query(outbox.OutboxMessage).filter(
                outbox.OutboxMessage.processed_at.is_(None),
                outbox.OutboxMessage.topic == "user.registered").delete()
            db.session.commit()


def _scrape(c) -> str:
    resp = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _count(text: str, **labels) -> float:
    try:
        return _sample(text, "reloop_http_requests_total", **labels)
    except AssertionError:
        return 0.0


def test_metrics_count_each_request_once_and_bound_the_method_label(metrics_app):
    c = metrics_app.test_client()
    before = _scrape(c)
    for _ in range(5):
        assert c.get("/healthz").status_code == 200
    for method in ("BREW", "PROPFIND", "X-ANY-TOKEN"):  # any token a client may send
        assert c.open("/healthz", method=method).status_code == 405
    after = _scrape(c)
    ok = {"endpoint": "/healthz", "status": "200", "method": "GET"}
    assert _count(after, **ok) - _count(before, **ok) == 5
    other = {"endpoint": "<unmatched>", "status": "405", "method": "other"}
    assert _count(after, **other) - _count(before, **other) == 3
    assert not re.search(r'method="(BREW|PROPFIND|X-ANY-TOKEN)"', after)


def test_requests_refused_before_the_view_are_counted(metrics_app):
    c = metrics_app.test_client()
    before = _scrape(c)
    for _ in range(2):
        assert c.get("/api/v1/listings?q=%00").status_code == 422  # the input guard
        assert c.post("/api/v1/auth/register", data=b"x" * (1024 * 1024 + 1)).status_code \
            == 413
    after = _scrape(c)
    for status, rule, method in (("422", "/api/v1/listings", "GET"),
                                 ("413", "/api/v1/auth/register", "POST")):
        labels = {"endpoint": rule, "status": status, "method": method}
        assert _count(after, **labels) - _count(before, **labels) == 2, labels


def test_made_up_methods_do_not_fill_the_metrics_cache(metrics_app):
    c = metrics_app.test_client()
    for i in range(300):
        assert c.open("/healthz", method=f"X{i}").status_code == 405
    assert {k[0] for k in metrics._children} <= metrics._METHODS | {"other"}
    assert ("other", "<unmatched>", 405) in metrics._children


@pytest.fixture
def sentry_app(app_config, app):
    """An app reporting to Sentry through a transport that records the envelopes."""
    events: list[str] = []

    class Recorder(Transport):
        def capture_envelope(self, envelope):
            events.append(envelope.serialize().decode())

    crash = create_app({**app_config, "SENTRY_DSN": "https://key@sentry.invalid/1",
                        "SENTRY_TRANSPORT": Recorder, "PROPAGATE_EXCEPTIONS": False})
    yield crash, events
    sentry_sdk.init(dsn=None)  # later tests report nothing


def test_sentry_reports_errors_with_the_request_id(sentry_app):
    crash, events = sentry_app

    @crash.route("/boom")
    def boom():
        raise RuntimeError("boom for sentry")

    resp = crash.test_client().get("/boom", headers={"X-Request-ID": "req-sentry-1"})
    assert resp.status_code == 500
    sentry_sdk.flush()
    found = [e for e in events if "boom for sentry" in str(e)]
    assert found, events
    assert "req-sentry-1" in str(found[0])


def test_sentry_reports_carry_no_body_query_path_or_locals(sentry_app):
    crash, events = sentry_app

    @crash.post("/boom/<string:secret>")
    def boom(secret):
        new_password = request.get_json()["new_password"]  # a local of the failing frame
        raise RuntimeError(f"boom with a local of {len(new_password)} characters")

    resp = crash.test_client().post(_PRIVATE_URL, json=_PRIVATE_BODY,
                                    headers=_PRIVATE_HEADERS)
    assert resp.status_code == 500
    sentry_sdk.flush()
    found = [e for e in events if "boom with a local" in e]
    assert found, events
    sent = "\n".join(found)
    assert "req-sentry-2" in sent and "/boom/<string:secret>" in sent
    for private in [*_PRIVATE_BODY.values(), "bob%40example.com", "bob@",
                    "path-secret-token", "cookie-secret", "203.0.113.9"]:
        assert private not in sent, private
