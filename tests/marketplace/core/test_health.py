from sqlalchemy import event

from marketplace.app import create_app
from marketplace.core.db import db
from tests.factories import REDIS_URL


def test_healthz_is_liveness_only_and_touches_no_database(client, app):
    statements = []

    def count(*args):
        statements.append(args)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get("/healthz")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert statements == []


def test_healthz_stays_200_while_dependencies_are_down(app_config, tmp_path):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_ok(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok",
                               "queue": "ok" if REDIS_URL else "inline"}


def test_readyz_503_names_what_is_down(app_config):
    # Nothing listens on port 1: the queue is down, the database still fine.
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert resp.get_json() == {"status": "unavailable", "database": "ok", "queue": "down"}


def test_readyz_503_when_database_is_down(app_config, tmp_path):
    app = create_app({**app_config, "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["database"] == "down"
