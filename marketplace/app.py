"""The Flask application factory: the one place that wires the platform and the features.

Each feature exposes ``register(app)`` (its ``wiring`` module), which registers its
blueprints, outbox handlers and the topics it writes, Stripe event handlers, ledger checks and
CLI commands explicitly. After wiring, start-up fails loudly if an outbox topic that code
writes has no handler, or a Stripe event type the app subscribes to has none.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from carbon import commands as carbon_commands
from carbon import footprints
from carbon.incentives import wiring as incentives
from carbon.ledger import wiring as ledger
from marketplace import cli
from marketplace.accounts import wiring as accounts
from marketplace.addresses import wiring as addresses
from marketplace.conversations import wiring as conversations
from marketplace.core import config as config_module
from marketplace.core import db as database
from marketplace.core import (
    errors,
    events,
    health,
    jobs,
    logs,
    mail,
    metrics,
    ops_gauges,
    outbox,
    realtime,
    sentry,
)
from marketplace.core.http import (
    cors,
    docs_assets,
    etag,
    guards,
    jsonprovider,
    respcache,
    sessions,
)
from marketplace.core.http.api import api
from marketplace.core.http.flaskapp import App
from marketplace.core.http.limiter import fail_closed, limiter
from marketplace.devices import wiring as devices
from marketplace.impact import wiring as impact
from marketplace.listings import wiring as listings
from marketplace.moderation import wiring as moderation
from marketplace.notifications import wiring as notifications
from marketplace.offers import wiring as offers
from marketplace.organisations import wiring as organisations
from marketplace.payments import webhooks
from marketplace.payments import wiring as payments
from marketplace.profiles import wiring as profiles
from marketplace.recycling import wiring as recycling
from marketplace.trades import wiring as trades
from marketplace.uploads import wiring as uploads
from marketplace.webhooks import wiring as partner_webhooks

# In registration order (the order of the OpenAPI document's tags).
FEATURES = (accounts, notifications, footprints, organisations, uploads, devices, listings,
            conversations, offers, profiles, payments, addresses, trades, moderation, recycling,
            ledger, incentives, impact, partner_webhooks)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from environment variables, with ``config`` overriding them."""
    values = config_module.from_env()
    values.update(config or {})
    values = config_module.finalize(values)

    app = App("marketplace", instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(values)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    jsonprovider.init_app(app)
    app.url_map.converters["int"] = errors.BoundedIntConverter
    logs.configure(app.config["LOG_LEVEL"])
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    database.init_app(app)
    sessions.init_app(app)
    guards.init_app(app)
    outbox.init_app(app)
    jobs.init_app(app)
    realtime.init_app(app)
    api.init_app(app)
    limiter.init_app(app)
    fail_closed(app)
    errors.register(app, api)
    logs.init_app(app)
    metrics.init_app(app)
    metrics.register_gauges(app, ops_gauges.outbox)
    metrics.register_gauges(app, ops_gauges.queues)
    sentry.init_app(app)
    cors.init_app(app)
    etag.init_app(app)
    respcache.init_app(app)

    api.register_blueprint(health.blp)
    app.register_blueprint(docs_assets.blp)
    mail.register(app)
    events.register(app)
    carbon_commands.register(app)
    app.cli.add_command(cli.seed)
    for feature in FEATURES:
        feature.register(app)

    outbox.check(app)
    webhooks.check(app)
    return app
