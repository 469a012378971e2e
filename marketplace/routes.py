"""Every blueprint of the HTTP API."""

from __future__ import annotations


def register_blueprints(api) -> None:
    from carbon.ledger.views import blp as carbon_blp
    from marketplace.auth.views import blp as auth_blp
    from marketplace.health import blp as health_blp

    for blp in (health_blp, auth_blp, carbon_blp):
        api.register_blueprint(blp)
