"""HTTP throughput of the API against a hello-world, under one gunicorn config, in one run.

``python bench/api_http.py [--listings 100000] [--workers 4] [--connections 32] [--seconds 10]``

(Named ``api_http.py``, not ``http.py`` as issue 14 put it: a script folder's ``http.py`` would
shadow the standard library's ``http`` for every other script in bench/.)

Creates (drops first) the PostgreSQL database ``--database``, migrates it, seeds ``--listings``
listings (bench/search_data.py, COPY) and one user with a token, then starts gunicorn with the
checked-in ``gunicorn.conf.py`` twice, side by side: for ``bench/hello_wsgi.py`` (a Flask
hello-world) and for the app (``wsgi:app``), with the same ``WEB_CONCURRENCY``. Each endpoint
is measured between two hello-world runs and its ratio is to their mean (the machine is
shared: its load moves during a run). Each endpoint is loaded
for ``--seconds`` by wrk (``apt-get install wrk``) when it is on PATH, else by a threaded Python
client (one keep-alive-less connection per request, like wrk against sync workers); it prints
req/s, p50 and p99 and the ratio of req/s to the hello-world's. ``--json`` prints the figures
as JSON as well. The load generator shares the machine: on 2 cores it takes a share of the CPU
that would otherwise serve requests, the same for the baseline and the endpoints. Worker
recycling (``max_requests``) is off for both servers: every worker would otherwise reach it
within one run and reboot in the middle of an endpoint's measurement.

Each run also counts the CPU time spent on it (Linux ``/proc``): by the server's workers, by
the PostgreSQL backends of ``--database`` and by the load generator, per request. On this
shared machine req/s moves with whatever else runs; CPU per request moves far less, and its
ratio (hello-world's CPU per request over the endpoint's) says what the endpoint costs where
req/s cannot. Where it goes (server, database, client) says what a change can still win.

"listing detail" and "text search" repeat one request (one listing, ``q=iphone``): the case
most favourable to caches. "detail, 2,000 ids" spreads the load over 2,000 active listings
picked at random, "detail, all ids" over every active listing (~60,000: most requests of a
run are the first for their listing, so they miss the response cache and store a copy), and
"search, mixed" over every query of bench/search.py's scenarios (text, category, price range,
the four sorts), each request picking one at random.

The app runs as in production, with Redis (``--redis``; its database is flushed first, so the
response cache starts cold and only the 2 s warm-up before each case fills it) and the
shared response cache for listing detail and search (core.http.respcache); Redis's CPU is
counted with the rest. ``--response-cache off`` measures every request running its view,
``--redis none`` the embedded setup (one in-memory cache per worker).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg
from flask_migrate import upgrade
from procstat import process_cpu, spent_since
from redis import Redis
from search import (
    SCENARIOS,
    listing_indexes,
    load,
    load_users,
    make_app,
    rebuild_indexes,
    recreate_database,
)

from marketplace.accounts import services as accounts
from marketplace.core.db import db

TARGETS = {"healthz": None, "listing detail": 0.5, "text search": 0.3, "estimate": 0.6,
           "carbon account": 0.5, "detail, 2,000 ids": 0.5, "search, mixed": 0.3}
SPREAD = 2000  # listing ids of the "detail, 2,000 ids" case
ESTIMATE = {"category": "smartphone", "brand": "Apple", "model": "iPhone 13",
            "storage_gb": 128, "condition": "good", "age_years": 3}


def seed(server: str, database: str, listings: int) -> str:
    """The bearer token of a seeded user."""
    recreate_database(f"{server}/postgres", database)
    app = make_app(f"{server}/{database}".replace("postgresql://", "postgresql+psycopg://"))
    with app.app_context():
        upgrade()
    conn = psycopg.connect(f"{server}/{database}")
    load_users(conn)
    defs = listing_indexes(conn)
    for name, _ in defs:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.commit()
    load(conn, 1, listings)
    rebuild_indexes(conn, defs)
    conn.execute("SELECT setval(pg_get_serial_sequence('listings', 'id'), %s)", (listings,))
    conn.commit()
    conn.close()
    with app.app_context():
        user = accounts.register("bench-http@reloop.test", "bench-http-password", "Bench")
        token, _ = accounts.issue_token(user)
        db.session.remove()
    return token


def reuse(server: str, database: str) -> str:
    """The dataset of an earlier run (``--reuse``): a new token for its user."""
    app = make_app(f"{server}/{database}".replace("postgresql://", "postgresql+psycopg://"))
    with app.app_context():
        user = accounts.check_password("bench-http@reloop.test", "bench-http-password")
        token, _ = accounts.issue_token(user)
        db.session.remove()
    return token


def listing_ids(server: str, database: str) -> list[int]:
    """The first active listing (the single-id case: always in PostgreSQL's cache) followed by
    ``SPREAD`` active listings picked at random with a fixed seed (the spread case)."""
    with psycopg.connect(f"{server}/{database}") as conn:
        first = conn.execute("SELECT id FROM listings WHERE status = 'active' "
                             "ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("SELECT setseed(0.42)")
        spread = [r[0] for r in conn.execute(
            "SELECT id FROM listings WHERE status = 'active' ORDER BY random() LIMIT %s",
            (SPREAD,))]
    return [first, *spread]


def all_active_ids(server: str, database: str) -> list[int]:
    """Every active listing (the "detail, all ids" case: most requests miss any cache)."""
    with psycopg.connect(f"{server}/{database}") as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM listings WHERE status = 'active' ORDER BY id")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app_spec: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log",  # noqa: SIM115
                                      delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app_spec],
        cwd=ROOT, env={**env, "PORT": str(port)}, stdout=log, stderr=log)
    deadline = time.time() + 240  # workers boot slowly on a busy 2-core machine
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz" if app_spec == "wsgi:app" else "/")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"gunicorn {app_spec} did not start; see {log.name}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def mixed_searches() -> list[str]:
    """Every variant of bench/search.py's scenarios as a search URL (text, filters, sorts),
    once each; a deep-page variant (``_deep``, which bench/search.py pages through) as its
    first page."""
    urls = ["/api/v1/listings?" + urlencode({k: x for k, x in v.items() if k != "_deep"})
            for variants in SCENARIOS.values() for v in variants]
    return list(dict.fromkeys(urls))


def run_wrk(port: int, method: str, path: str | list[str], headers: dict, body: str | None,
            connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(f"wrk.method = {json.dumps(method)}\n")
        if isinstance(path, list):  # each request takes one of the paths at random
            fh.write("paths = {" + ", ".join(json.dumps(p) for p in path) + "}\n"
                     "request = function()\n"
                     "  return wrk.format(nil, paths[math.random(#paths)])\n"
                     "end\n")
            path = path[0]
        if body is not None:
            fh.write(f"wrk.body = {json.dumps(body)}\n")
        for k, v in headers.items():
            fh.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
             "-s", script, f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50"), "p99_ms": ms("99"),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0}


def run_python(port: int, method: str, path: str | list[str], headers: dict,
               body: str | None, connections: int, seconds: int) -> dict:
    paths = path if isinstance(path, list) else [path]
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        mine, bad = [], 0
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(method, random.choice(paths), body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            mine.append(time.perf_counter() - t)
            bad += resp.status >= 400
        with lock:
            samples.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    pct = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"rps": len(samples) / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "requests": len(samples), "errors": errors[0]}


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except OSError:
                continue
    return kids


class CpuMeter:
    """CPU seconds spent during one load run by the server's workers, by the PostgreSQL
    backends connected to the benchmark's database and by the load generator (wrk, or this
    process for the Python client). Per request, they are a measure of cost that other work
    on the machine moves far less than req/s (Linux /proc; zeros elsewhere)."""

    def __init__(self, server: str, database: str, redis_pids: list[int]) -> None:
        self.dsn, self.database = f"{server}/postgres", database
        self.redis_pids = redis_pids

    def _backends(self) -> list[int]:
        with psycopg.connect(self.dsn) as conn:
            return [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))]

    def run(self, proc: subprocess.Popen, runner, *args) -> dict:
        workers, backends = _children(proc.pid), self._backends()
        before = {p: process_cpu(p) for p in (*workers, *backends, *self.redis_pids)}
        client0, own0 = os.times(), time.process_time()
        result = runner(*args)
        client1, own1 = os.times(), time.process_time()
        backends = set(backends) | set(self._backends())  # new ones: all their CPU
        spent = lambda pids: spent_since(before, pids)  # noqa: E731
        client = ((client1.children_user + client1.children_system)
                  - (client0.children_user + client0.children_system)
                  if runner is run_wrk else own1 - own0)
        n = max(result["requests"], 1)
        result["cpu_us"] = {"server": spent(workers) / n * 1e6,
                            "postgresql": spent(backends) / n * 1e6,
                            "redis": spent(self.redis_pids) / n * 1e6,
                            "client": client / n * 1e6}
        result["cpu_us"]["total"] = sum(result["cpu_us"].values())
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database", default="reloop_http_bench")
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=4, help="WEB_CONCURRENCY")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--log-level", default="WARNING",
                    help="LOG_LEVEL of the app (INFO adds one JSON access line per request)")
    ap.add_argument("--python-client", action="store_true", help="do not use wrk")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reuse", action="store_true",
                    help="use the dataset a previous run left in --database")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                    help="REDIS_URL of the app, as in production (its database is flushed "
                         "first: a cold response cache); 'none': the embedded setup")
    ap.add_argument("--response-cache", choices=("on", "off"), default="on",
                    help="RESPONSE_CACHE: off measures every request running its view")
    args = ap.parse_args()
    runner = run_python if args.python_client or not shutil.which("wrk") else run_wrk

    token = (reuse(args.server, args.database) if args.reuse
             else seed(args.server, args.database, args.listings))
    listing_id, *spread = listing_ids(args.server, args.database)
    every = all_active_ids(args.server, args.database)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    redis_pids: list[int] = []
    if args.redis != "none":
        env["REDIS_URL"] = args.redis
        Redis.from_url(args.redis).flushdb()
        redis_pids = [int(p) for p in subprocess.run(["pgrep", "-x", "redis-server"],
                                                     capture_output=True, text=True
                                                     ).stdout.split()]
    env["RESPONSE_CACHE"] = "true" if args.response_cache == "on" else "false"
    env.update({"DATABASE_URL": f"{args.server}/{args.database}", "SECRET_KEY": "bench-http",
                "WEB_CONCURRENCY": str(args.workers), "RATELIMIT_ENABLED": "false",
                "LOG_LEVEL": args.log_level,
                # gunicorn.conf.py recycles a worker after ~20,000 requests; all four reach it
                # within one run and would reboot (re-import, new connections) mid-endpoint
                "GUNICORN_CMD_ARGS": "--max-requests 0",
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="reloop-bench-metrics-")})
    auth = {"Authorization": f"Bearer {token}"}
    cases = {
        "healthz": ("GET", "/healthz", {}, None),
        "listing detail": ("GET", f"/api/v1/listings/{listing_id}", {}, None),
        "detail, 2,000 ids": ("GET", [f"/api/v1/listings/{i}" for i in spread], {}, None),
        "detail, all ids": ("GET", [f"/api/v1/listings/{i}" for i in every], {}, None),
        "text search": ("GET", "/api/v1/listings?q=iphone", {}, None),
        "search, mixed": ("GET", mixed_searches(), {}, None),
        "estimate": ("POST", "/api/v1/footprints/estimate",
                     {"Content-Type": "application/json"}, json.dumps(ESTIMATE)),
        "carbon account": ("GET", "/api/v1/carbon/account", auth, None),
    }
    load1 = os.getloadavg()
    results: dict[str, dict] = {}
    hello_runs: list[float] = []
    # Both servers run side by side (an idle sync worker costs no CPU) and each endpoint is
    # measured between two hello-world runs: its ratio is to the mean of those two, so a
    # change in the machine's load during the run moves both sides of the ratio alike.
    hello, hello_port = start("bench.hello_wsgi:app", env)
    app_proc, port = start("wsgi:app", env)
    meter = CpuMeter(args.server, args.database, redis_pids)
    hello_cpu: list[float] = []
    try:
        runner(hello_port, "GET", "/", {}, None, args.connections, 2)  # warm-up
        before = meter.run(hello, runner, hello_port, "GET", "/", {}, None, args.connections,
                           args.seconds)
        hello_runs.append(before["rps"])
        hello_cpu.append(before["cpu_us"]["total"])
        for name, (method, path, headers, body) in cases.items():
            runner(port, method, path, headers, body, args.connections, 2)  # warm-up
            results[name] = meter.run(app_proc, runner, port, method, path, headers, body,
                                      args.connections, args.seconds)
            after = meter.run(hello, runner, hello_port, "GET", "/", {}, None,
                              args.connections, args.seconds)
            hello_runs.append(after["rps"])
            hello_cpu.append(after["cpu_us"]["total"])
            results[name]["hello_rps"] = (before["rps"] + after["rps"]) / 2
            results[name]["hello_cpu_us"] = (before["cpu_us"]["total"]
                                             + after["cpu_us"]["total"]) / 2
            before = after
    finally:
        stop(app_proc)
        stop(hello)
    mean_cpu = sum(hello_cpu) / len(hello_cpu)
    results = {"hello-world": {**before, "rps": sum(hello_runs) / len(hello_runs),
                               "hello_rps": sum(hello_runs) / len(hello_runs),
                               "hello_cpu_us": mean_cpu,
                               "cpu_us": {**before["cpu_us"], "total": mean_cpu}}, **results}
    print(f"gunicorn.conf.py, WEB_CONCURRENCY={args.workers}, {args.connections} connections, "
          f"{args.seconds} s each, {args.listings:,} listings, client: {runner.__name__}, "
          f"Redis: {args.redis}, response cache: {args.response_cache}, "
          f"load average before {load1[0]:.2f} after {os.getloadavg()[0]:.2f}")
    print("hello-world req/s, run by run: " + ", ".join(f"{r:.0f}" for r in hello_runs))
    print(f"| {'endpoint':16} | req/s | p50 ms | p99 ms | hello-world around | ratio | target "
          "| errors | CPU us/req: server + PostgreSQL + Redis + client = total | CPU ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        r["ratio"] = r["rps"] / r["hello_rps"] if r["hello_rps"] else 0.0
        cpu = r["cpu_us"]
        r["cpu_ratio"] = r["hello_cpu_us"] / cpu["total"] if cpu["total"] else 0.0
        target = TARGETS.get(name)
        print(f"| {name:16} | {r['rps']:7.0f} | {r['p50_ms']:6.2f} | {r['p99_ms']:6.2f} | "
              f"{r['hello_rps']:7.0f} | {r['ratio']:6.0%} | "
              f"{f'>= {target:.0%}' if target else '':>6} | {r['errors']} | "
              f"{cpu['server']:5.0f} + {cpu['postgresql']:4.0f} + {cpu['redis']:3.0f} + "
              f"{cpu['client']:4.0f} = "
              f"{cpu['total']:5.0f} | {r['cpu_ratio']:6.0%} |")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
