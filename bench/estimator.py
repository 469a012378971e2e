"""Benchmark of the footprint estimator: ``python bench/estimator.py [--rows N]``."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carbon.estimator import Device, estimate, estimate_batch, get_estimator
from carbon.estimator.calibration import fit
from carbon.estimator.reference import DATA_PATH, load_reference


def main() -> None:

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--single", type=int, default=20_000)
    args = ap.parse_args()

    t = time.perf_counter()
    rows = load_reference(DATA_PATH)
    fit(rows)
    print(f"start-up (load CSV + fit + interval calibration): "
          f"{(time.perf_counter() - t) * 1e3:.0f} ms")
    est = get_estimator()

    rng = np.random.default_rng(0)
    n = args.rows

    def some_missing(share, values):
        return np.where(rng.random(n) < share, np.nan, values)

    cols = {
        "category": rng.integers(0, 12, n),
        "screen_inches": some_missing(0.3, rng.uniform(5, 30, n)),
        "weight_kg": some_missing(0.5, rng.uniform(0.1, 10, n)),
        "storage_gb": some_missing(0.5, 2.0 ** rng.integers(5, 11, n)),
        "ram_gb": some_missing(0.7, 2.0 ** rng.integers(2, 6, n)),
        "release_year": some_missing(0.2, rng.integers(2015, 2026, n)),
        "brand": rng.integers(-1, len(est.model.brands), n),
        "keywords": rng.integers(0, 4, n),
        "ref_index": np.where(rng.random(n) < 0.3, rng.integers(0, len(est.rows), n), -1),
        "condition": rng.integers(0, 6, n),
        "age_years": some_missing(0.3, rng.uniform(0, 8, n)),
        "battery_health_pct": some_missing(0.5, rng.uniform(50, 100, n)),
        "channel": rng.integers(0, 3, n),
    }
    estimate_batch(**{k: v[:1000] for k, v in cols.items()})  # warm-up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        estimate_batch(**cols)
        times.append(time.perf_counter() - t)
    best = min(times)
    out = estimate_batch(**{k: v[:10] for k, v in cols.items()})
    print(f"estimate_batch: {n:,} rows in {best:.3f} s (best of 3) -> "
          f"{n / best:,.0f} estimates/s ({len(out)} output columns: embodied, avoided, "
          "e-waste and materials low/central/high, method)")

    devices = [
        Device("smartphone", "Apple", "iPhone 13 Pro", storage_gb=256, age_years=2),
        Device("smartphone", "Apple", "iPhone 13", storage_gb=128, condition="good",
               channel="refurbished"),
        Device("laptop", "Dell", "Latitude 5420", release_year=2021),
        Device("laptop", "Lenovo", "ThinkPad T14 Gen 3", screen_inches=14, weight_kg=1.3),
        Device("monitor", "Dell", "P2423 Monitor", condition="like_new",
               channel="local_pickup"),
        Device("console", "Sony", "PlayStation 5", age_years=3),
        Device("tablet", "Samsung", "Galaxy Tab S9", storage_gb=256, battery_health_pct=85),
    ]
    for d in devices:
        estimate(d)
    lat = []
    for i in range(args.single):
        d = devices[i % len(devices)]
        t = time.perf_counter_ns()
        estimate(d)
        lat.append(time.perf_counter_ns() - t)
    lat.sort()
    print(f"estimate() single in-process: median {statistics.median(lat) / 1e3:.1f} us, "
          f"p99 {lat[int(0.99 * len(lat))] / 1e3:.1f} us over {args.single:,} calls "
          "(warm name/match caches, 7 distinct devices)")
    many = devices * 1000
    t = time.perf_counter()
    est.resolve_devices(many)
    dt = time.perf_counter() - t
    print(f"resolve_devices (validation + string matching, warm caches): "
          f"{len(many) / dt:,.0f} devices/s")


if __name__ == "__main__":
    main()
