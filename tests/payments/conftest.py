"""The Stripe fixtures live in ``tests/stripe_fixtures.py`` (registered by ``tests/conftest.py``,
shared with the trades tests); helpers are re-exported here for the payments tests."""

from tests.stripe_fixtures import (  # noqa: F401
    STRIPE_KEY,
    WEBHOOK_SECRET,
    FakeTransfers,
    LocalStripe,
    event_payload,
    free_port,
    sign,
    wait_for,
)
