"""Test fixtures for both modes.

Embedded (no env): SQLite in a temp dir, jobs run in-process.
Real services: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set; tests marked
``services`` run only here, and with ``RELOOP_REQUIRE_SERVICES=1`` any skipped test fails the run.
"""

from __future__ import annotations

import os
import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from marketplace.app import create_app
from marketplace.core import db as core_db
from marketplace.core.config import _database_url
from marketplace.core.db import db
from marketplace.core.http import fastdump, fastload, respcache
from marketplace.core.http.limiter import limiter
from marketplace.core.jobs import QUEUES, redis_connection
from tests import factories
from workers.worker import AppSimpleWorker, use_app

DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = factories.REDIS_URL
SERVICES = bool(DATABASE_URL and REDIS_URL)
REQUIRE_SERVICES = os.environ.get("RELOOP_REQUIRE_SERVICES") == "1"

_skipped: list[str] = []


def pytest_configure(config):
    # Every response dumped by a compiled dumper is also dumped by marshmallow and compared,
    # in every test that makes a request.
    fastdump.VERIFY = True
    fastload.VERIFY = True
    # A GET or HEAD that writes through the session fails unless its view says it writes.
    core_db.CHECK_READS = True
    if REQUIRE_SERVICES and not SERVICES:
        raise pytest.UsageError("RELOOP_REQUIRE_SERVICES=1 needs DATABASE_URL and REDIS_URL")


def pytest_collection_modifyitems(config, items):
    if SERVICES:
        return
    skip = pytest.mark.skip(reason="needs real PostgreSQL and Redis (run .ci/run)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_SERVICES and _skipped:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if REQUIRE_SERVICES and _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped in the real-service run: "
            + ", ".join(_skipped), red=True)


def base_config(tmp_dir) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": (
            create_url(DATABASE_URL) if DATABASE_URL
            else f"sqlite:///{tmp_dir / 'test.sqlite3'}"
        ),
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "test-secret",
        "LOG_LEVEL": "WARNING",
        "STORAGE_URL": f"file://{tmp_dir / 'uploads'}",
        # Search pages are shared for SEARCH_CACHE_SECONDS by design (a listing's change shows
        # in search up to that late); tests of what search finds read it fresh.
        # tests/marketplace/listings/test_listing_cache.py turns it on.
        "SEARCH_CACHE_SECONDS": 0,
    }


def create_url(url: str) -> str:

    return _database_url(url)


@pytest.fixture(scope="session")
def app_config(tmp_path_factory):
    return base_config(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(app_config):
    app = create_app(app_config)
    with app.app_context():

        reset_schema()
        upgrade()
        downgrade(revision="base")  # every migration goes down as well as up
        upgrade()
    app.extensions["test_limiter_state"] = (limiter._storage, limiter._limiter, limiter.enabled)
    return app


def reset_schema() -> None:
    """Start from an empty database (a developer's test DB may hold an older schema)."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            tables = [r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"))]
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for name in tables:
                conn.execute(text(f'DROP TABLE "{name}"'))


def truncate_all() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(autouse=True)
def _clean(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        truncate_all()
        # Flask-Limiter keeps one storage per process: tests that build another app
        # (e.g. with an unreachable Redis) rebind it, so put the session app's back.
        limiter._storage, limiter._limiter, limiter.enabled = app.extensions["test_limiter_state"]
        limiter.reset()
        respcache.clear(app)
        if REDIS_URL:

            redis_connection(app).flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


def drain_in(app) -> int:
    """Run every queued job to completion in ``app`` (real RQ worker, in-process) when Redis
    is used. Jobs of this process run in ``app`` afterwards too (``use_app``)."""
    if not REDIS_URL:
        return 0
    use_app(app)
    with app.app_context():
        conn = redis_connection(app)
    worker = AppSimpleWorker(list(QUEUES), connection=conn, name=f"t-{uuid.uuid4().hex}")
    worker.work(burst=True, logging_level="WARNING")
    return 1


@pytest.fixture
def drain_jobs(app):
    """Run every queued job to completion (real RQ worker, in-process) when Redis is used."""
    return lambda: drain_in(app)


@pytest.fixture
def user_headers(client):
    user = factories.register(client)
    return factories.login(client, user["email"])


# Stripe fixtures (localstripe, live server, fake transfers), shared by payments and trades.
pytest_plugins = ["tests.stripe_fixtures", "tests.smtp_fixtures"]
