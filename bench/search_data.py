"""Synthetic but realistic listings for the search benchmark, streamed to PostgreSQL COPY."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carbon import Device, estimate

# (category, brand, model, storage options, screen, release year, new price in EUR cents)
TEMPLATES = [
    ("smartphone", "Apple", "iPhone 15", (128, 256, 512), 6.1, 2023, 95_000),
    ("smartphone", "Apple", "iPhone 15 Pro", (128, 256, 512), 6.1, 2023, 120_000),
    ("smartphone", "Apple", "iPhone 14", (128, 256), 6.1, 2022, 80_000),
    ("smartphone", "Apple", "iPhone 13", (128, 256), 6.1, 2021, 70_000),
    ("smartphone", "Apple", "iPhone SE (3rd generation)", (64, 128), 4.7, 2022, 50_000),
    ("smartphone", "Samsung", "Galaxy S24", (128, 256), 6.2, 2024, 90_000),
    ("smartphone", "Samsung", "Galaxy S23", (128, 256), 6.1, 2023, 80_000),
    ("smartphone", "Samsung", "Galaxy A54", (128,), 6.4, 2023, 40_000),
    ("smartphone", "Google", "Pixel 8", (128, 256), 6.2, 2023, 70_000),
    ("smartphone", "Google", "Pixel 7a", (128,), 6.1, 2023, 45_000),
    ("smartphone", "Xiaomi", "Redmi Note 13", (128, 256), 6.67, 2024, 25_000),
    ("smartphone", "Fairphone", "Fairphone 5", (256,), 6.46, 2023, 70_000),
    ("smartphone", "OnePlus", "OnePlus 12", (256, 512), 6.82, 2024, 90_000),
    ("tablet", "Apple", "iPad Air 11-inch (M2)", (128, 256), 11.0, 2024, 70_000),
    ("tablet", "Apple", "iPad (10th generation)", (64, 256), 10.9, 2022, 50_000),
    ("tablet", "Apple", "iPad Pro 12.9-inch", (128, 256, 512), 12.9, 2022, 130_000),
    ("tablet", "Samsung", "Galaxy Tab S9", (128, 256), 11.0, 2023, 80_000),
    ("tablet", "Lenovo", "Tab P11", (64, 128), 11.0, 2023, 25_000),
    ("laptop", "Apple", "MacBook Air (M2, 2022)", (256, 512), 13.6, 2022, 120_000),
    ("laptop", "Apple", "MacBook Air (M3, 2024)", (256, 512), 13.6, 2024, 130_000),
    ("laptop", "Apple", "MacBook Pro 14-inch (M3)", (512, 1024), 14.2, 2023, 200_000),
    ("laptop", "Lenovo", "ThinkPad T14 Gen 4", (256, 512), 14.0, 2023, 130_000),
    ("laptop", "Lenovo", "ThinkPad X1 Carbon Gen 11", (512, 1024), 14.0, 2023, 180_000),
    ("laptop", "Dell", "XPS 13 9315", (256, 512), 13.4, 2022, 110_000),
    ("laptop", "Dell", "Latitude 5440", (256, 512), 14.0, 2023, 100_000),
    ("laptop", "HP", "EliteBook 840 G10", (256, 512), 14.0, 2023, 120_000),
    ("laptop", "Asus", "Zenbook 14 OLED", (512,), 14.0, 2023, 100_000),
    ("laptop", "Framework", "Laptop 13", (512, 1024), 13.5, 2023, 110_000),
    ("console", "Sony", "PlayStation 5", (825,), None, 2020, 50_000),
    ("console", "Nintendo", "Switch OLED", (64,), 7.0, 2021, 35_000),
    ("smartwatch", "Apple", "Watch Series 9", (64,), 1.9, 2023, 45_000),
    ("monitor", "Dell", "U2723QE", (None,), 27.0, 2022, 60_000),
    ("headphones", "Sony", "WH-1000XM5", (None,), None, 2022, 40_000),
    ("camera", "Fujifilm", "X-T30 II", (None,), 3.0, 2021, 90_000),
]
CONDITIONS = ("new", "like_new", "good", "fair", "for_parts")
CONDITION_P = (0.05, 0.25, 0.45, 0.2, 0.05)
CONDITION_PRICE = (0.9, 0.75, 0.6, 0.45, 0.15)
COLOURS = ("black", "white", "silver", "blue", "green", "graphite", "midnight", "starlight",
           "red", "purple", "gold", "grey")
PHRASES = (
    "Always kept in a case", "screen protector since day one", "original box included",
    "charger not included", "minor scratches on the back", "battery replaced last year",
    "keyboard shine on a few keys", "factory reset and ready to go", "invoice available",
    "small dent on one corner", "cracked screen but works", "unlocked for every network",
    "selling because I upgraded", "pick-up or shipping", "barely used, like new",
    "light office use only", "no repairs ever", "dual SIM", "comes with a spare cable",
    "warranty until next spring",
)
CITIES = (("Paris", "FR"), ("Lyon", "FR"), ("Berlin", "DE"), ("Munich", "DE"),
          ("Madrid", "ES"), ("Milan", "IT"), ("Amsterdam", "NL"), ("London", "GB"),
          ("Warsaw", "PL"), ("Lisbon", "PT"), ("Vienna", "AT"), ("Brussels", "BE"))
CURRENCIES = ("EUR",) * 8 + ("GBP", "PLN")
STATUS = ("active", "reserved", "sold", "withdrawn")
STATUS_P = (0.85, 0.03, 0.09, 0.03)

COLUMNS = ("id", "seller_id", "status", "version", "title", "description", "category",
           "brand", "model", "storage_gb", "ram_gb", "screen_inches", "release_year",
           "condition", "battery_health_pct", "price_amount", "price_currency", "photos",
           "city", "country", "search_doc", "embodied_low_g", "embodied_central_g",
           "embodied_high_g", "avoided_low_g", "avoided_central_g", "avoided_high_g",
           "footprint_method", "methodology_version", "footprint_assumptions",
           "matched_reference", "created_at", "updated_at", "sold_at")

_footprints: dict[tuple, tuple] = {}


def _footprint(t: int, storage, condition: str, year: int) -> tuple:
    key = (t, storage, condition, year)
    if key not in _footprints:
        cat, brand, model, _, screen, _, _ = TEMPLATES[t]
        est = estimate(Device(category=cat, brand=brand, model=model,
                              storage_gb=storage, screen_inches=screen, release_year=year,
                              condition=condition))
        grams = tuple(round(v * 1000) for v in (*est.embodied, *est.avoided))
        d = est.to_dict()
        _footprints[key] = (*grams, est.method, est.methodology_version,
                            json.dumps(d["assumptions"]),
                            json.dumps(d["matched_reference"]) if d["matched_reference"]
                            else r"\N")
    return _footprints[key]


def _n(v) -> str:
    return r"\N" if v is None else str(v)


def rows(start_id: int, count: int, sellers: int, seed: int, start: datetime):
    """Yield COPY text lines for listings ``start_id .. start_id + count - 1``."""
    rng = np.random.default_rng(seed)
    tpl = rng.integers(0, len(TEMPLATES), count)
    cond = rng.choice(len(CONDITIONS), count, p=CONDITION_P)
    status = rng.choice(len(STATUS), count, p=STATUS_P)
    seller = rng.integers(1, sellers + 1, count)
    colour = rng.integers(0, len(COLOURS), count)
    city = rng.integers(0, len(CITIES), count)
    cur = rng.integers(0, len(CURRENCIES), count)
    phrases = rng.integers(0, len(PHRASES), (count, 3))
    noise = rng.uniform(0.8, 1.2, count)
    pick = rng.random(count)
    battery = rng.integers(70, 101, count)
    year_shift = rng.integers(0, 2, count)
    for i in range(count):
        t = int(tpl[i])
        cat, brand, model, storages, screen, year, new_price = TEMPLATES[t]
        storage = storages[int(pick[i] * len(storages))]
        c = int(cond[i])
        condition = CONDITIONS[c]
        release = min(year + int(year_shift[i]), 2025)
        price = max(100, int(new_price * CONDITION_PRICE[c] * noise[i]) // 100 * 100)
        title = f"{brand} {model}" + (f" {storage}GB" if storage else "") \
            + f" {COLOURS[colour[i]]}"
        desc = ". ".join(PHRASES[p] for p in phrases[i]) + "."
        lid = start_id + i
        created = start + timedelta(seconds=lid * 7)
        st = STATUS[status[i]]
        fp = _footprint(t, storage, condition, release)
        city_name, country = CITIES[city[i]]
        text = f"{title} {desc} {brand} {model}".lower()
        yield "\t".join((
            str(lid), str(seller[i]), st, "1", title, desc, cat, brand, model,
            _n(storage), r"\N", _n(screen), str(release), condition,
            str(battery[i]) if cat in ("smartphone", "tablet", "laptop") else r"\N",
            str(price), CURRENCIES[cur[i]], f'["https://img.reloop.test/{lid}.jpg"]',
            city_name, country, text, *map(str, fp[:6]), fp[6], fp[7], fp[8], fp[9],
            created.isoformat(), created.isoformat(),
            created.isoformat() if st == "sold" else r"\N",
        )) + "\n"


def start_time() -> datetime:
    return datetime(2025, 1, 1, tzinfo=UTC)
