"""Every blueprint of the HTTP API."""

from __future__ import annotations


def register_blueprints(api) -> None:
    from carbon.footprints import blp as footprints_blp
    from carbon.incentives.views import blp as incentives_blp
    from carbon.ledger.views import blp as carbon_blp
    from marketplace.auth.views import blp as auth_blp
    from marketplace.health import blp as health_blp
    from marketplace.listings.views import blp as listings_blp
    from marketplace.offers.views import blp as offers_blp
    from marketplace.payments.views import blp as payments_blp
    from marketplace.profiles.views import blp as profiles_blp
    from marketplace.trades.views import blp as trades_blp

    for blp in (health_blp, auth_blp, footprints_blp, listings_blp, offers_blp,
                profiles_blp, payments_blp, trades_blp, carbon_blp, incentives_blp):
        api.register_blueprint(blp)
