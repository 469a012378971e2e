"""Wiring of listings and search: the API, ``flask carbon reestimate``, ``flask search-bounds``."""

from __future__ import annotations

from flask import Flask

from carbon.commands import carbon_cli
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.listings import cache, cli, personal_data, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    cache.register(app)
    carbon_cli.add_command(cli.reestimate)
    app.cli.add_command(cli.search_bounds)
    registry.register_exporter(app, "listings", personal_data.export)
    registry.register_eraser(app, "listings", personal_data.erase)
