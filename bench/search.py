"""Search benchmark on PostgreSQL: ``python bench/search.py [--sizes 10000 100000 1000000]``.

Creates (drops first) the database ``--database`` (default ``reloop_bench``), migrates it
with the app's own migrations, bulk-loads listings with COPY (indexes dropped and the
search_term_bounds trigger disabled during the load, both rebuilt after, as a restore
would), grows it through each size, and at each size times representative searches built by
the API's own query builder (``marketplace.listings.search.build_query``): p50/p95 of the
query round trip on localhost (fetching the page), EXPLAIN ANALYZE execution time and the
indexes each plan uses.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from search_data import COLUMNS, rows, start_time
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from marketplace.app import create_app
from marketplace.core.db import db
from marketplace.listings import term_bounds
from marketplace.listings.search import build_query, encode_cursor, rows_of

SELLERS = 20_000
PAGE = 20

# name -> list of search arguments (cycled through on each run).
# Price filters and price sorts always name a currency (the API requires it).
SCENARIOS: dict[str, list[dict]] = {
    "text+category+price, price_asc": [
        {"q": "iphone", "category": "smartphone", "min_price": 20_000, "max_price": 60_000,
         "sort": "price_asc", "currency": "EUR"},
        {"q": "thinkpad", "category": "laptop", "min_price": 50_000, "max_price": 120_000,
         "sort": "price_asc", "currency": "EUR"},
        {"q": "galaxy 256gb", "category": "smartphone", "min_price": 10_000,
         "max_price": 80_000, "sort": "price_asc", "currency": "EUR"},
        {"q": "macbook air", "category": "laptop", "min_price": 30_000, "max_price": 90_000,
         "sort": "price_asc", "currency": "EUR"},
    ],
    "rare text, newest": [
        {"q": "fairphone cracked"}, {"q": "framework warranty"}, {"q": "switch oled dent"},
    ],
    "category, newest": [{"category": "tablet"}, {"category": "laptop"}],
    "newest (no filter)": [{}],
    "avoided_desc": [{"sort": "avoided_desc"}],
    "avoided_desc + min_avoided_kg + category": [
        {"sort": "avoided_desc", "min_avoided_kg": 10, "category": "smartphone"},
        {"sort": "avoided_desc", "min_avoided_kg": 20, "category": "laptop"},
    ],
    "price_desc + currency + country": [
        {"sort": "price_desc", "currency": "EUR", "country": "FR"},
    ],
    # Text + a sort without the category's combined index: the planner used to walk the sort
    # index and discard most rows it read (0.3-2.2 s at 1M listings).
    "text, avoided_desc": [
        {"q": "fairphone", "sort": "avoided_desc"}, {"q": "cracked", "sort": "avoided_desc"},
        {"q": "framework warranty", "sort": "avoided_desc"},
        {"q": "iphone", "sort": "avoided_desc"},
    ],
    "text+category, avoided_desc": [
        {"q": "fairphone", "category": "smartphone", "sort": "avoided_desc"},
        {"q": "thinkpad", "category": "laptop", "sort": "avoided_desc"},
        {"q": "galaxy tab", "category": "tablet", "sort": "avoided_desc"},
    ],
    "text, price_asc": [
        {"q": "fairphone", "sort": "price_asc", "currency": "EUR"},
        {"q": "switch oled dent", "sort": "price_desc", "currency": "EUR"},
        {"q": "macbook", "sort": "price_asc", "currency": "GBP"},
    ],
    "text+category, price_asc": [
        {"q": "fairphone", "category": "smartphone", "sort": "price_asc", "currency": "EUR"},
        {"q": "xps", "category": "laptop", "sort": "price_desc", "currency": "EUR"},
        {"q": "fujifilm", "category": "camera", "sort": "price_asc", "currency": "PLN"},
    ],
    # ``or`` and ``-word`` with a sort: bounded by their alternatives' words (migration 0024)
    "text with or / -word, sorted": [
        {"q": "fairphone or framework", "sort": "avoided_desc"},
        {"q": "iphone -cracked", "sort": "price_asc", "currency": "EUR"},
        {"q": "thinkpad or xps", "category": "laptop", "sort": "price_desc", "currency": "EUR"},
        {"q": "switch -oled", "sort": "avoided_desc"},
    ],
    "deep page 50, newest": [{"_deep": 50}],
    "deep page 50, text+category+price": [
        {"q": "iphone", "category": "smartphone", "min_price": 10_000, "max_price": 90_000,
         "sort": "price_asc", "currency": "EUR", "_deep": 50},
    ],
    "deep page 50, avoided_desc": [{"sort": "avoided_desc", "_deep": 50}],
}


def make_app(url: str):

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                       "TESTING": True, "LOG_LEVEL": "WARNING", "REDIS_URL": None})


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def recreate_database(admin_url: str, name: str) -> None:

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def load(conn, start_id: int, count: int) -> float:
    """COPY ``count`` listings into an unlogged staging table (search text as text), then
    INSERT ... SELECT them with ``to_tsvector`` computed by PostgreSQL; rows per second."""

    t = time.perf_counter()
    conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS listings_stage "
                 "(LIKE listings INCLUDING DEFAULTS)")
    conn.execute("ALTER TABLE listings_stage ALTER COLUMN search_doc TYPE text")
    # columns the bench rows leave out and the table gives no server default (migration 0026)
    conn.execute("ALTER TABLE listings_stage ALTER COLUMN photo_uploads SET DEFAULT '[]', "
                 "ALTER COLUMN previous_owners SET DEFAULT 0")
    conn.execute("TRUNCATE listings_stage")
    with conn.cursor() as cur, cur.copy(
            f"COPY listings_stage ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        buf: list[str] = []
        for line in rows(start_id, count, SELLERS, seed=start_id, start=start_time()):
            buf.append(line)
            if len(buf) >= 5000:
                copy.write("".join(buf))
                buf.clear()
        if buf:
            copy.write("".join(buf))
    cols = ", ".join(COLUMNS + ("photo_uploads", "previous_owners"))
    # the search_term_bounds trigger is rebuilt in one pass afterwards (rebuild_indexes)
    conn.execute("ALTER TABLE listings DISABLE TRIGGER USER")
    conn.execute(f"INSERT INTO listings ({cols}) SELECT "
                 + cols.replace("search_doc", "to_tsvector('simple', search_doc)")
                 + " FROM listings_stage")
    conn.execute("ALTER TABLE listings ENABLE TRIGGER USER")
    conn.execute("DROP TABLE listings_stage")
    conn.commit()
    return count / (time.perf_counter() - t)


def load_users(conn) -> None:
    with conn.cursor() as cur, cur.copy(
            "COPY users (id, email, password_hash, display_name, role, created_at) "
            "FROM STDIN") as copy:
        for i in range(1, SELLERS + 1):
            copy.write(f"{i}\tseller{i}@bench.test\tx\tSeller {i}\tuser\t2024-01-01T00:00:00Z\n")
    conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), %s)", (SELLERS,))
    conn.commit()


def listing_indexes(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'listings' "
        "AND indexname <> 'pk_listings' ORDER BY indexname").fetchall()


def rebuild_indexes(conn, defs) -> float:
    t = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '512MB'")
    for _, ddl in defs:
        conn.execute(ddl)
    for sql in term_bounds.STATEMENTS:
        conn.execute(sql)
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE listings")
    conn.execute("ANALYZE users")  # for the suspended-sellers filter (autovacuum would)
    conn.autocommit = False
    return time.perf_counter() - t


def compile_query(args: dict, dialect) -> tuple[str, dict]:

    stmt, params = build_query(args, "postgresql")
    compiled = stmt.compile(dialect=dialect)
    return str(compiled), compiled.construct_params(params)


def resolve(session, args: dict) -> dict:

    deep = args.get("_deep", 0)
    args = {k: v for k, v in args.items() if k != "_deep"} | {"limit": PAGE}
    for _ in range(deep):
        rows = rows_of(session.execute(*build_query(args, "postgresql")))
        if len(rows) <= PAGE:
            break
        args["cursor"] = encode_cursor(args.get("sort") or "newest", rows[PAGE - 1])
    return args


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run_scenarios(app, runs: int) -> list[dict]:


    dialect = postgresql.psycopg.dialect()
    results = []
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        prepared = {name: [resolve(db.session, a) for a in variants]
                    for name, variants in SCENARIOS.items()}
        db.session.remove()
    with psycopg.connect(url) as conn:
        for name, variants in prepared.items():
            queries = []
            for a in variants:
                sql, params = compile_query(a, dialect)
                queries.append((sql, params))
            for sql, params in queries:  # warm up
                conn.execute(sql, params).fetchall()
            times, server = [], []
            for i in range(runs):
                sql, params = queries[i % len(queries)]
                t = time.perf_counter()
                conn.execute(sql, params).fetchall()
                times.append((time.perf_counter() - t) * 1000)
                out = "\n".join(r[0] for r in conn.execute(
                    "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) " + sql, params))
                server.append(sum(float(m) for m in re.findall(
                    r"(?:Planning|Execution) Time: ([\d.]+)", out)))
            indexes, plan = set(), ""
            for sql, params in queries:
                lines = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
                plan = plan or "\n".join(lines)
                indexes |= set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan "
                                          r"(?:Backward )?(?:using|on) (\w+)", "\n".join(lines)))
                if "Seq Scan on listings" in "\n".join(lines):
                    indexes.add("SEQ SCAN")
            results.append({
                "name": name, "server_p50": _pct(server, 50), "server_p95": _pct(server, 95),
                "client_p50": _pct(times, 50), "client_p95": _pct(times, 95),
                "indexes": ", ".join(sorted(indexes)), "plan": plan,
            })
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--database", default="reloop_bench")
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--runs", type=int, default=200, help="timed runs per scenario")
    ap.add_argument("--plans", type=Path, help="write the first plan of each scenario here")
    ap.add_argument("--json", action="store_true",
                    help="print {scenario: {size: {p50_ms, p95_ms}}} (client round trip) on "
                         "stdout; the tables go to stderr")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the database if it exists and only load the missing rows (a "
                         "size below what is already loaded is an error); for iterating")
    ap.add_argument("--scenario", action="append",
                    help="run only scenarios whose name contains this (repeatable)")
    args = ap.parse_args()
    out = sys.stderr if args.json else sys.stdout
    if args.scenario:
        for name in list(SCENARIOS):
            if not any(s in name for s in args.scenario):
                del SCENARIOS[name]

    fresh = not (args.reuse and database_exists(f"{args.server}/postgres", args.database))
    if fresh:
        recreate_database(f"{args.server}/postgres", args.database)
    app = make_app(f"{args.server}/{args.database}".replace("postgresql://",
                                                            "postgresql+psycopg://"))
    with app.app_context():
        upgrade()
    conn = psycopg.connect(f"{args.server}/{args.database}")
    if fresh:
        load_users(conn)
    loaded = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    if loaded > min(args.sizes):
        raise SystemExit(f"{args.database} already holds {loaded:,} listings")
    defs = listing_indexes(conn)
    report = []
    for size in sorted(args.sizes):
        rate, index_s = 0.0, 0.0
        if size > loaded:
            for name, _ in defs:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            conn.commit()
            rate = load(conn, loaded + 1, size - loaded)
            index_s = rebuild_indexes(conn, defs)
            conn.execute("SELECT setval(pg_get_serial_sequence('listings', 'id'), %s)",
                         (size,))
            conn.commit()
            loaded = size
        active = conn.execute("SELECT count(*) FROM listings WHERE status = 'active'").fetchone()
        print(f"\n== {size:,} listings ({active[0]:,} active): COPY {rate:,.0f} rows/s, "
              f"index build + VACUUM ANALYZE {index_s:.1f} s", file=out)
        results = run_scenarios(app, args.runs)
        print(f"| {'scenario':42} | server p50 | server p95 | client p50 | client p95 | "
              "indexes used |", file=out)
        print("| --- | ---: | ---: | ---: | ---: | --- |", file=out)
        for r in results:
            print(f"| {r['name']:42} | {r['server_p50']:10.2f} | {r['server_p95']:10.2f} | "
                  f"{r['client_p50']:10.2f} | {r['client_p95']:10.2f} | {r['indexes']} |",
                  file=out, flush=True)
        report.append((size, rate, index_s, results))
    if args.json:
        summary: dict = {}
        for size, _, _, results in report:
            for r in results:
                summary.setdefault(r["name"], {})[str(size)] = {
                    "p50_ms": round(r["client_p50"], 3), "p95_ms": round(r["client_p95"], 3)}
        print(json.dumps(summary, indent=2))
    if args.plans:
        with args.plans.open("w") as fh:
            for size, _, _, results in report:
                for r in results:
                    fh.write(f"### {size:,} listings: {r['name']}\n\n```\n{r['plan']}\n```\n\n")
    conn.close()


if __name__ == "__main__":
    main()
