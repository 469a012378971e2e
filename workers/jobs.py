"""Jobs: thin wrappers that take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from marketplace import outbox
from workers.decorators import job


# The queue a batch goes to is chosen per topic by the outbox (``enqueue(..., queue=)``);
# the default below only applies to direct ``.delay`` calls.
@job("default")
def process_outbox(message_ids: list[int]) -> int:
    return outbox.process(message_ids)


@job("periodic", timeout=600)
def reconcile_outbox() -> int:
    grace = timedelta(seconds=current_app.config["OUTBOX_GRACE_SECONDS"])
    return outbox.reconcile(grace)


@job("periodic")
def expire_offers() -> int:
    from marketplace.offers import services as offers

    return offers.expire_due()


@job("default", timeout=900)
def reestimate_listings(listing_ids: list[int]) -> int:
    from marketplace.listings import services as listings

    return listings.reestimate(listing_ids)
