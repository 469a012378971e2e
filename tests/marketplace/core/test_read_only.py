"""Read-only views run their statements in autocommit on PostgreSQL (no BEGIN, no ROLLBACK);
every other view, and every non-GET request, in a transaction."""

from __future__ import annotations

import pytest
from flask import jsonify
from sqlalchemy import text

from marketplace.app import create_app
from marketplace.core.db import db, read_only


@pytest.fixture(scope="module")
def probe_app(app_config):
    app = create_app({**app_config, "TESTING": True})

    def state():
        db.session.execute(text("SELECT 1"))
        dbapi = db.session.connection().connection.dbapi_connection
        return jsonify({"autocommit": bool(getattr(dbapi, "autocommit", False))})

    app.add_url_rule("/probe/plain", "probe_plain", state, methods=["GET", "POST"])
    app.add_url_rule("/probe/read-only", "probe_read_only", read_only(
        lambda: state()), methods=["GET", "POST"])
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.services
def test_a_read_only_view_reads_in_autocommit_and_others_in_a_transaction(probe_app):
    client = probe_app.test_client()
    assert client.get("/probe/read-only").json == {"autocommit": True}
    assert client.get("/probe/plain").json == {"autocommit": False}
    assert client.post("/probe/read-only").json == {"autocommit": False}  # GET/HEAD only
    # The pooled connection is back in transaction mode for the next request.
    assert client.get("/probe/plain").json == {"autocommit": False}


def test_the_hot_read_views_are_marked_read_only(probe_app):
    views = probe_app.view_functions
    for endpoint in ("listings.get_listing", "listings.search_listings", "carbon.my_account"):
        assert getattr(views[endpoint], "_reloop_read_only", False), endpoint
