"""Demo data beyond users, extended as features land (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.extensions import db

PHOTO = "https://images.reloop.test/demo/{}.jpg"

# (seller email, listing body): realistic second-hand phones, laptops and tablets.
DEMO_LISTINGS: tuple[tuple[str, dict], ...] = (
    ("alice@reloop.test", {
        "title": "iPhone 13 128GB midnight, battery 88%",
        "description": "Always in a case, screen protector since day one. Charger not included.",
        "category": "smartphone", "brand": "Apple", "model": "iPhone 13", "storage_gb": 128,
        "release_year": 2021, "condition": "good", "battery_health_pct": 88,
        "price": {"amount": 39_000, "currency": "EUR"}, "photos": [PHOTO.format("iphone13")],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("alice@reloop.test", {
        "title": "MacBook Air M1 13-inch 8GB/256GB",
        "description": "Light office use, 212 battery cycles. Comes with the original box.",
        "category": "laptop", "brand": "Apple", "model": "MacBook Air (M1, 2020)",
        "storage_gb": 256, "ram_gb": 8, "screen_inches": 13.3, "release_year": 2020,
        "condition": "like_new", "battery_health_pct": 91,
        "price": {"amount": 62_000, "currency": "EUR"}, "photos": [PHOTO.format("mba-m1")],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("alice@reloop.test", {
        "title": "iPad (9th generation) 64GB Wi-Fi",
        "description": "Used by the kids for reading; small scratch on the back.",
        "category": "tablet", "brand": "Apple", "model": "iPad 9th generation",
        "storage_gb": 64, "screen_inches": 10.2, "release_year": 2021, "condition": "fair",
        "price": {"amount": 17_500, "currency": "EUR"}, "photos": [],
        "location": {"city": "Lyon", "country": "FR"}}),
    ("bob@reloop.test", {
        "title": "Samsung Galaxy S21 5G 128GB phantom grey",
        "description": "Unlocked, dual SIM. Minor wear on the frame, screen flawless.",
        "category": "smartphone", "brand": "Samsung", "model": "Galaxy S21 5G",
        "storage_gb": 128, "ram_gb": 8, "release_year": 2021, "condition": "good",
        "battery_health_pct": 84, "price": {"amount": 27_900, "currency": "EUR"},
        "photos": [PHOTO.format("s21")], "location": {"city": "Berlin", "country": "DE"}}),
    ("bob@reloop.test", {
        "title": "Lenovo ThinkPad T14 Gen 2, 16GB, 512GB SSD",
        "description": "Ex-company laptop, wiped and reinstalled. New keyboard fitted in 2024.",
        "category": "laptop", "brand": "Lenovo", "model": "ThinkPad T14 Gen 2",
        "storage_gb": 512, "ram_gb": 16, "screen_inches": 14, "release_year": 2021,
        "condition": "good", "price": {"amount": 48_000, "currency": "EUR"},
        "photos": [PHOTO.format("t14")], "location": {"city": "Berlin", "country": "DE"}}),
    ("bob@reloop.test", {
        "title": "Google Pixel 6a for parts (cracked screen)",
        "description": "Boots and charges, touch does not work in the lower third.",
        "category": "smartphone", "brand": "Google", "model": "Pixel 6a", "storage_gb": 128,
        "release_year": 2022, "condition": "for_parts",
        "price": {"amount": 4_500, "currency": "EUR"}, "photos": [],
        "location": {"city": "Berlin", "country": "DE"}}),
)


def run(echo: Callable[[str], None]) -> None:
    from marketplace.listings import services as listings
    from marketplace.listings.models import Listing

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
