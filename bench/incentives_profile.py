"""Profile of rule evaluation on a realistic backlog: ``python bench/incentives_profile.py
[--trades N] [--users U] [--partitions P] [--top K]``.

Builds a fresh database (default ``reloop_incentives_profile``; ``--database``) with the demo
rules and ``--trades`` waiting completions (``bench/credits.py``'s seed), credits them all
in-process (``outbox.drain("ledger")``), then drains every incentives partition in-process
under cProfile (the heap frozen as a worker's: ``workers.worker.freeze_heap``), timing each
SQL statement (by its first words). Prints the evaluation rate, the top functions by
cumulative and own time, and the statements by total time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from credits import fresh, plain_url  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from carbon.incentives import bulk  # noqa: E402
from marketplace.app import create_app  # noqa: E402
from marketplace.core import outbox  # noqa: E402
from marketplace.core.db import db  # noqa: E402
from workers.worker import freeze_heap  # noqa: E402


class StatementTimer:
    """Total time and count per statement (its first line, shortened), via engine events."""

    def __init__(self, engine):
        self.engine, self.totals = engine, defaultdict(lambda: [0, 0.0])

    def before(self, conn, cursor, statement, params, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(self, conn, cursor, statement, params, context, executemany):
        key = " ".join(statement.split())[:110]
        entry = self.totals[key]
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info.pop("t0", time.perf_counter())

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.before)
        event.listen(self.engine, "after_cursor_execute", self.after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)

    def report(self, top: int) -> str:
        rows = sorted(self.totals.items(), key=lambda kv: -kv[1][1])[:top]
        return "\n".join(f"{t:8.3f} s {n:7d}x  {k}" for k, (n, t) in rows)


def explain_first_issue() -> None:
    """Have the first ``bulk.issue`` print EXPLAIN (ANALYZE, BUFFERS) of its statement (run
    in a savepoint rolled back, then for real)."""
    real = bulk.issue

    def issue(*a, **kw):
        bulk.issue = real
        execute = db.session.execute

        def explain(statement, params=None, *rest, **kws):
            sql = text("EXPLAIN (ANALYZE, BUFFERS) " + str(statement))
            with db.session.begin_nested() as sp:
                plan = execute(sql, params).scalars().all()
                sp.rollback()
            print("\n".join(plan))
            return execute(statement, params, *rest, **kws)

        db.session.execute = explain
        try:
            return real(*a, **kw)
        finally:
            del db.session.execute

    bulk.issue = issue


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=20_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=2000, help="OUTBOX_BATCH_SIZE (credits)")
    ap.add_argument("--eval-batch", type=int, default=5000,
                    help="INCENTIVE_BATCH_SIZE (evaluation claims)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--database", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/reloop_incentives_profile"))
    ap.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL",
                                                      "redis://127.0.0.1:6379/12"))
    ap.add_argument("--out", default="", help="write the pstats file here")
    ap.add_argument("--explain", action="store_true",
                    help="print EXPLAIN ANALYZE of the first batch's reward statement")
    args = ap.parse_args()
    db_url = plain_url(args.database)
    os.environ["OUTBOX_BATCH_SIZE"] = str(args.batch)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database.replace(
        "postgresql://", "postgresql+psycopg://", 1), "REDIS_URL": args.redis,
        "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "OUTBOX_BATCH_SIZE": args.batch,
        "INCENTIVE_BATCH_SIZE": args.eval_batch})
    fresh(app, args, db_url, args.trades, True)
    freeze_heap()  # as a worker does (workers.worker.get_app)
    with app.app_context():
        t = time.perf_counter()
        credited = outbox.drain("ledger")
        credit_s = time.perf_counter() - t
        print(f"credited {credited} records in {credit_s:.2f} s in-process "
              f"({args.trades / credit_s:,.0f} trades/s)")
        Redis.from_url(args.redis).flushdb()
        partitions = app.config["INCENTIVE_PARTITIONS"]
        if args.explain:
            explain_first_issue()
        profile = cProfile.Profile()
        with StatementTimer(db.engine) as timer:
            t = time.perf_counter()
            profile.enable()
            # A partition's drain hands over after its slice (the next drain queued in Redis,
            # which nothing runs here): drain each until it finds nothing.
            evaluated = 0
            for p in range(partitions):
                while n := outbox.drain("incentives", p):
                    evaluated += n
            profile.disable()
            eval_s = time.perf_counter() - t
        Redis.from_url(args.redis).flushdb()
    print(f"evaluated {evaluated} records in {eval_s:.2f} s in-process "
          f"({evaluated / eval_s:,.0f} records/s, {1000 * eval_s / evaluated:.3f} ms each; "
          f"{evaluated / 2 / eval_s:,.0f} trades/s at 2 records a trade)")
    sql_s = sum(t for _, t in timer.totals.values())
    print(f"\nSQL statements (time in execute, {sql_s:.2f} s = {100 * sql_s / eval_s:.0f}%):")
    print(timer.report(args.top))
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(f"\n== by {order}\n" + out.getvalue().split("\n\n", 2)[-1])
    if args.out:
        profile.dump_stats(args.out)


if __name__ == "__main__":
    main()
