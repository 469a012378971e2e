"""Wiring of the accounts feature: its API, its token resolver, what it writes, its CLI."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import cli, services, views
from marketplace.core import outbox
from marketplace.core.http.api import api
from marketplace.core.http.auth import install_token_resolver


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    install_token_resolver(app, services.resolve_token)
    outbox.declare_writes(app, services.REGISTERED_TOPIC)
    app.cli.add_command(cli.users_cli)
