"""``Idempotency-Key`` on a test-only blueprint registered on an app of its own."""

from __future__ import annotations

import threading
from datetime import timedelta

import marshmallow as ma
import pytest
from sqlalchemy import func, select, update

from marketplace.app import create_app
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict
from marketplace.core.http import idempotency
from marketplace.core.http.api import api
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.idempotency import IdempotencyKey
from marketplace.payments.stripe_client import PaymentDeclined, PaymentProviderUnavailable
from tests.factories import assert_error_shape, login, register

URL = "/api/v1/_test/things"

calls: list[str] = []
gate = threading.Event()
entered = threading.Event()


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True)
    n = ma.fields.Integer(dump_only=True)


blp = Blueprint("idempotency_test", __name__, url_prefix="/api/v1/_test")


@blp.route("/things", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ThingSchema)
@blp.response(201, ThingSchema)
def create_thing(data):
    """Create a thing (counts executions)."""
    calls.append(data["name"])
    if data["name"] == "conflict":
        raise Conflict("Things conflict.")
    if data["name"] == "slow":
        entered.set()
        gate.wait(10)
    return {"name": data["name"], "n": len(calls)}, 201, {"Location": f"{URL}/{len(calls)}"}


@blp.route("/payments/<string:outcome>", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200)
@blp.errors(402, 503)
def pay(outcome):
    """Domain payment errors in the standard shape."""
    calls.append(outcome)
    if outcome == "declined":
        raise PaymentDeclined("Your card was declined.", "card_declined", "insufficient_funds")
    raise PaymentProviderUnavailable()


@pytest.fixture(scope="module")
def idem_app(app, app_config):
    """An app of its own (the session app's routes are frozen once it has served)."""
    saved = (api._app, api.config, api.spec)
    test_app = create_app(app_config)
    api.register_blueprint(blp)
    yield test_app
    api._app, api.config, api.spec = saved


@pytest.fixture
def idem_client(idem_app):
    calls.clear()
    gate.clear()
    entered.clear()
    return idem_app.test_client()


@pytest.fixture
def headers(idem_client):
    user = register(idem_client)
    return login(idem_client, user["email"])


def post(client, headers, body, key="key-1", url=URL):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, json=body, headers={**headers, **extra})


def _keys(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(IdempotencyKey))


def test_without_a_key_every_request_runs(idem_client, headers):
    for _ in range(2):
        assert post(idem_client, headers, {"name": "a"}, key=None).status_code == 201
    assert calls == ["a", "a"]


def test_same_key_and_body_replays_the_first_response(idem_client, headers):
    first = post(idem_client, headers, {"name": "a"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # Same JSON, other key order and spacing: the same request.
    again = idem_client.post(URL, data='{ "name" :"a" }', content_type="application/json",
                             headers={**headers, "Idempotency-Key": "key-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() == {"name": "a", "n": 1}
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Content-Type"] == "application/json"
    assert calls == ["a"]


def test_same_key_with_another_body_is_422(idem_client, headers):
    post(idem_client, headers, {"name": "a"})
    body = assert_error_shape(post(idem_client, headers, {"name": "b"}), 422)
    assert "Idempotency-Key" in body["errors"]
    assert calls == ["a"]


def test_keys_are_per_user(idem_client, headers):
    post(idem_client, headers, {"name": "a"})
    other = login(idem_client, register(idem_client)["email"])
    resp = post(idem_client, other, {"name": "a"})
    assert resp.status_code == 201 and "Idempotent-Replayed" not in resp.headers
    assert calls == ["a", "a"]


def test_a_key_in_progress_is_409(idem_client, idem_app, headers):
    post(idem_client, headers, {"name": "a"})
    with idem_app.app_context():
        db.session.execute(update(IdempotencyKey).values(status="in_progress"))
        db.session.commit()
    assert_error_shape(post(idem_client, headers, {"name": "a"}), 409)
    assert calls == ["a"]


def test_a_stale_in_progress_key_is_taken_over(idem_client, idem_app, headers):
    post(idem_client, headers, {"name": "a"})
    with idem_app.app_context():
        db.session.execute(update(IdempotencyKey).values(
            status="in_progress", locked_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    assert post(idem_client, headers, {"name": "a"}).status_code == 201
    assert calls == ["a", "a"]
    replay = post(idem_client, headers, {"name": "a"})
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_expired_keys_start_afresh(idem_client, idem_app, headers):
    post(idem_client, headers, {"name": "a"})
    with idem_app.app_context():
        db.session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
        db.session.commit()
    resp = post(idem_client, headers, {"name": "b"})  # another body is fine once expired
    assert resp.status_code == 201 and "Idempotent-Replayed" not in resp.headers
    assert calls == ["a", "b"]
    with idem_app.app_context():
        row = db.session.scalars(select(IdempotencyKey)).one()
        assert row.expires_at > utcnow() + timedelta(hours=23)
        db.session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
        db.session.commit()
        assert idempotency.purge_expired() == 1


def test_a_failed_request_releases_its_key(idem_client, idem_app, headers):
    assert_error_shape(post(idem_client, headers, {"name": "conflict"}), 409)
    assert _keys(idem_app) == 0
    assert_error_shape(post(idem_client, headers, {"name": "conflict"}), 409)
    assert calls == ["conflict", "conflict"]  # ran again: nothing was stored


def test_invalid_input_releases_its_key(idem_client, idem_app, headers):
    assert_error_shape(post(idem_client, headers, {"nom": "a"}), 422)
    assert _keys(idem_app) == 0
    assert post(idem_client, headers, {"name": "a"}).status_code == 201


def test_provider_unavailable_is_503_and_releases_the_key(idem_client, idem_app, headers):
    resp = post(idem_client, headers, {}, url="/api/v1/_test/payments/unavailable")
    assert_error_shape(resp, 503)
    assert resp.headers["Retry-After"]
    assert _keys(idem_app) == 0


def test_declined_card_is_402(idem_client, headers):
    resp = post(idem_client, headers, {}, key=None, url="/api/v1/_test/payments/declined")
    body = assert_error_shape(resp, 402)
    assert body["status"] == "Payment Required"
    assert body["errors"] == {"code": "card_declined", "decline_code": "insufficient_funds"}


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "naïve"])
def test_bad_keys_are_422(idem_client, headers, key):
    resp = idem_client.post(URL, json={"name": "a"},
                            headers={**headers, "Idempotency-Key": key})
    assert_error_shape(resp, 422)
    assert calls == []


def test_anonymous_requests_are_refused_before_any_key_is_stored(idem_client, idem_app):
    resp = idem_client.post(URL, json={"name": "a"}, headers={"Idempotency-Key": "k"})
    assert_error_shape(resp, 401)
    assert _keys(idem_app) == 0


def test_concurrent_duplicates_do_not_both_run(idem_client, idem_app, headers):
    """The first request holds the key while it runs; a duplicate gets 409, not a second
    execution; once it finished, the duplicate is replayed."""
    results: dict[str, int] = {}

    def first():
        results["first"] = post(idem_app.test_client(), headers, {"name": "slow"}).status_code

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(10)
        assert_error_shape(post(idem_client, headers, {"name": "slow"}), 409)
    finally:
        gate.set()
        thread.join(10)
    assert results["first"] == 201
    assert post(idem_client, headers, {"name": "slow"}).headers["Idempotent-Replayed"] == "true"
    assert calls == ["slow"]


def test_openapi_documents_the_header(idem_client):
    spec = idem_client.get("/api/openapi.json").get_json()
    op = spec["paths"][URL]["post"]
    params = {p["name"]: p for p in op.get("parameters", [])}
    assert params["Idempotency-Key"]["in"] == "header"
    assert params["Idempotency-Key"]["required"] is False
    assert {"409", "422", "201", "401"} <= set(op["responses"])
    assert "requestBody" in op  # the body schema survived alongside the header
