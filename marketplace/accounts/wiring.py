"""Wiring of the accounts feature: its API, its token resolver, what it writes, its CLI, its
share of data exports and erasure."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import cache, cli, export, me_views, personal_data, services, views
from marketplace.core import outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.core.http.auth import install_token_resolver


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    api.register_blueprint(me_views.blp)
    install_token_resolver(app, services.resolve_token)
    cache.register(app)
    outbox.declare_writes(app, services.REGISTERED_TOPIC, export.TOPIC)
    outbox.register_handler(app, export.TOPIC, export.enqueue_build, queue="default")
    registry.register_exporter(app, "profile", personal_data.export_profile)
    registry.register_exporter(app, "consents", personal_data.export_consents)
    registry.register_exporter(app, "sessions", personal_data.export_sessions)
    registry.register_eraser(app, "account", personal_data.erase)
    app.cli.add_command(cli.users_cli)
