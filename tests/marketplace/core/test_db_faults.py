"""Database faults: parameters never logged, bad values 422, dropped connections 503."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text, update

from marketplace.accounts.models import ApiToken, User
from marketplace.app import create_app
from marketplace.core.db import db
from tests import factories
from tests.factories import assert_error_shape


@pytest.fixture
def fault_app(app, app_config):
    fault_app = create_app({**app_config, "TESTING": False, "PROPAGATE_EXCEPTIONS": False})

    @fault_app.post("/fault/leak/<int:uid>")
    def leak(uid):
        user = db.session.get(User, uid)
        token = db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == uid)).first()
        # NOT NULL violated: an IntegrityError whose statement carries the hash and the token.
        db.session.execute(update(User).where(User.email != token.token_hash)
                           .values(password_hash=user.password_hash, display_name=None))
        return {}

    @fault_app.get("/fault/sleep")
    def sleep():
        db.session.execute(text("SELECT pg_sleep(30)"))
        return {}

    @fault_app.get("/fault/cast")
    def cast():
        db.session.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": "not a number"})
        return {}

    return fault_app


def test_sql_parameters_never_reach_the_logs(fault_app, caplog):
    client = fault_app.test_client()
    user = factories.register(client)
    headers = factories.login(client, user["email"])
    token = headers["Authorization"].split()[1]
    with fault_app.app_context():
        stored = db.session.get(User, user["id"])
        password_hash = stored.password_hash
        token_hash = db.session.scalars(
            db.select(ApiToken.token_hash).where(ApiToken.user_id == user["id"])).first()
        db.session.remove()
    with caplog.at_level("DEBUG"):
        resp = client.post(f"/fault/leak/{user['id']}")
    assert_error_shape(resp, 500)
    logged = caplog.text
    assert "UPDATE users" in logged  # the failure is logged, with its statement...
    assert "hide_parameters" in logged
    for secret in (password_hash, token_hash, token):  # ...but none of its parameters
        assert secret not in logged


@pytest.mark.services
def test_a_value_the_database_refuses_is_422_not_500(fault_app):
    body = assert_error_shape(fault_app.test_client().get("/fault/cast"), 422)
    assert "cannot be stored" in body["message"]


@pytest.mark.services
def test_connection_terminated_mid_request_is_503_then_recovers(fault_app, app_config):
    admin = create_engine(app_config["SQLALCHEMY_DATABASE_URI"], poolclass=None)
    result = {}

    def call():
        result["resp"] = fault_app.test_client().get("/fault/sleep")

    thread = threading.Thread(target=call)
    thread.start()
    killed = 0
    with admin.connect() as conn:
        for _ in range(400):
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query = 'SELECT pg_sleep(30)' AND pid <> pg_backend_pid()")).scalar()
            conn.commit()  # pg_stat_activity is a snapshot per transaction
            if killed:
                break
            time.sleep(0.05)
    thread.join(60)
    admin.dispose()
    assert killed == 1, (result.get("resp") and result["resp"].get_data(as_text=True))
    resp = result["resp"]
    assert_error_shape(resp, 503)
    assert resp.headers["Retry-After"]
    # The pool noticed (pre-ping / invalidation): the next request gets a live connection.
    assert fault_app.test_client().get("/api/v1/listings").status_code == 200


def _app_with_ping(app_config, idle_seconds: int):
    options = {"connect_args": {"application_name": "reloop-ping-test"}}
    return create_app({**app_config, "TESTING": False, "PROPAGATE_EXCEPTIONS": False,
                       "DATABASE_PING_IDLE_SECONDS": idle_seconds,
                       "SQLALCHEMY_ENGINE_OPTIONS": options})


def _kill_idle_pool(app_config) -> int:
    admin = create_engine(app_config["SQLALCHEMY_DATABASE_URI"], poolclass=None)
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'reloop-ping-test' AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    time.sleep(0.2)  # the backends exit
    return killed


@pytest.mark.services
def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(app_config):
    # Pinged when idle longer than DATABASE_PING_IDLE_SECONDS (0: every checkout).
    pinging = _app_with_ping(app_config, 0)
    client = pinging.test_client()
    assert client.get("/api/v1/listings").status_code == 200
    assert _kill_idle_pool(app_config) >= 1
    assert client.get("/api/v1/listings").status_code == 200
    with pinging.app_context():
        db.engine.dispose()


@pytest.mark.services
def test_a_busy_connection_is_not_pinged_and_a_dead_one_costs_one_503(app_config):
    # Used within DATABASE_PING_IDLE_SECONDS: no ping round trip. If the server closed it
    # meanwhile, that request is a 503 (never a 500) and the pool recovers for the next one.
    busy = _app_with_ping(app_config, 3600)
    client = busy.test_client()
    assert client.get("/api/v1/listings").status_code == 200
    assert _kill_idle_pool(app_config) >= 1
    resp = client.get("/api/v1/listings")
    assert_error_shape(resp, 503)
    assert client.get("/api/v1/listings").status_code == 200
    with busy.app_context():
        db.engine.dispose()


@pytest.mark.services
def test_a_dead_connection_under_a_hot_read_costs_one_503(app_config):
    # The listing detail and the carbon account read through core.hotread (the DBAPI cursor):
    # a connection the server closed is a 503 there too, and the pool recovers.
    busy = _app_with_ping(app_config, 3600)
    client = busy.test_client()
    user = factories.register(client)
    headers = factories.login(client, user["email"])
    for path, auth in (("/api/v1/carbon/account", headers), ("/api/v1/listings/1", {})):
        assert client.get(path, headers=auth).status_code in (200, 404)
        assert _kill_idle_pool(app_config) >= 1
        assert_error_shape(client.get(path, headers=auth), 503)
        assert client.get(path, headers=auth).status_code in (200, 404)
    with busy.app_context():
        db.engine.dispose()
