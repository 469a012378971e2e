"""Brand / model normalisation and parsing of free-text storage and RAM ("SSD 256GB", "1TB")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

BRAND_ALIASES = {
    "apple inc": "apple", "apple computer": "apple",
    "hewlett packard": "hp", "hewlett-packard": "hp", "hp inc": "hp", "hpe": "hp",
    "dell technologies": "dell", "dell inc": "dell", "alienware": "dell",
    "lenovo group": "lenovo", "motorola": "lenovo",
    "samsung electronics": "samsung", "google llc": "google", "alphabet": "google",
    "microsoft corporation": "microsoft", "asustek": "asus", "asustek computer": "asus",
}

_SIZE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(gb|tb|go|to)\b(\s*(?:of\s+)?(?:unified\s+)?"
                   r"(?:memory|ram)\b)?", re.IGNORECASE)
_INCH = re.compile(r"(\d{1,3}(?:\.\d)?)\s*(?:-\s*)?(?:inch(?:es)?|in\b|\"|'')", re.IGNORECASE)
_GEN_ORD = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s*gen(?:eration)?\b")
_GEN_NUM = re.compile(r"\bgen(?:eration)?\.?\s*(\d{1,2})\b")
_TWO_IN_ONE = re.compile(r"\b2\s*-?\s*in\s*-?\s*1\b")
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?\+?")
_NOISE = re.compile(r"\b\d+(?:\.\d+)?\s*ghz\b|\b\d+\s*-?\s*core\b|\b\d+\s*mm\b")

# Words that describe a configuration, colour, connectivity or the category, not the model.
STOP_TOKENS = frozenset([
    "with", "and", "the", "of", "for", "a", "an", "inch", "in", "cpu", "gpu", "processor", "ssd",
    "hdd", "storage", "memory", "ram", "wi", "fi", "wifi", "cellular", "lte", "gps", "unified",
    "retina", "display", "monitor", "laptop", "notebook", "desktop", "pc", "computer",
    "smartphone", "phone", "tablet", "aluminum", "aluminium", "titanium", "stainless", "steel",
    "case", "sport", "band", "loop", "black", "white", "silver", "gold", "graphite", "blue", "red",
    "green", "pink", "purple", "midnight", "starlight", "grey", "gray", "space", "sierra",
    "alpine", "product", "unlocked", "dual", "sim",
])
# Tokens that distinguish models of a family: a near match may not add any of these.
TIER_TOKENS = frozenset([
    "mini", "max", "pro", "plus", "ultra", "xl", "lite", "fe", "air", "se", "s", "e", "x", "go",
    "neo", "edge", "fold", "flip", "note", "slim", "5g", "4g", "tower", "sff", "micro",
    "tiny", "aio", "all", "one", "2", "in", "1", "chromebook", "gaming", "workstation",
])

KEYWORDS: tuple[tuple[str, re.Pattern], ...] = (
    ("tower", re.compile(r"tower", re.IGNORECASE)),
    ("small_form_factor", re.compile(r"\bsff\b|small form", re.IGNORECASE)),
    ("micro", re.compile(r"micro|tiny|\bmini\b", re.IGNORECASE)),
    ("all_in_one", re.compile(r"all-in-one|\baio\b|imac", re.IGNORECASE)),
    ("workstation", re.compile(r"workstation|precision|zbook", re.IGNORECASE)),
    ("gaming", re.compile(r"gaming|alienware|legion|omen|\baw\d", re.IGNORECASE)),
    ("chromebook", re.compile(r"chromebook", re.IGNORECASE)),
    ("convertible", re.compile(r"2-in-1|x360|yoga|flex", re.IGNORECASE)),
    ("premium_tier", re.compile(r"\bpro\b|\bmax\b|ultra|\bxl\b", re.IGNORECASE)),
)
KEYWORD_NAMES = tuple(k for k, _ in KEYWORDS)


@lru_cache(maxsize=4096)
def normalise_brand(brand: str | None) -> str:
    if not brand:
        return ""
    b = re.sub(r"[^a-z0-9 -]+", " ", brand.lower()).strip()
    b = re.sub(r"\s+", " ", b)
    b = re.sub(r"\b(inc|corp|corporation|ltd|llc|co)\b\.?$", "", b).strip()
    return BRAND_ALIASES.get(b, b)


@dataclass(frozen=True, slots=True)
class ParsedName:
    key: str                     # sorted normalised tokens joined by spaces ("" if none)
    tokens: frozenset[str]
    storage_gb: float | None
    ram_gb: float | None
    screen_inches: float | None
    year: int | None
    keywords: int                # bitmask over KEYWORDS


def _gb(num: str, unit: str) -> float:
    v = float(num.replace(",", "."))
    return v * 1024.0 if unit.lower() in ("tb", "to") else v


def parse_size(text: str | None) -> float | None:
    """Parse a storage/RAM size: 'SSD 256GB' -> 256, '1TB' -> 1024, '16' -> 16 (GB)."""
    if not text:
        return None
    m = _SIZE.search(text)
    if m:
        return _gb(m.group(1), m.group(2))
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", text)
    return float(m.group(1)) if m else None


def keyword_mask(text: str) -> int:
    mask = 0
    for i, (_, pat) in enumerate(KEYWORDS):
        if pat.search(text):
            mask |= 1 << i
    return mask


@lru_cache(maxsize=16384)
def parse_model_name(name: str | None, brand: str = "") -> ParsedName:
    """Normalise a model name into a family key and the variant specs found in it."""
    if not name:
        return ParsedName("", frozenset(), None, None, None, None, 0)
    text = name.lower().replace("\u2011", "-").replace("\u2013", "-")
    kw = keyword_mask(text)
    storage = ram = None
    for m in _SIZE.finditer(text):
        v = _gb(m.group(1), m.group(2))
        if m.group(3):
            ram = v if ram is None else ram
        elif storage is None:
            storage = v
    text = _SIZE.sub(" ", text)
    text = _TWO_IN_ONE.sub(" convertible ", text)
    screen = None
    m = _INCH.search(text)
    if m:
        screen = float(m.group(1))
        text = _INCH.sub(" ", text)
    year = None
    m = _YEAR.search(text)
    if m:
        year = int(m.group(1))
        text = _YEAR.sub(" ", text)
    text = _NOISE.sub(" ", text)
    text = _GEN_ORD.sub(r" gen\1 ", text)
    text = _GEN_NUM.sub(r" gen\1 ", text)
    drop = STOP_TOKENS | set(brand.split()) if brand else STOP_TOKENS
    tokens = frozenset(t for t in _TOKEN.findall(text) if t not in drop)
    return ParsedName(" ".join(sorted(tokens)), tokens, storage, ram, screen, year, kw)


def release_year(date_text: str | None) -> int | None:
    """Year from a report date such as 'September 14 2021', '2021-7-7' or '2020'."""
    if not date_text:
        return None
    m = _YEAR.search(date_text)
    return int(m.group(1)) if m else None
