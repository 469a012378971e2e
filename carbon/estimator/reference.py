"""Loading the shipped PCF reference data and matching devices to reference rows."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from carbon.estimator.codes import screen_from_name
from carbon.estimator.names import (
    TIER_TOKENS,
    ParsedName,
    normalise_brand,
    parse_model_name,
    parse_size,
    release_year,
)

# A stated error ratio above 1 (one report declares 3.3) would give a negative low bound.
MIN_LOW_RATIO = 0.1
DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "device-footprints.csv"

_SUBCATEGORY = {
    "laptop": "laptop", "desktop": "desktop", "workstation": "desktop", "monitor": "monitor",
    "smartphone": "smartphone", "tablet": "tablet", "thin client": "other",
    "iot": "other", "multimedia": "other", "entertainment": "other",
    "entertainmentt": "other", "gaming": "other", "network": "other",
}


def _float(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def map_category(subcategory: str, name: str) -> str | None:
    """Map a Boavizta (sub)category + name to an API category; None = not a consumer device."""
    n = name.lower()
    if "watch" in n:
        return "smartwatch"
    if "xbox" in n or "playstation" in n:
        return "console"
    if "daydream" in n:
        return "vr_headset"
    return _SUBCATEGORY.get(subcategory.strip().lower())


@dataclass(frozen=True, slots=True)
class RefRow:
    """One reference row with a computable embodied footprint."""
    index: int                  # position in the reference table
    line: int                   # line number in the CSV file
    category: str
    manufacturer: str
    name: str
    source_url: str
    group: str                  # sources_hash: one PCF document
    brand: str                  # normalised brand
    parsed: ParsedName
    embodied: float             # gwp_total * (1 - gwp_use_ratio), kg CO2e
    error_ratio: float          # manufacturer's stated uncertainty (0 if missing)
    screen_inches: float | None
    storage_gb: float | None
    ram_gb: float | None
    weight_kg: float | None
    year: int | None


def load_reference(path: Path | str = DATA_PATH) -> list[RefRow]:
    """Rows of the CSV with a known category and computable embodied footprint.

    Rows without ``gwp_use_ratio`` (the embodied share is then unknown) and datacenter /
    printer rows are left out.
    """
    out: list[RefRow] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            cat = map_category(r["subcategory"], r["name"])
            total, use = _float(r["gwp_total"]), _float(r["gwp_use_ratio"])
            if cat is None or total is None or use is None or not (0 <= use < 1):
                continue
            embodied = total * (1.0 - use)
            if embodied <= 0:
                continue
            brand = normalise_brand(r["manufacturer"])
            parsed = parse_model_name(r["name"], brand)
            screen = _float(r["screen_size"])
            storage = parse_size(r["hard_drive"])
            ram = parse_size(r["memory"])
            weight = _float(r["weight"])
            out.append(RefRow(
                index=len(out), line=line, category=cat, manufacturer=r["manufacturer"],
                name=r["name"], source_url=r["sources"].strip(), group=r["sources_hash"],
                brand=brand, parsed=parsed, embodied=embodied,
                error_ratio=_float(r["gwp_error_ratio"]) or 0.0,
                screen_inches=screen or parsed.screen_inches or screen_from_name(r["name"], cat),
                storage_gb=storage if storage else parsed.storage_gb,
                ram_gb=ram if ram else parsed.ram_gb,
                weight_kg=weight if weight else None,
                year=release_year(r["report_date"]) or parsed.year,
            ))
    return out


@dataclass(frozen=True, slots=True)
class Match:
    central: float              # kg CO2e
    lo_ratio: float             # low / central from the reference itself (variants, error)
    hi_ratio: float
    row: RefRow                 # the (nearest) matched reference row
    how: str                    # 'exact', 'interpolated', 'variants', 'near'


def _nearest(rows: list[RefRow], attr: str, value: float | None, log: bool) -> list[RefRow]:
    if value is None:
        return rows
    have = [r for r in rows if getattr(r, attr) is not None]
    if not have:
        return rows

    def dist(r: RefRow) -> float:
        v = getattr(r, attr)
        return abs(math.log2(v / value)) if log and v > 0 and value > 0 else abs(v - value)

    best = min(dist(r) for r in have)
    return [r for r in have if dist(r) <= best + 1e-9]


class ReferenceIndex:
    """Dict-based index: (category, brand, family key) -> variant rows."""

    def __init__(self, rows: list[RefRow]):
        self.rows = rows
        self.families: dict[tuple[str, str, str], list[RefRow]] = {}
        self.by_brand: dict[tuple[str, str], list[tuple[frozenset[str], str]]] = {}
        for r in rows:
            if not r.parsed.key:
                continue
            k = (r.category, r.brand, r.parsed.key)
            if k not in self.families:
                self.families[k] = []
                self.by_brand.setdefault((r.category, r.brand), []).append(
                    (r.parsed.tokens, r.parsed.key))
            self.families[k].append(r)
        self._cache: dict[tuple, Match | None] = {}

    def family(self, category: str, brand: str, parsed: ParsedName) -> list[RefRow] | None:
        rows = self.families.get((category, brand, parsed.key))
        if rows is not None or not parsed.tokens:
            return rows
        # Near match: a unique family whose name adds only non-distinguishing words.
        cands = []
        for tokens, key in self.by_brand.get((category, brand), ()):
            if parsed.tokens <= tokens:
                extra = tokens - parsed.tokens
                if all(t.isalpha() and len(t) >= 3 and t not in TIER_TOKENS for t in extra):
                    cands.append(key)
        if len(cands) == 1:
            return self.families[(category, brand, cands[0])]
        return None

    def match(self, category: str, brand: str, parsed: ParsedName, storage: float | None,
              screen: float | None, year: float | None, ram: float | None) -> Match | None:
        if not brand or not parsed.key:
            return None
        ck = (category, brand, parsed.key, storage, screen, year, ram)
        if ck in self._cache:
            return self._cache[ck]
        m = None
        rows = self.family(category, brand, parsed)
        if rows:
            m = self._pick(rows, storage, screen, year, ram)
        if len(self._cache) < 100_000:
            self._cache[ck] = m
        return m

    @staticmethod
    def _pick(rows: list[RefRow], storage, screen, year, ram) -> Match:
        rows = _nearest(rows, "screen_inches", screen, log=False)
        rows = _nearest(rows, "year", year, log=False)
        rows = _nearest(rows, "ram_gb", ram, log=True)
        err = max(r.error_ratio for r in rows)
        lo_err = max(1 - err, MIN_LOW_RATIO)
        sized = sorted((r for r in rows if r.storage_gb), key=lambda r: r.storage_gb)
        if storage and sized:
            below = [r for r in sized if r.storage_gb <= storage]
            above = [r for r in sized if r.storage_gb >= storage]
            if below and above:
                lo, hi = below[-1], above[0]
                e_lo = _mean_embodied(sized, lo.storage_gb)
                e_hi = _mean_embodied(sized, hi.storage_gb)
                if lo.storage_gb == hi.storage_gb:
                    return Match(e_lo, lo_err, 1 + err, lo, "exact")
                t = math.log2(storage / lo.storage_gb) / math.log2(hi.storage_gb / lo.storage_gb)
                near = lo if t <= 0.5 else hi
                return Match(e_lo + t * (e_hi - e_lo), lo_err, 1 + err, near, "interpolated")
            near = below[-1] if below else above[0]
            return Match(_mean_embodied(sized, near.storage_gb), lo_err, 1 + err, near,
                         "nearest-variant")
        vals = sorted(r.embodied for r in rows)
        central = _median(vals)
        row = min(rows, key=lambda r: abs(r.embodied - central))
        how = "exact" if vals[0] == vals[-1] else "variants"
        return Match(central, vals[0] / central * lo_err, vals[-1] / central * (1 + err),
                     row, how)


def _mean_embodied(rows: list[RefRow], storage: float) -> float:
    vals = [r.embodied for r in rows if r.storage_gb == storage]
    return sum(vals) / len(vals)


def _median(vals: list[float]) -> float:
    n = len(vals)
    return vals[n // 2] if n % 2 else 0.5 * (vals[n // 2 - 1] + vals[n // 2])
