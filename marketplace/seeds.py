"""Demo data beyond users, extended as features land (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from carbon.incentives import catalog, manage
from carbon.incentives.models import CatalogItem, IncentiveRule
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.listings import services as listings
from marketplace.listings.models import Listing
from marketplace.payments import payouts

PHOTO = "https://images.reloop.test/demo/{}.jpg"

# (seller email, listing body): realistic second-hand phones, laptops and tablets.
DEMO_LISTINGS: tuple[tuple[str, dict], ...] = (
    ("alice@reloop.test", {
        "title": "iPhone 15 128GB black, battery 91%",
        "description": "Always in a case, screen protector since day one. Charger not included.",
        "category": "smartphone", "brand": "Apple", "model": "iPhone 15", "storage_gb": 128,
        "release_year": 2023, "condition": "good", "battery_health_pct": 91,
        "price": {"amount": 52_000, "currency": "EUR"}, "photos": [PHOTO.format("iphone15")],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("alice@reloop.test", {
        "title": "MacBook Air M3 13-inch 8GB/256GB",
        "description": "Light office use, 212 battery cycles. Comes with the original box.",
        "category": "laptop", "brand": "Apple", "model": "MacBook Air (M3, 2024)",
        "storage_gb": 256, "ram_gb": 8, "screen_inches": 13.6, "release_year": 2024,
        "condition": "like_new", "battery_health_pct": 91,
        "price": {"amount": 78_000, "currency": "EUR"}, "photos": [PHOTO.format("mba-m3")],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("alice@reloop.test", {
        "title": "iPad Air 11-inch (M2) 128GB Wi-Fi",
        "description": "Used by the kids for reading; small scratch on the back.",
        "category": "tablet", "brand": "Apple", "model": "iPad Air 11-inch (M2)",
        "storage_gb": 128, "screen_inches": 11, "release_year": 2024, "condition": "good",
        "price": {"amount": 47_000, "currency": "EUR"}, "photos": [],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("bob@reloop.test", {
        "title": "Samsung Galaxy S23 128GB phantom black",
        "description": "Unlocked, dual SIM. Minor wear on the frame, screen flawless.",
        "category": "smartphone", "brand": "Samsung", "model": "Galaxy S23",
        "storage_gb": 128, "ram_gb": 8, "release_year": 2023, "condition": "good",
        "battery_health_pct": 87, "price": {"amount": 41_900, "currency": "EUR"},
        "photos": [PHOTO.format("s23")], "location": {"city": "Berlin", "country": "DE"}}),
    ("bob@reloop.test", {
        "title": "Lenovo ThinkPad T14 Gen 4, 16GB, 512GB SSD",
        "description": "Ex-company laptop, wiped and reinstalled. New keyboard fitted in 2025.",
        "category": "laptop", "brand": "Lenovo", "model": "ThinkPad T14 Gen 4",
        "storage_gb": 512, "ram_gb": 16, "screen_inches": 14, "release_year": 2023,
        "condition": "good", "price": {"amount": 69_000, "currency": "EUR"},
        "photos": [PHOTO.format("t14")], "location": {"city": "Berlin", "country": "DE"}}),
    ("bob@reloop.test", {
        "title": "Google Pixel 8 for parts (cracked screen)",
        "description": "Boots and charges, touch does not work in the lower third.",
        "category": "smartphone", "brand": "Google", "model": "Pixel 8", "storage_gb": 128,
        "release_year": 2023, "condition": "for_parts",
        "price": {"amount": 4_500, "currency": "EUR"}, "photos": [],
        "location": {"city": "Berlin", "country": "DE"}}),
)


def run(echo: Callable[[str], None]) -> None:
    for email, body in DEMO_LISTINGS:
        seller = db.session.scalar(select(User).where(User.email == email))
        if seller is None:
            continue
        exists = db.session.scalar(select(Listing.id).where(
            Listing.seller_id == seller.id, Listing.title == body["title"]))
        if exists is None:
            listing = listings.create(seller, dict(body))
            echo(f"seeded listing {listing.id}: {listing.title} "
                 f"({listing.footprint['avoided_kgco2e']['central']} kg CO2e avoided)")
    _seed_rules(echo)
    _seed_catalog(echo)
    _seed_payout_account(echo)


DEMO_PAYOUT_ACCOUNT = ("alice@reloop.test", "acct_reloopdemoalice")


def _seed_payout_account(echo: Callable[[str], None]) -> None:
    """Alice's payout account, as Stripe Connect onboarding would leave it: localstripe has
    no Connect (the demo's transfers go to ``workers/demo_stripe.py``'s stand-in), and the API
    never takes an account id from a client."""
    email, account_id = DEMO_PAYOUT_ACCOUNT
    alice = db.session.scalar(select(User).where(User.email == email))
    if alice is not None and payouts.payout_account(alice.id) is None:
        payouts.set_payout_account(alice.id, account_id)
        echo(f"seeded payout account {account_id} for {email}")


DEMO_RULES: tuple[dict, ...] = (
    {"name": "Every 5 kg saved: 50 points", "type": "threshold", "params": {"every_kg": 5},
     "reward": {"kind": "points", "amount": 50}, "valid_from": None, "valid_to": None,
     "caps": {"points_per_day": 500, "points_per_month": None, "budget_points": None},
     "active": True},
    {"name": "First trade badge", "type": "milestone", "params": {"event": "first_trade"},
     "reward": {"kind": "badge", "badge": "first-trade"}, "valid_from": None, "valid_to": None,
     "caps": {}, "active": True},
    {"name": "A tree every 17.9 kg", "type": "tree", "params": {"every_kg": 17.9},
     "reward": {"kind": "tree"}, "valid_from": None, "valid_to": None, "caps": {},
     "active": True},
)


def _seed_rules(echo: Callable[[str], None]) -> None:
    """A few incentive rules, so the demo's first trade earns something (only when none)."""
    if db.session.scalar(select(IncentiveRule.id).limit(1)) is not None:
        return
    for rule in DEMO_RULES:
        created = manage.create(dict(rule))
        echo(f"seeded incentive rule {created['id']}: {created['name']}")


# Vouchers points can be spent on (``POST /api/v1/rewards/redeem``): the cheapest is within
# reach of one trade of a laptop (about 25 kg for the buyer: 250 points under DEMO_RULES).
DEMO_CATALOG: tuple[dict, ...] = (
    {"name": "5 EUR off your next device", "cost_points": 200,
     "reward": {"kind": "voucher", "amount_off": 500, "currency": "EUR", "expires_days": 90}},
    {"name": "10% off your next device (up to 30 EUR)", "cost_points": 400,
     "reward": {"kind": "voucher", "percent_off": 10, "max_off": 3000, "currency": "EUR",
                "expires_days": 90}},
    {"name": "25 EUR off a device over 200 EUR", "cost_points": 1000,
     "reward": {"kind": "voucher", "amount_off": 2500, "currency": "EUR",
                "min_price": 20_000, "expires_days": 180}},
)


def _seed_catalog(echo: Callable[[str], None]) -> None:
    """A few reward catalogue items (vouchers), so the demo can redeem points (only when
    none exist)."""
    if db.session.scalar(select(CatalogItem.id).limit(1)) is not None:
        return
    for item in DEMO_CATALOG:
        created = catalog.create({**item, "reward": dict(item["reward"])})
        echo(f"seeded catalogue item {created.id}: {created.name} ({created.cost_points} points)")
