"""Benchmark of ledger crediting: ``python bench/credits.py [--trades N] [--workers W]``.

On PostgreSQL + Redis (defaults: database ``reloop_ledger_bench``, which is dropped and
re-created, and Redis db 12, which is flushed):

1. ``--trades`` completed trades waiting in the outbox, between ``--users`` users;
2. ``--workers`` worker processes (``python -m workers --simple --no-cron ledger``) credit them
   all; the clock runs from the reconciler's enqueue to the last record processed;
3. the raw rate: the same ledger rows (transactions, then their lines) inserted by the same
   number of processes with plain set-based SQL and no application logic, same batch size;
4. the latency of one trade, from the commit of its completion to a visible balance, with a
   default worker (``python -m workers``: forks a work horse per job).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade
from redis import Redis
from rq import Worker
from sqlalchemy import select

from carbon.ledger import verify
from carbon.ledger.models import LedgerAccount
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.db import db

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/reloop_ledger_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
CATEGORIES = ["smartphone", "laptop", "tablet", "console", "monitor", "smartwatch"]


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
        conn.execute("ANALYZE")


def pending(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL"
            " AND topic LIKE 'trade.%'").fetchone()[0]


def worker_env(db_url: str, redis_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
            "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}


def wait_for_workers(redis_url: str, count: int) -> None:

    conn = Redis.from_url(redis_url)
    for _ in range(300):
        if len(Worker.all(connection=conn)) >= count:
            return
        time.sleep(0.1)
    raise SystemExit("workers did not start")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def credit_run(app, args, db_url: str) -> float:

    procs = [subprocess.Popen([sys.executable, "-m", "workers", "--simple", "--no-cron",
                               "ledger"], cwd=ROOT, env=worker_env(args.database, args.redis))
             for _ in range(args.workers)]
    try:
        wait_for_workers(args.redis, args.workers)
        t0 = time.perf_counter()
        with app.app_context():
            queued = outbox.reconcile(timedelta(0), limit=args.trades + 10)
        assert queued == args.trades, queued
        while (left := pending(db_url)) > 0:
            time.sleep(0.05)
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"timed out with {left} records pending")
        return time.perf_counter() - t0
    finally:
        stop(procs)


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


def latency_run(app, args, samples: int, simple: bool) -> list[float]:


    cmd = [sys.executable, "-m", "workers"] + (["--simple"] if simple else [])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=worker_env(args.database, args.redis))
    out = []
    try:
        wait_for_workers(args.redis, 1)
        time.sleep(1.0)
        with app.app_context():
            for k in range(samples):
                buyer = 1 + k
                query = select(LedgerAccount.balance_g).where(LedgerAccount.user_id == buyer)
                before = db.session.scalar(query) or 0
                db.session.rollback()
                t0 = time.perf_counter()
                outbox.write("trade.completed", {
                    "trade_id": 10_000_000 + k + (1000 if simple else 0), "buyer_id": buyer,
                    "seller_id": buyer + 1, "avoided_g": 50_000, "category": "smartphone",
                    "listing_id": k, "listing_title": "Latency probe",
                    "completed_at": None})
                db.session.commit()  # enqueued right after commit
                while (db.session.scalar(query) or 0) == before:
                    db.session.rollback()
                    time.sleep(0.001)
                out.append(time.perf_counter() - t0)
                db.session.rollback()
                time.sleep(0.2)
    finally:
        stop([proc])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2000, help="OUTBOX_BATCH_SIZE")
    ap.add_argument("--latency-samples", type=int, default=20)
    ap.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    ap.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    args = ap.parse_args()
    db_url = plain_url(args.database)
    os.environ["OUTBOX_BATCH_SIZE"] = str(args.batch)


    Redis.from_url(args.redis).flushdb()
    recreate_database(db_url)


    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database.replace(
        "postgresql://", "postgresql+psycopg://", 1), "REDIS_URL": args.redis,
        "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "OUTBOX_BATCH_SIZE": args.batch})
    with app.app_context():
        upgrade()
    t = time.perf_counter()
    seed(db_url, args.users, args.trades)
    print(f"seeded {args.users} users and {args.trades} completed trades in the outbox "
          f"({time.perf_counter() - t:.1f} s); batch {args.batch}, {args.workers} workers, "
          f"{os.cpu_count()} cores")

    load = os.getloadavg()[0]
    elapsed = credit_run(app, args, db_url)
    rate = args.trades / elapsed
    print(f"credit: {args.trades} trades in {elapsed:.2f} s = {rate:,.0f} trades/s "
          f"(load average before/after: {load:.1f}/{os.getloadavg()[0]:.1f})")

    with app.app_context():

        t = time.perf_counter()
        report = verify.run()
        print(f"verify-ledger: {'OK' if report.ok else 'MISMATCH'} "
              f"({time.perf_counter() - t:.1f} s)")
        if not report.ok:
            print(report.render())

    load = os.getloadavg()[0]
    raw = raw_run(args, db_url)
    raw_rate = args.trades / raw
    print(f"raw insert of the same rows: {raw:.2f} s = {raw_rate:,.0f} trades/s; "
          f"credit rate is {100 * rate / raw_rate:.0f}% of raw (load before/after: "
          f"{load:.1f}/{os.getloadavg()[0]:.1f})")

    for simple in (False, True):
        lat = latency_run(app, args, args.latency_samples, simple)
        lat_ms = sorted(x * 1000 for x in lat)
        p95 = lat_ms[min(len(lat_ms) - 1, int(0.95 * len(lat_ms)))]
        label = "python -m workers --simple" if simple else "python -m workers (default)"
        print(f"latency completion -> visible balance, {label}: median "
              f"{statistics.median(lat_ms):.0f} ms, p95 {p95:.0f} ms, max {lat_ms[-1]:.0f} ms "
              f"({len(lat_ms)} trades)")


if __name__ == "__main__":
    main()
