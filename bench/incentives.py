"""Benchmark of incentives: ``python bench/incentives.py [--accounts N] [--trades N]``.

1. Simulation: synthetic credit history of ``--accounts`` accounts over a year (about 12
   credits each, so ~12M rows for 1,000,000 accounts, generated with numpy), then
   ``simulate_arrays`` timed for each rule type (target: ≤ 2 s at 1,000,000 accounts).
2. Per-credit evaluation on PostgreSQL (database ``reloop_incentives_bench``, dropped and
   re-created): ``--trades`` completed trades credited one job per trade (the latency case),
   then their ``incentives.evaluate`` jobs run with five active rules, and again with none;
   reported as median / p95 per job next to the credit job itself, and the per-credit
   overhead (median with rules minus without; target: evaluation adds ≤ 5 ms to a credit).
   Then, in each case, one batch of 2,000 credits and their evaluation in one batch job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psycopg
from flask_migrate import upgrade
from sqlalchemy import select

from carbon.incentives import manage
from carbon.incentives.rules import validate_rule
from carbon.incentives.simulate import History, simulate_arrays
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/reloop_incentives_bench"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
CATS = ["smartphone", "laptop", "tablet", "console", "monitor", "smartwatch"]

RULES = [
    {"name": "threshold 10 kg", "type": "threshold", "params": {"every_kg": 10},
     "reward": {"kind": "points", "amount": 100}},
    {"name": "threshold 5 kg, caps + budget", "type": "threshold", "params": {"every_kg": 5},
     "reward": {"kind": "points", "amount": 50},
     "caps": {"points_per_day": 100, "points_per_month": 300, "budget_points": 100_000_000}},
    {"name": "milestone 100 kg", "type": "milestone", "params": {"at_kg": 100},
     "reward": {"kind": "badge", "badge": "100-kg"}},
    {"name": "streak 3 months", "type": "streak", "params": {"months": 3},
     "reward": {"kind": "points", "amount": 200}},
    {"name": "campaign laptops x2", "type": "campaign",
     "params": {"categories": ["laptop"], "multiplier": 2}, "reward": {"kind": "points",
                                                                       "amount": 10},
     "valid_from": YEAR_START + timedelta(days=90), "valid_to": YEAR_START + timedelta(days=180)},
    {"name": "tree 17.9 kg", "type": "tree", "params": {}, "reward": {"kind": "tree"}},
]


def synthetic_history(accounts: int, seed: int = 1):

    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 24, size=accounts)  # mean 12 credits a year
    user = np.repeat(np.arange(1, accounts + 1, dtype=np.int64), counts)
    n = len(user)
    t = int(YEAR_START.timestamp()) + rng.integers(0, 365 * 86_400, size=n, dtype=np.int64)
    # Sort times within each user: add a per-user offset far larger than a year, sort, remove.
    t = np.sort(t + user * 10**9) - user * 10**9
    g = rng.integers(1_000, 60_000, size=n, dtype=np.int64) // 2
    category = rng.integers(0, len(CATS), size=n, dtype=np.int32)
    eligible = rng.random(n) > 0.01
    return History(user, t, g, category, eligible, list(CATS))


def bench_simulation(accounts: int) -> None:

    t0 = time.perf_counter()
    history = synthetic_history(accounts)
    print(f"history: {accounts:,} accounts, {len(history.user):,} credits "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    print("| rule | time (s) | users rewarded | rewards | points cost |")
    print("| --- | --- | --- | --- | --- |")
    for body in RULES:
        rule = validate_rule({"valid_from": None, "valid_to": None, **body})
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = simulate_arrays(history, rule)
            times.append(time.perf_counter() - t0)
        print(f"| {body['name']} | {min(times):.2f} (best of 3; worst {max(times):.2f}) | "
              f"{out['users_rewarded']:,} | {out['rewards']:,} | {out['points_cost']:,} |")


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def bench_evaluation(db_url: str, trades: int) -> None:

    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace(
        "postgresql://", "postgresql+psycopg://"), "REDIS_URL": None, "SECRET_KEY": "bench",
        "TESTING": True, "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False})
    outbox.dispatch = lambda ids: None  # jobs are run by hand below, one at a time
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("""
                INSERT INTO users (email, password_hash, display_name, role, created_at)
                SELECT 'b' || i || '@example.com', 'x', 'B' || i, 'user', now()
                FROM generate_series(1, 2000) AS i""")

        def complete(first: int, count: int) -> list[int]:
            rng = np.random.default_rng(first)
            ids = []
            for i in range(first, first + count):
                buyer, seller = (int(x) for x in rng.choice(np.arange(1, 2001), 2, False))
                at = YEAR_START + timedelta(days=int(rng.integers(0, 360)))
                ids.append(outbox.write("trade.completed", {
                    "trade_id": i, "buyer_id": buyer, "seller_id": seller,
                    "avoided_g": int(rng.integers(1_000, 60_000)),
                    "category": CATS[i % len(CATS)], "listing_id": i,
                    "listing_title": f"Device {i}", "completed_at": at.isoformat()}))
            db.session.commit()
            return ids

        def evaluate_ids(after: int) -> list[int]:
            return list(db.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.topic == "incentives.evaluate", OutboxMessage.id > after)
                .order_by(OutboxMessage.id)))

        def timed(ids: list[int]) -> list[float]:
            out = []
            for i in ids:
                t0 = time.perf_counter()
                outbox.process([i])
                out.append((time.perf_counter() - t0) * 1000)
            return out

        def batch(first: int) -> tuple[float, float]:
            """One batch job of 2,000 credits, then their evaluations in one batch job: ms per
            credit for each."""
            ids = complete(first, 2000)
            t0 = time.perf_counter()
            outbox.process(ids)
            credit_s = time.perf_counter() - t0
            eval_ids = evaluate_ids(ids[-1])
            t0 = time.perf_counter()
            outbox.process(eval_ids)
            return credit_s * 1000 / 2000, (time.perf_counter() - t0) * 1000 / 2000

        results, batches = {}, {}
        for label, with_rules in (("no active rule", False), ("6 active rules", True)):
            if with_rules:
                for body in RULES:
                    manage.create(body)
            first = 1 if not with_rules else trades + 2001
            credit_ids = complete(first, trades)
            credit_ms = timed(credit_ids)
            eval_ms = timed(evaluate_ids(credit_ids[-1]))
            results[label] = (credit_ms, eval_ms)
            batches[label] = batch(first + trades)
        print("| jobs of one trade (PostgreSQL) | median ms | p95 ms |")
        print("| --- | --- | --- |")
        credit_ms = results["no active rule"][0] + results["6 active rules"][0]
        print(f"| credit job (ledger) | {statistics.median(credit_ms):.2f} | "
              f"{_pct(credit_ms, 0.95):.2f} |")
        for label, (_, eval_ms) in results.items():
            print(f"| evaluation job, both parties, {label} | "
                  f"{statistics.median(eval_ms):.2f} | {_pct(eval_ms, 0.95):.2f} |")
        base, ruled = (statistics.median(results[k][1])
                       for k in ("no active rule", "6 active rules"))
        print(f"\nper-credit overhead of the 6 rules, jobs of one trade: {ruled - base:.2f} ms "
              "(median with rules - median without; target <= 5 ms)")
        for label, (credit, evaluation) in batches.items():
            print(f"batch of 2,000 credits, {label}: ledger {credit:.2f} ms per credit; "
                  f"their evaluation in one batch job {evaluation:.2f} ms per credit")
        print(f"per-credit overhead of the 6 rules, batched: "
              f"{batches['6 active rules'][1] - batches['no active rule'][1]:.2f} ms")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--trades", type=int, default=300)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--skip-simulation", action="store_true")
    args = parser.parse_args()
    if not args.skip_simulation:
        bench_simulation(args.accounts)
    if not args.skip_db:
        bench_evaluation(args.database, args.trades)


if __name__ == "__main__":
    main()
