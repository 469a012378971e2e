"""Helpers of ``bench/credits.py``: worker processes, a sampler of PostgreSQL wait events, a
cheap tail of newly committed rows, and the sustained (open-loop) mode."""

from __future__ import annotations

import math
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from procstat import process_cpu, spent_since
from redis import Redis
from rq import Worker

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ["smartphone", "laptop", "tablet", "console", "monitor", "smartwatch"]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def worker_env(db_url: str, redis_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
            "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore::UserWarning", "PGAPPNAME": "bench-worker"}


def wait_for_workers(redis_url: str, count: int, procs=()) -> None:
    """Until ``count`` workers are registered in Redis (or, if another user of the Redis
    database flushed the registrations, 30 s with every process still running)."""
    conn = Redis.from_url(redis_url)
    for _ in range(300):
        if len(Worker.all(connection=conn)) >= count:
            return
        time.sleep(0.1)
    if procs and all(p.poll() is None for p in procs):
        print("warning: workers running but not registered in Redis (flushed by someone?)")
        return
    raise SystemExit("workers did not start")


def start_workers(args, count: int, queues: list[str], extra: list[str] | None = None):
    cmd = [sys.executable, "-m", "workers", *(extra or ["--no-cron"]), *queues]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=worker_env(args.database, args.redis))
             for _ in range(count)]
    try:
        wait_for_workers(args.redis, count, procs)
    except BaseException:
        stop(procs)
        raise
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


# The tables the workers fill during a run, which start empty.
FILLED = ("ledger_transactions", "ledger_lines", "ledger_accounts", "ledger_pending_credits",
          "incentive_evaluations", "incentive_rewards", "points_accounts",
          "points_transactions", "points_lines")


class _Background(threading.Thread):
    """A daemon thread run for the span of a ``with`` block, told to stop by ``_halt``."""

    def __init__(self):
        super().__init__(daemon=True)
        self._halt = threading.Event()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt.set()
        self.join(30)


class Autoanalyze(_Background):
    """Analyzes each table the workers fill once it holds ``rows`` rows (inserted), as
    autovacuum's first visit would in a live system (within ``autovacuum_naptime``, 1 min,
    of its first 50 rows). This machine's PostgreSQL runs with ``autovacuum = off``
    (postgresql.conf), and a run is shorter than the naptime anyway; a table never analyzed
    is planned from its size alone (measured on 6 Dec: every batch's cumulative grams read all of
    ``ledger_lines`` sequentially, the rewards and account updates likewise). Analyzing the
    tables empty instead gives plans for empty tables (the sustained runs' artifact found
    on 6 Dec). ``enabled=False`` (``--cold``) leaves them unanalyzed."""

    def __init__(self, db_url: str, rows: int = 1000, enabled: bool = True):
        super().__init__()
        self.db_url, self.rows, self.enabled = db_url, rows, enabled
        self.done: dict[str, float] = {}

    def run(self) -> None:
        if not self.enabled:
            return
        t0 = time.monotonic()
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while len(self.done) < len(FILLED) and not self._halt.wait(1.0):
                for table, inserted in conn.execute(
                        "SELECT relname, n_tup_ins FROM pg_stat_user_tables "
                        "WHERE relname = ANY(%s)", (list(FILLED),)).fetchall():
                    if table not in self.done and inserted >= self.rows:
                        conn.execute(f"ANALYZE {table}")
                        self.done[table] = time.monotonic() - t0

    def report(self) -> str:
        if not self.enabled:
            return "tables filled during the run: not analyzed (--cold)"
        first = min(self.done.values(), default=0.0)
        return (f"tables filled during the run analyzed at {self.rows} rows: {len(self.done)} "
                f"of {len(FILLED)} (the first at {first:.0f} s)")


class WaitSampler(_Background):
    """Samples ``pg_stat_activity`` of the bench database every ``period`` seconds: what the
    other backends are doing (active: wait event or CPU; idle in transaction)."""

    def __init__(self, db_url: str, period: float = 0.2):
        super().__init__()
        self.db_url, self.period, self.counts, self.samples = db_url, period, Counter(), 0
        self.locks: Counter = Counter()

    def run(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while not self._halt.wait(self.period):
                self.samples += 1
                for app, state, etype, event, waiter, blocker in conn.execute("""
                        SELECT a.application_name, a.state, a.wait_event_type, a.wait_event,
                               CASE WHEN a.wait_event_type = 'Lock' THEN left(a.query, 70) END,
                               (SELECT left(b.query, 70) FROM pg_stat_activity b
                                WHERE b.pid = (pg_blocking_pids(a.pid))[1])
                        FROM pg_stat_activity a
                        WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
                          AND a.backend_type = 'client backend' AND a.state <> 'idle'"""):
                    key = (f"{etype}:{event}" if etype else "CPU (no wait)")
                    who = app.removeprefix("bench-") or "other"
                    self.counts[f"{who} {key if state == 'active' else state}"] += 1
                    if waiter:
                        self.locks[(" ".join(waiter.split()),
                                    " ".join((blocker or "").split()))] += 1

    def report(self, top: int = 8) -> str:
        if not self.samples:
            return "no samples"
        parts = [f"{k} {v / self.samples:.2f}" for k, v in self.counts.most_common(top)]
        locks = "".join(f"\n    {n / self.samples:.2f} waiting: {w!r} blocked by: {b!r}"
                        for (w, b), n in self.locks.most_common(3))
        return (f"backends busy per sample ({self.samples} samples): "
                + (", ".join(parts) or "none") + locks)


class Tail:
    """New rows of a bigserial-keyed table since the last poll, one query per poll: rows with
    an id above the highest seen, or an id in a gap below it (a concurrent transaction that
    took a lower id may commit later). Gaps older than ``gap_ttl`` seconds are dropped
    (sequence values consumed without a row)."""

    def __init__(self, table: str, cols: str, where: str = "TRUE", gap_ttl: float = 30.0):
        self.sql = (f"SELECT id, {cols} FROM {table} WHERE ({where}) AND "
                    "(id > %s OR id = ANY(%s)) ORDER BY id")
        self.top, self.gaps, self.gap_ttl = 0, {}, gap_ttl

    def poll(self, conn, now: float) -> list[tuple]:
        rows = conn.execute(self.sql, (self.top, list(self.gaps))).fetchall()
        for row in rows:
            rid = row[0]
            if rid > self.top:
                for missing in range(self.top + 1, rid):
                    self.gaps[missing] = now
                self.top = rid
            else:
                self.gaps.pop(rid, None)
        self.gaps = {g: t for g, t in self.gaps.items() if now - t < self.gap_ttl}
        return rows


def payload(trade_id: int, users: int) -> dict:
    return {"trade_id": trade_id, "buyer_id": 1 + (trade_id * 7919) % users,
            "seller_id": 1 + (trade_id * 104729 + 1) % users,
            "avoided_g": 20000 + (trade_id * 37) % 60000,
            "category": CATEGORIES[trade_id % 6], "listing_id": trade_id,
            "listing_title": f"Used device #{trade_id}",
            "completed_at": datetime.now(UTC).isoformat()}


def writer(config: dict, first_id: int, step: int, rate: float, start, seconds: float,
           users: int, barrier, out) -> None:
    """Open loop: completion k of this writer is due at ``t0 + k / rate`` (clock-paced, not
    response-paced); each is ``announce_completion`` in its own transaction, committed alone.
    Sends back (trade_id, due, committed) with monotonic times (system-wide on Linux)."""
    from sqlalchemy import event  # noqa: PLC0415  (spawned child: import after sys.path)
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from carbon.ledger import posting  # noqa: PLC0415
    from marketplace.app import create_app  # noqa: PLC0415
    from marketplace.core.db import db  # noqa: PLC0415

    os.environ["PGAPPNAME"] = "bench-writer"
    app = create_app(config)
    stamp: list[float] = []
    # Stamped when the database commit returns, before the outbox's own after_commit hook
    # requests the drain (insert=True: this listener runs first).
    event.listen(Session, "after_commit", lambda s: stamp.append(time.monotonic()),
                 insert=True)
    done = []
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.rollback()
        barrier.wait()
        while not start.value:
            time.sleep(0.001)
        t0, cpu0 = start.value, time.process_time()
        k, n = 0, int(seconds * rate)
        while k < n:
            due = t0 + k / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            trade_id = first_id + k * step
            stamp.clear()
            posting.announce_completion(payload(trade_id, users))
            db.session.commit()
            done.append((trade_id, due, stamp[0] if stamp else time.monotonic()))
            k += 1
    out.put((done, time.process_time() - cpu0))


def measured_pids(conn, procs, redis_url: str) -> list[list[int]]:
    """The processes whose CPU a sustained run reports: the workers, their PostgreSQL
    backends, the Redis server (shared with whatever else uses it)."""
    backends = [r[0] for r in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-worker'")]
    return [[p.pid for p in procs], backends,
            [Redis.from_url(redis_url).info("server")["process_id"]]]


def jobs_run(redis_url: str) -> int:
    return sum(w.successful_job_count + w.failed_job_count
               for w in Worker.all(connection=Redis.from_url(redis_url)))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def sustained(args, db_url: str, app_config: dict) -> None:
    """Completions at ``args.sustained``/s for ``args.seconds`` s with ``args.workers``
    workers on ``ledger`` and ``incentives``; latency of each to its credit and evaluations."""
    rate, seconds = args.sustained, args.seconds
    writers = args.writers or max(1, math.ceil(rate / 150))
    total = int(seconds * rate / writers) * writers
    users = args.users
    print(f"sustained: {rate}/s for {seconds} s = {total} completions, {writers} writer "
          f"processes, {args.workers} workers (ledger incentives), rules {args.rules}, "
          f"{args.users} users; load {load()}")
    procs = start_workers(args, args.workers, ["ledger", "incentives"])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    credited: dict[int, float] = {}
    evaluated: Counter = Counter()
    rewarded: dict[int, float] = {}
    expected = {t: len({payload(t, users)["buyer_id"], payload(t, users)["seller_id"]})
                for t in range(1, total + 1)}
    tx_tail = Tail("ledger_transactions", "trade_id", "kind = 'credit'")
    ev_tail = Tail("incentive_evaluations", "trade_id")
    try:
        barrier, start = ctx.Barrier(writers + 1), ctx.Value("d", 0.0)
        ws = [ctx.Process(target=writer, args=(app_config, 1 + i, writers, rate / writers,
                                               start, seconds, users, barrier, out))
              for i in range(writers)]
        for w in ws:
            w.start()
        barrier.wait(120)
        t0 = start.value = time.monotonic() + 0.2
        results: list[tuple[int, float, float]] = []
        writer_cpu: list[float] = []
        load_start = load()
        with WaitSampler(db_url) as sampler, psycopg.connect(db_url, autocommit=True) as conn, \
                Autoanalyze(db_url, enabled=not args.cold) as analyzer:
            cpu_before = [{pid: process_cpu(pid) for pid in pids}
                          for pids in measured_pids(conn, procs, args.redis)]
            jobs_before = jobs_run(args.redis)
            deadline = t0 + seconds + 180
            while True:
                now = time.monotonic()
                for _, trade in tx_tail.poll(conn, now):
                    credited.setdefault(trade, now)
                for _, trade in ev_tail.poll(conn, now):
                    evaluated[trade] += 1
                    if evaluated[trade] >= expected.get(trade, 2):
                        rewarded.setdefault(trade, now)
                while not out.empty():
                    done, cpu = out.get()
                    results += done
                    writer_cpu.append(cpu)
                if len(rewarded) >= total and len(credited) >= total:
                    break
                if now > deadline:
                    print(f"timed out: {len(credited)} credited, {len(rewarded)} evaluated "
                          f"of {total}")
                    break
                time.sleep(max(0.0, 0.05 - (time.monotonic() - now)))
            # Per process: a backend opened during the run counts whole, one closed counts 0.
            w_cpu, b_cpu, r_cpu = (spent_since(before, pids) for before, pids in zip(
                cpu_before, measured_pids(conn, procs, args.redis), strict=True))
            jobs = jobs_run(args.redis) - jobs_before
        while len(writer_cpu) < writers:
            done, cpu = out.get(timeout=60)
            results += done
            writer_cpu.append(cpu)
        for w in ws:
            w.join(10)
        load_end = load()
    finally:
        stop(procs)
    commits = {t: c for t, _, c in results}
    late = sorted(c - d for _, d, c in results)
    first, last = min(commits.values()), max(commits.values())
    span = max(last - first, 1e-9)
    bal = [(credited[t] - c) * 1000 for t, c in commits.items() if t in credited]
    rew = [(rewarded[t] - c) * 1000 for t, c in commits.items() if t in rewarded]
    end_c = max((credited[t] for t in commits if t in credited), default=last)
    end_r = max((rewarded[t] for t in commits if t in rewarded), default=last)
    print(f"writers: commit behind schedule p50 {pct(late, .5) * 1000:.0f} ms, p95 "
          f"{pct(late, .95) * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms; commits over "
          f"{span:.1f} s")
    print(f"completion->balance ms: p50 {pct(bal, .5):.0f}, p95 {pct(bal, .95):.0f}, max "
          f"{max(bal, default=0):.0f} ({len(bal)}/{total}); completion->evaluations+rewards "
          f"ms: p50 {pct(rew, .5):.0f}, p95 {pct(rew, .95):.0f}, max {max(rew, default=0):.0f} "
          f"({len(rew)}/{total}) (latencies include up to 50 ms polling granularity)")
    print(f"CPU per completion: workers {w_cpu / total * 1e6:,.0f} us + their PostgreSQL "
          f"backends {b_cpu / total * 1e6:,.0f} us + Redis {r_cpu / total * 1e6:,.0f} us "
          f"(shared server); writers' Python {sum(writer_cpu) / total * 1e6:,.0f} us; RQ jobs "
          f"run: {jobs:,.0f} ({jobs / total:.2f} per completion)")
    print(sampler.report())
    print(analyzer.report())
    print(f"load average (1/5/15 min) at start {load_start}, at end {load_end}")
    print(f"sustained: offered {total / span:,.0f}/s, credited "
          f"{len(bal) / max(end_c - first, 1e-9):,.0f}/s, rewarded "
          f"{len(rew) / max(end_r - first, 1e-9):,.0f}/s, p95 completion->balance "
          f"{pct(bal, .95):.0f} ms, p95 completion->rewards {pct(rew, .95):.0f} ms")
