"""Gunicorn settings for the Reloop API: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read docs/deploy.md first. Environment:

- ``PORT`` (default 8000): port to bind on all interfaces. (``make run``'s development server
  defaults to 5000; this file is for gunicorn only.)
- ``WEB_CONCURRENCY``: number of worker processes (see ``_default_workers`` for the default).
- ``FORWARDED_ALLOW_IPS``: read by gunicorn itself (default ``127.0.0.1,::1``); see below.
- ``GUNICORN_CMD_ARGS``: gunicorn's own override of any setting here, e.g.
  ``GUNICORN_CMD_ARGS="--timeout 60"``.

Every value here is checked with ``gunicorn -c gunicorn.conf.py --check-config wsgi:app``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

from gunicorn import util
from gunicorn.workers.sync import SyncWorker


def _env_int(name: str, default: int, lo: int, hi: int) -> int:
    """Strict like the app's own settings: a bad value stops start-up, naming the variable.
    (A non-integer WEB_CONCURRENCY already stops gunicorn itself, with a traceback, before
    this file is read: gunicorn parses it for its own default.)"""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SystemExit(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def _cores() -> int:
    """CPUs this process may run on (cpuset-aware; CFS quotas are not seen: in a container
    limited by quota, set WEB_CONCURRENCY explicitly)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _default_workers(cores: int) -> int:
    """1.5 sync workers per core (at least 2), not the usual 2 x cores + 1.

    A sync worker serves one request at a time, so extra workers only pay off while others
    wait. The usual 2n+1 assumes about half of a request is waiting. Reloop's measured
    requests are mostly Python: a search's round trip from Python is 0.5-2.5 ms against
    0.07-1 ms spent in PostgreSQL (docs/benchmarks.md, Search, 1M rows), and a completion
    writer spends ~4 ms in Python and ~2 ms waiting for the commit's WAL flush (Credits).
    That is about one third waiting, so 1 / (1 - 1/3) = 1.5 workers per core keep the cores
    busy. More workers add no throughput once PostgreSQL is the bottleneck; each adds
    ~120 MB of memory (RSS of an idle worker, measured) and a PostgreSQL connection (one
    per request in flight; SQLAlchemy's pool would allow 5 + 10, see
    docs/scaling.md). Behind a PostgreSQL on another host (more round-trip wait), raise it
    with WEB_CONCURRENCY after measuring.
    """
    return max(2, math.ceil(1.5 * cores))


# --- Binding and processes -------------------------------------------------------------
bind = [f"0.0.0.0:{_env_int('PORT', 8000, 1, 65535)}"]
workers = _env_int("WEB_CONCURRENCY", _default_workers(_cores()), 1, 256)
# The app is synchronous (Flask, psycopg, SQLAlchemy sessions per request); no threads, no
# greenlets. Sync workers must sit behind a buffering reverse proxy or load balancer (slow
# clients would otherwise hold a worker for the duration of their upload or download).
# (SyncWorker, answering its own errors in the API's JSON shape: see JsonErrorSyncWorker.)


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own error responses (414 request line too long, 400 bad header line, 431
    too many headers...), written before the app sees the request, in the API's error shape
    ``{code, status, message, errors}`` instead of gunicorn's HTML page."""
    body = json.dumps({"code": status_int, "status": reason,
                       "message": mesg or reason, "errors": {}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorSyncWorker(SyncWorker):
    """The sync worker, with gunicorn's error pages in JSON (``util.write_error`` is what
    ``Worker.handle_error`` calls; it is replaced in the worker process only)."""

    def init_process(self):
        util.write_error = _write_json_error
        super().init_process()


worker_class = JsonErrorSyncWorker
# Listen queue for bursts while every worker is busy.
backlog = 2048
# Each worker builds the app itself (no preload): no database or Redis socket can be shared
# across fork, and a code reload (HUP) re-imports everything. Costs start-up time and memory:
# 3 workers booting at once on the 2-core machine answered /healthz after ~5.5 s, ~120 MB RSS
# each (the estimator is fitted lazily, ~0.1 s, on first use).
preload_app = False
# Heartbeat files on tmpfs: a worker blocked on a slow disk is not killed as hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# --- Timeouts ---------------------------------------------------------------------------
# Last resort against a hung worker, not a request deadline: it must exceed the slowest
# legitimate request, or gunicorn kills a worker in the middle of a Stripe call that would
# have ended cleanly. The Stripe client waits at most 5 s to connect and 30 s to read, and
# retries network errors twice (marketplace/payments/stripe_client.py): ~105 s worst case.
timeout = 120
# Time given to in-flight requests on SIGTERM / HUP / max_requests before a worker is killed.
graceful_timeout = 30
# Ignored by the sync worker (no keep-alive); kept for gthread experiments.
keepalive = 5

# --- Request limits (defence against oversized requests) --------------------------------
# Longest request line (method + URL + query + protocol). Search with every filter and a
# cursor (base64url JSON of a sort value and an id) stays well under 2 KB.
limit_request_line = 4094
# Headers per request: clients send ~10-20, proxies add X-Forwarded-*, X-Request-ID.
limit_request_fields = 50
# Bytes per header: bearer tokens and Stripe-Signature (several v1 signatures while a webhook
# secret is rolled) are a few hundred bytes.
limit_request_field_size = 4096
# Bodies are not limited by gunicorn: cap them at the proxy (e.g. nginx client_max_body_size).

# --- Recycling --------------------------------------------------------------------------
# A worker restarts after this many requests (plus up to the jitter, so workers do not restart
# together). A guard against slow leaks, not a fix for one: at ~100-300 requests/s per worker
# this recycles each worker every minute or few, which costs a re-import and new connections.
max_requests = 20000
max_requests_jitter = 2000

# --- Proxies ----------------------------------------------------------------------------
# Client addresses (X-Forwarded-For) are resolved by the app (werkzeug ProxyFix), trusting
# PROXY_HOPS proxies. gunicorn itself only looks at the scheme headers (X-Forwarded-Proto...)
# and trusts them from forwarded_allow_ips, which it reads from FORWARDED_ALLOW_IPS (default
# 127.0.0.1,::1). Set FORWARDED_ALLOW_IPS to the load balancer's addresses or subnet (never
# "*" unless only the proxy can reach this port), and PROXY_HOPS to the number of proxies.

# --- Logging ----------------------------------------------------------------------------
# The app logs one JSON line per request itself (logger marketplace.access, with the request
# id, status and duration): gunicorn's access log stays off so a request is not logged twice.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
# gunicorn's own lines (start-up, worker boots and timeouts) as JSON lines on stderr too, in
# the app's shape (time, level, logger, message), so one log pipeline parses everything.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json",
                   "stream": "ext://sys.stderr"},
    },
    # gunicorn merges this dict over its defaults key by key; its default root logger names a
    # handler that is replaced here, so root is given explicitly. The app adds its own JSON
    # handler to root when each worker builds it (marketplace/core/logs.py).
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(),
                           "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
proc_name = "reloop-web"

# --- Metrics (prometheus_client multiprocess mode) ---------------------------------------
# Every worker writes its request metrics to files in one directory so that a scrape of
# /metrics, served by any worker, counts all of them (marketplace/core/metrics.py). A fresh
# directory per server start unless PROMETHEUS_MULTIPROC_DIR is set (it must then be empty at
# start: clean it in the service's start script).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="reloop-metrics-")
# Imported only now: prometheus_client picks its multiprocess storage when imported.
from prometheus_client import multiprocess  # noqa: E402


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
