"""Reloop marketplace: the Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace import config as config_module
from marketplace import errors, logs
from marketplace.extensions import api, db, limiter, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from environment variables, with ``config`` overriding them."""
    values = config_module.from_env()
    values.update(config or {})
    values = config_module.finalize(values)

    app = Flask("marketplace", instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(values)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["int"] = errors.BoundedIntConverter
    logs.configure(app.config["LOG_LEVEL"])
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace import models  # noqa: F401  (every model, for metadata and migrations)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    api.init_app(app)
    limiter.init_app(app)
    errors.register(app, api)
    logs.init_app(app)

    from marketplace.routes import register_blueprints

    register_blueprints(api)

    from marketplace.cli import register_commands

    register_commands(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
