"""Fixtures shared by the marketplace tests: a seller's listing and a buyer (offers, listings)."""

import pytest

from tests.factories import create_listing, make_user


@pytest.fixture
def deal(client):
    seller, s = make_user(client, "Seller")
    buyer, b = make_user(client, "Buyer")
    listing = create_listing(client, s)
    return {"seller": seller, "s": s, "buyer": buyer, "b": b, "listing": listing}
