"""Wiring of offers and counter-offers: the API, and what offers do when a listing changes."""

from __future__ import annotations

from flask import Flask

from marketplace.core import personal_data as registry
from marketplace.core.http.api import api
from marketplace.listings import hooks as listing_hooks
from marketplace.offers import personal_data, services, views


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    listing_hooks.on_closed(app, services.expire_for_listing)
    listing_hooks.lock_currency_while(app, services.has_open_offers)
    registry.register_exporter(app, "offers", personal_data.export)
    registry.register_eraser(app, "offers", personal_data.erase)
