from marketplace.app import create_app
from tests.factories import REDIS_URL


def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok",
                               "queue": "ok" if REDIS_URL else "inline"}


def test_healthz_503_names_what_is_down(app_config):
    # Nothing listens on port 1: the queue is down, the database still fine.
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "unavailable", "database": "ok", "queue": "down"}


def test_healthz_503_when_database_is_down(app_config, tmp_path):
    app = create_app({**app_config, "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["database"] == "down"
