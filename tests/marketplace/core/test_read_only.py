"""Read-only views run their statements in autocommit on PostgreSQL (no BEGIN, no ROLLBACK);
every other view, and every non-GET request, in a transaction. The test suite fails a
read-only request that writes or locks rows through the session."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import jsonify
from sqlalchemy import event, select, text, update

from marketplace.accounts.models import User
from marketplace.app import create_app
from marketplace.core.db import WriteOnRead, db, read_only
from marketplace.core.hotread import HotRead

_ONE = HotRead(select(User.id).where(User.id == -1))


@pytest.fixture(scope="module")
def probe_app(app, app_config):  # (app: the schema is migrated)
    app = create_app({**app_config, "TESTING": True})

    def state():
        db.session.execute(text("SELECT 1"))
        dbapi = db.session.connection().connection.dbapi_connection
        return jsonify({"autocommit": bool(getattr(dbapi, "autocommit", False))})

    def write():
        db.session.execute(update(User).where(User.id == -1).values(display_name="x"))
        db.session.commit()
        return jsonify({"wrote": True})

    def lock():
        db.session.execute(select(User.id).with_for_update())
        return jsonify({"locked": True})

    def hot_then_orm():
        _ONE.first()
        _ONE.first()
        db.session.execute(select(User.id).limit(1)).all()
        _ONE.first()
        return jsonify({"ok": True})

    app.add_url_rule("/probe/hot-then-orm", "probe_hot_then_orm", read_only(hot_then_orm),
                     methods=["GET"])
    app.add_url_rule("/probe/plain", "probe_plain", state, methods=["GET", "POST"])
    app.add_url_rule("/probe/read-only", "probe_read_only", read_only(
        lambda: state()), methods=["GET", "POST"])
    app.add_url_rule("/probe/write", "probe_write", read_only(lambda: write()),
                     methods=["GET", "POST"])
    app.add_url_rule("/probe/write-unmarked", "probe_write_unmarked", write, methods=["GET"])
    app.add_url_rule("/probe/lock", "probe_lock", read_only(lambda: lock()), methods=["GET"])
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


def test_a_read_only_view_that_writes_or_locks_fails_the_suite(probe_app):
    client = probe_app.test_client()
    with pytest.raises(WriteOnRead):
        client.get("/probe/write")
    with pytest.raises(WriteOnRead):
        client.get("/probe/lock")
    assert client.post("/probe/write").json == {"wrote": True}  # not a GET: a transaction
    assert client.get("/probe/write-unmarked").json == {"wrote": True}


def test_the_hot_read_views_are_marked_read_only(probe_app):
    views = probe_app.view_functions
    for endpoint in ("listings.get_listing", "listings.search_listings", "carbon.my_account",
                     "carbon.my_entries", "carbon.my_summary", "trades.list_trades",
                     "notifications.my_notifications", "conversations.my_conversations",
                     "conversations.get_conversation", "conversations.conversation_messages",
                     "offers.list_offers", "offers.get_offer"):
        assert getattr(views[endpoint], "_reloop_read_only", False), endpoint


@contextmanager
def watch_pool(app):
    """Checkouts from the pool, the most connections checked out at once, and those out."""
    with app.app_context():
        engine = db.engine
    use = {"checkouts": 0, "out": 0, "max_out": 0}

    def checkout(*_):
        use["checkouts"] += 1
        use["out"] += 1
        use["max_out"] = max(use["max_out"], use["out"])

    def checkin(*_):
        use["out"] -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield use
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


@pytest.mark.services
def test_a_read_only_request_holds_one_connection_at_a_time(probe_app):
    with watch_pool(probe_app) as use:
        assert probe_app.test_client().get("/probe/hot-then-orm").json == {"ok": True}
    # Hot reads, then the session, then a hot read in the session's connection: never two
    # connections at once (the pool sizes of docs/scaling.md count on it), none left out.
    assert (use["max_out"], use["out"]) == (1, 0)
