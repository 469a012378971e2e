"""Benchmark of ledger crediting and rewards: ``python bench/credits.py [--trades N]
[--workers W] [--rules none|demo|both] [--compare-workers W2]`` or ``python bench/credits.py
--sustained RATE --seconds S [--workers W] [--writers P]``.

On PostgreSQL + Redis (defaults: database ``reloop_ledger_bench``, which is dropped and
re-created for every run, and Redis db 12, which is flushed):

Backlog mode (default):

1. ``--trades`` completed trades waiting in the outbox, between ``--users`` users;
2. credits only: ``--workers`` worker processes (``python -m workers --no-cron ledger``, jobs
   in-process) credit them all; the clock runs from the reconciler's drain requests to the
   last record processed;
3. the raw rate: the same ledger rows (transactions, then their lines) inserted by the same
   number of processes with plain set-based SQL and no application logic, same batch size;
4. the latency of one completion (``posting.announce_completion``, committed alone) to a
   visible balance, with ``python -m workers --fork`` and with the default worker;
5. credits + rewards (``--rules demo`` or ``both``): a fresh database with the same trades and
   ``marketplace.seeds.DEMO_RULES``, workers on ``ledger incentives``; the clock stops when no
   ``trade.*`` nor ``incentives.*`` record is pending; the ratio to credits only;
6. the last run again with ``--compare-workers`` workers (default 4), fresh database: ratio.

``--repeat N``: steps 2 and 5 N times in turn, each pair's ratio, and their median (this
machine's speed drifts between runs a minute apart: one pair's ratio moves by several points).

Sustained mode (``--sustained RATE``): writer processes (open loop, paced by the clock) commit
completions one per transaction through ``posting.announce_completion`` while ``--workers``
serve ``ledger incentives``; the main process tails ``ledger_transactions`` and
``incentive_evaluations`` every 50 ms (one query each) for each completion's credit and both
parties' evaluations. Prints the CPU per completion of the workers, of their PostgreSQL
backends, of the Redis server and of the writers, and the RQ jobs the workers ran; ends with
the ``sustained:`` summary line.

Every run prints load averages and a sample of ``pg_stat_activity`` (wait events, lock waits).
The tables the workers fill are analyzed once they hold 1,000 rows, as autovacuum would in a
live system (``credits_live.Autoanalyze``; ``--cold``: not at all).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

import psycopg
from credits_live import (
    CATEGORIES,
    Autoanalyze,
    WaitSampler,
    load,
    start_workers,
    stop,
    sustained,
)
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import select

from carbon.incentives import manage
from carbon.ledger import posting, verify
from carbon.ledger.models import LedgerAccount
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.seeds import DEMO_RULES

warnings.filterwarnings("ignore", message="Multiple schemas resolved")

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/reloop_ledger_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def recreate_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(url: str, users: int, trades: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("""
            INSERT INTO users (email, password_hash, display_name, role, created_at)
            SELECT 'bench' || i || '@example.com', 'x', 'Bench ' || i, 'user', now()
            FROM generate_series(1, %s) AS i""", (users,))
        conn.execute("""
            INSERT INTO outbox_messages (topic, payload, created_at, attempts)
            SELECT 'trade.completed', json_build_object(
                'trade_id', i, 'buyer_id', 1 + (i * 7919) %% %(u)s,
                'seller_id', 1 + (i * 104729 + 1) %% %(u)s, 'avoided_g', 20000 + (i * 37) %% 60000,
                'category', (%(cats)s::text[])[1 + i %% 6], 'listing_id', i,
                'listing_title', 'Used device #' || i,
                'completed_at',
                to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')),
                now() - interval '1 second', 0
            FROM generate_series(1::bigint, %(n)s) AS i""",
                     {"u": users, "n": trades, "cats": CATEGORIES})
        conn.execute("ANALYZE users, outbox_messages")


# The oldest pending record of a topic, in the order of the pending-records index (topic,
# partition, id): what the workers' claims read, so the probe follows them.
_FIRST = ("(SELECT id FROM outbox_messages WHERE processed_at IS NULL AND topic = '{}' "
          "ORDER BY topic, partition_key, id LIMIT 1)")
PENDING = (f"SELECT coalesce({_FIRST.format('trade.completed')}, "
           f"{_FIRST.format('trade.refunded')}) IS NOT NULL, "
           f"coalesce({_FIRST.format('incentives.evaluate')}, "
           f"{_FIRST.format('incentives.reverse')}) IS NOT NULL, "
           "(SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'outbox_messages')")


def pending(conn) -> tuple[bool, bool, int]:
    """(a trade.* record pending, an incentives.* record pending, a progress counter): two
    probes of the pending-records index and the outbox's update count from the statistics
    (a record processed is an update). Counting the pending records instead scanned the
    whole outbox (the events nobody drains here included) with parallel workers every poll:
    up to ~0.8 of a core taken from the workers being measured."""
    return conn.execute(PENDING).fetchone()


def failed_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL "
                            "AND last_error IS NOT NULL").fetchone()[0]


def fresh(app, args, db_url: str, trades: int, rules: bool) -> None:
    """Drop and re-create the database, migrate, seed users and ``trades`` waiting
    completions; with ``rules``, install the demo incentive rules."""
    Redis.from_url(args.redis).flushdb()
    with app.app_context():
        db.engine.dispose()
    recreate_database(db_url)
    with app.app_context():
        upgrade()
        if rules:
            for rule in DEMO_RULES:
                manage.create(dict(rule))
        db.engine.dispose()
    t = time.perf_counter()
    seed(db_url, args.users, trades)
    print(f"seeded {args.users} users and {trades} completed trades in the outbox "
          f"({time.perf_counter() - t:.1f} s); {len(DEMO_RULES) if rules else 0} rules, claims "
          f"of {args.batch} (credits) and {app.config['INCENTIVE_BATCH_SIZE']} (evaluation), "
          f"{os.cpu_count()} cores")


def credit_run(app, args, db_url: str, workers: int, rules: bool) -> tuple[float, float]:
    """Credit the backlog (and with ``rules`` evaluate it): (seconds to all done, seconds to
    the last credit)."""
    queues = ["ledger", "incentives"] if rules else ["ledger"]
    procs = start_workers(args, workers, queues)
    load_before = load()
    try:
        with WaitSampler(db_url) as sampler, \
                Autoanalyze(db_url, enabled=not args.cold) as analyzer:
            t0 = time.perf_counter()
            with app.app_context():
                queued = outbox.reconcile(timedelta(0))
            assert queued == args.trades, queued
            credits_done, last, progress, kicks = None, None, t0, 0
            with psycopg.connect(db_url, autocommit=True) as conn:
                while True:
                    trades, evals, updates = pending(conn)
                    now = time.perf_counter()
                    if updates != last:
                        last, progress = updates, now
                    elif now - progress > 10:  # a drain job lost (Redis shared or flushed)
                        with app.app_context():
                            outbox.reconcile(timedelta(0))
                        kicks, progress = kicks + 1, now
                    if not trades and credits_done is None:
                        credits_done = now - t0
                    if not trades and (not evals or not rules):
                        break
                    if now - t0 > 900:
                        raise SystemExit(f"timed out with trade records pending: {trades}, "
                                         f"incentives records pending: {evals} "
                                         f"({failed_count(db_url)} with an error)")
                    time.sleep(0.2)
            elapsed = time.perf_counter() - t0
        failed = failed_count(db_url)
    finally:
        stop(procs)
    what = "credits + evaluations + rewards" if rules else "credits only"
    print(f"  {what}, {workers} workers ({' '.join(queues)}): {args.trades} trades in "
          f"{elapsed:.2f} s = {args.trades / elapsed:,.0f} trades/s (last credit at "
          f"{credits_done:.2f} s; {failed} records with an error; {kicks} reconciles after 10 s "
          f"without progress); load before/after "
          f"{load_before} / {load()}")
    print(f"  {sampler.report()}")
    print(f"  {analyzer.report()}")
    if rules:
        with psycopg.connect(db_url) as conn:
            n_ev, n_rw = conn.execute("SELECT (SELECT count(*) FROM incentive_evaluations), "
                                      "(SELECT count(*) FROM incentive_rewards)").fetchone()
        print(f"  {n_ev} evaluations, {n_rw} rewards")
    return elapsed, credits_done


RAW_SETUP = """
DROP TABLE IF EXISTS raw_lines, raw_transactions;
CREATE TABLE raw_transactions (LIKE ledger_transactions INCLUDING ALL);
CREATE TABLE raw_lines (LIKE ledger_lines INCLUDING ALL);
ALTER TABLE raw_lines ADD FOREIGN KEY (transaction_id) REFERENCES raw_transactions (id),
                      ADD FOREIGN KEY (account_id) REFERENCES ledger_accounts (id);
"""


def raw_worker(url: str, part: int, parts: int, batch: int, barrier, out) -> None:
    with psycopg.connect(url) as conn:
        txs = conn.execute("""
            SELECT id, idempotency_key || ':raw', kind, trade_id, meta::text, occurred_at,
                   posted_at FROM ledger_transactions WHERE id %% %s = %s ORDER BY id""",
                           (parts, part)).fetchall()
        lines: dict[int, list[tuple[int, int]]] = {}
        for tx_id, acct, amt in conn.execute(
                "SELECT transaction_id, account_id, amount_g FROM ledger_lines "
                "WHERE transaction_id %% %s = %s ORDER BY id", (parts, part)):
            lines.setdefault(tx_id, []).append((acct, amt))
        conn.commit()
        barrier.wait()
        t0 = time.perf_counter()
        for start in range(0, len(txs), batch):
            chunk = txs[start:start + batch]
            new_ids = conn.execute("""
                INSERT INTO raw_transactions
                    (idempotency_key, kind, trade_id, meta, occurred_at, posted_at)
                SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::json[],
                                     %s::timestamptz[], %s::timestamptz[])
                RETURNING id""", [[r[i] for r in chunk] for i in range(1, 7)]).fetchall()
            tx_col, acct_col, amt_col = [], [], []
            for (new_id,), row in zip(new_ids, chunk, strict=True):
                for acct, amt in lines[row[0]]:
                    tx_col.append(new_id)
                    acct_col.append(acct)
                    amt_col.append(amt)
            conn.execute("""
                INSERT INTO raw_lines (transaction_id, account_id, amount_g)
                SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])""",
                         (tx_col, acct_col, amt_col))
            conn.commit()
        out.put(time.perf_counter() - t0)


def raw_run(args, db_url: str) -> float:
    with psycopg.connect(db_url) as conn:
        conn.execute(RAW_SETUP)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(args.workers + 1), ctx.Queue()
    procs = [ctx.Process(target=raw_worker, args=(db_url, i, args.workers, args.batch, barrier,
                                                  out)) for i in range(args.workers)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    for _ in procs:
        out.get()
    return elapsed


def latency_run(app, args, samples: int, fork: bool) -> list[float]:
    """One completion at a time (``posting.announce_completion``, committed alone), to the
    buyer's balance visibly changed; one worker on ``ledger`` (with its cron scheduler)."""
    procs = start_workers(args, 1, ["ledger"], ["--fork"] if fork else [])
    out = []
    try:
        time.sleep(1.0)
        with app.app_context():
            for k in range(samples):
                buyer = 1 + k
                query = select(LedgerAccount.balance_g).where(LedgerAccount.user_id == buyer)
                before = db.session.scalar(query) or 0
                db.session.rollback()
                t0 = time.perf_counter()
                posting.announce_completion({
                    "trade_id": 10_000_000 + k + (1000 if fork else 0), "buyer_id": buyer,
                    "seller_id": buyer + 1, "avoided_g": 50_000, "category": "smartphone",
                    "listing_id": k, "listing_title": "Latency probe",
                    "completed_at": None})
                db.session.commit()  # a drain is requested right after commit
                while (db.session.scalar(query) or 0) == before:
                    db.session.rollback()
                    time.sleep(0.001)
                out.append(time.perf_counter() - t0)
                db.session.rollback()
                time.sleep(0.2)
    finally:
        stop(procs)
    return out


def baselines(app, args, db_url: str, rate: float) -> None:
    """The raw-insert rate of the ledger rows just written, and single-trade latencies."""
    if not args.no_raw:
        load_before = load()
        raw = raw_run(args, db_url)
        raw_rate = args.trades / raw
        print(f"  raw insert of the same rows: {raw:.2f} s = {raw_rate:,.0f} trades/s; "
              f"crediting ran at {100 * rate / raw_rate:.0f}% of raw (load before/after: "
              f"{load_before} / {load()})")
    if args.latency_samples:
        for fork in (True, False):
            lat = latency_run(app, args, args.latency_samples, fork)
            lat_ms = sorted(x * 1000 for x in lat)
            p95 = lat_ms[min(len(lat_ms) - 1, int(0.95 * len(lat_ms)))]
            label = "python -m workers --fork" if fork else "python -m workers (default)"
            print(f"  latency completion -> visible balance, {label}: median "
                  f"{statistics.median(lat_ms):.0f} ms, p95 {p95:.0f} ms, max "
                  f"{lat_ms[-1]:.0f} ms ({len(lat_ms)} trades; load {load()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rules", choices=["none", "demo", "both"], default=None,
                    help="backlog: none (credits only), demo (credits + rewards) or both, in "
                         "that order (default); sustained: none or demo (default)")
    ap.add_argument("--compare-workers", type=int, default=4, metavar="W2",
                    help="backlog: repeat the last run with W2 workers (0: no)")
    ap.add_argument("--batch", type=int, default=2000, help="OUTBOX_BATCH_SIZE")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="backlog: N pairs of runs (credits only, then credits + rewards), "
                         "each pair's ratio and their median (the machine's speed drifts)")
    ap.add_argument("--latency-samples", type=int, default=20, help="0: no latency runs")
    ap.add_argument("--no-raw", action="store_true", help="skip the raw-insert baseline")
    ap.add_argument("--cold", action="store_true",
                    help="leave the tables the workers fill unanalyzed (Autoanalyze)")
    ap.add_argument("--sustained", type=float, default=0, metavar="RATE",
                    help="open loop: RATE completions/s for --seconds")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--writers", type=int, default=0, help="writer processes (0: RATE/150)")
    ap.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    ap.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    args = ap.parse_args()
    db_url = plain_url(args.database)
    os.environ["OUTBOX_BATCH_SIZE"] = str(args.batch)
    config = {"SQLALCHEMY_DATABASE_URI": args.database.replace(
        "postgresql://", "postgresql+psycopg://", 1), "REDIS_URL": args.redis,
        "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "OUTBOX_BATCH_SIZE": args.batch}
    os.environ["PGAPPNAME"] = "bench-main"
    app = create_app(config)
    print(f"load average (1/5/15 min) at start: {load()}; {os.cpu_count()} cores")

    if args.sustained:
        rules = (args.rules or "demo") != "none"
        args.rules = "demo" if rules else "none"
        fresh(app, args, db_url, 0, rules)
        sustained(args, db_url, config)
        return

    runs = {"none": [False], "demo": [True], "both": [False, True]}[args.rules or "both"]
    rates: dict[tuple[bool, int], float] = {}
    ratios: list[float] = []
    for rep in range(args.repeat):
        for rules in runs:
            fresh(app, args, db_url, args.trades, rules)
            elapsed, credits = credit_run(app, args, db_url, args.workers, rules)
            rates[(rules, args.workers)] = args.trades / elapsed
            with app.app_context():
                t = time.perf_counter()
                report = verify.run()
                print(f"  verify-ledger: {'OK' if report.ok else 'MISMATCH'} "
                      f"({time.perf_counter() - t:.1f} s)")
                if not report.ok:
                    print(report.render())
            if rules is runs[0] and rep == 0:
                baselines(app, args, db_url, args.trades / credits)
        if (False, args.workers) in rates and (True, args.workers) in rates:
            none, demo = rates[(False, args.workers)], rates[(True, args.workers)]
            ratios.append(demo / none)
            print(f"backlog, same run: credits only {none:,.0f} trades/s, credits + rewards "
                  f"{demo:,.0f} trades/s: {100 * demo / none:.0f}% (target >= 50%)")
    if len(ratios) > 1:
        print(f"backlog, {len(ratios)} pairs (each credits only, then credits + rewards): "
              f"ratios {', '.join(f'{100 * r:.0f}%' for r in ratios)}; median "
              f"{100 * statistics.median(ratios):.0f}% (target >= 50%)")
    if args.compare_workers:
        rules = runs[-1]
        fresh(app, args, db_url, args.trades, rules)
        elapsed, _ = credit_run(app, args, db_url, args.compare_workers, rules)
        other = args.trades / elapsed
        base = rates[(rules, args.workers)]
        print(f"backlog {'credits + rewards' if rules else 'credits only'}: "
              f"{args.compare_workers} workers {other:,.0f} trades/s vs {args.workers} "
              f"workers {base:,.0f} trades/s: ratio {other / base:.2f} (load {load()})")


if __name__ == "__main__":
    main()
