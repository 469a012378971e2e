"""CPU per request of the API's endpoints in-process, against the same hello-world.

``python bench/api_wsgi.py [--requests N] [--repeats R] [--profile ENDPOINT]``

The companion of ``bench/api_http.py``, on the dataset it leaves in ``reloop_http_bench`` (run
that first; ``--reuse`` dataset, 100k listings): each request is a WSGI environ handed to the
app's callable (``wsgi:app``, configured as api_http.py's gunicorn runs it: PostgreSQL, no
Redis, rate limits off, ``LOG_LEVEL=WARNING``, Prometheus multiprocess mode) and to
``bench/hello_wsgi.py``'s, with no server and no socket. It prints the process CPU time per
request (best of ``--repeats`` runs of ``--requests`` each; PostgreSQL's side is not counted)
and the difference to the hello-world: what the app's own code costs, which the HTTP figures
hide under gunicorn's share and the machine's noise. ``--profile ENDPOINT`` prints cProfile's
top functions for one endpoint instead, by CPU time (not waits on PostgreSQL), sorted by
internal time (``SORT=cumulative`` in the environment for cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg
from api_http import ESTIMATE, reuse

SERVER = "postgresql://postgres@127.0.0.1:5432"


def environ(method: str, path: str, query: str = "", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> dict:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
           "wsgi.multiprocess": True, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
           "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
           "_body": body or b""}
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(headers or {})
    return env


def call(app, template: dict) -> tuple[str, bytes]:
    env = dict(template)
    env["wsgi.input"] = io.BytesIO(env.pop("_body"))
    status: list[str] = []
    out = app(env, lambda s, h, e=None: status.append(s))
    data = b"".join(out)
    if hasattr(out, "close"):
        out.close()
    return status[0], data


def cpu_per_request(app, template: dict, requests: int, repeats: int) -> float:
    for _ in range(min(300, requests)):
        call(app, template)
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(requests):
            call(app, template)
        best = min(best, (time.process_time() - started) / requests * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database", default="reloop_http_bench")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", metavar="ENDPOINT")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    url = f"{SERVER}/{args.database}"
    token = reuse(SERVER, args.database)
    with psycopg.connect(url) as conn:
        listing_id = conn.execute("SELECT id FROM listings WHERE status = 'active' "
                                  "ORDER BY id LIMIT 1").fetchone()[0]
    os.environ.pop("REDIS_URL", None)
    os.environ.update({"DATABASE_URL": url, "SECRET_KEY": "bench-http",
                       "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
                       "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="reloop-bench-")})
    from hello_wsgi import app as hello  # noqa: PLC0415  (after the environment is set)

    from wsgi import app  # noqa: PLC0415

    body = json.dumps(ESTIMATE).encode()
    cases = {
        "hello-world": (hello, environ("GET", "/")),
        "healthz": (app, environ("GET", "/healthz")),
        "listing detail": (app, environ("GET", f"/api/v1/listings/{listing_id}")),
        "text search": (app, environ("GET", "/api/v1/listings", "q=iphone")),
        "estimate": (app, environ("POST", "/api/v1/footprints/estimate", body=body,
                                  headers={"CONTENT_TYPE": "application/json"})),
        "carbon account": (app, environ("GET", "/api/v1/carbon/account", headers={
            "HTTP_AUTHORIZATION": f"Bearer {token}"})),
    }
    for name, (target, template) in cases.items():
        status, data = call(target, template)
        if not status.startswith("200"):
            raise SystemExit(f"{name}: {status} {data[:300]!r}")
    if args.profile:
        target, template = cases[args.profile]
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on PostgreSQL
        profiler.enable()
        for _ in range(args.requests):
            call(target, template)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime")).print_stats(args.top)
        return
    print(f"in-process CPU per request, best of {args.repeats} x {args.requests}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| endpoint | CPU us/request | minus hello-world |")
    print("| --- | ---: | ---: |")
    base = None
    for name, (target, template) in cases.items():
        us = cpu_per_request(target, template, args.requests, args.repeats)
        base = us if base is None else base
        print(f"| {name} | {us:,.1f} | {us - base:+,.1f} |")


if __name__ == "__main__":
    main()
