"""Jobs: thin wrappers that take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from rq import Retry

from marketplace import idempotency, outbox
from marketplace.payments import payouts
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


# Stripe down: retry over ~1.5 h; after that the periodic payout reconciler takes over.
@job("payments", retry=Retry(max=6, interval=[10, 30, 120, 600, 1800, 3600]))
def transfer_payout(payout_id: int) -> str:
    return payouts.transfer(payout_id)


@job("periodic", timeout=600)
def reconcile_payouts() -> int:
    grace = timedelta(seconds=current_app.config["OUTBOX_GRACE_SECONDS"])
    return payouts.reconcile(grace)


@job("periodic", timeout=600)
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


@job("periodic")
def expire_offers() -> int:
    from marketplace.offers import services as offers

    return offers.expire_due()


@job("periodic", timeout=600)
def advance_trades() -> int:
    from marketplace.trades import services as trades

    return trades.advance_due()


@job("default", timeout=900)
def reestimate_listings(listing_ids: list[int]) -> int:
    from marketplace.listings import services as listings

    return listings.reestimate(listing_ids)
