"""HTTP latency of ``POST /api/v1/footprints/estimate``: Flask test client and gunicorn.

``python bench/estimator_http.py [--requests N]``: prints median / p95 / p99 in ms. Traffic
goes only to 127.0.0.1, to a gunicorn this script starts and stops itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.app import create_app

BODIES = [
    {"category": "smartphone", "brand": "Apple", "model": "iPhone 13", "storage_gb": 128,
     "condition": "good", "age_years": 3},
    {"category": "laptop", "brand": "Dell", "model": "Latitude 5420", "ram_gb": 16},
    {"category": "console", "brand": "Nintendo", "model": "Switch"},
    {"category": "monitor", "brand": "HP", "model": "E24 G5", "screen_inches": 24},
]


def summary(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(f"{name:<34} n={len(ms):<6} median {statistics.median(ms):6.2f} ms   "
          f"p95 {p(0.95):6.2f} ms   p99 {p(0.99):6.2f} ms")


def bench_test_client(n: int, db_path: str) -> None:

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "LOG_LEVEL": "ERROR",
                      "REDIS_URL": None})
    client = app.test_client()
    payloads = [json.dumps(b) for b in BODIES]
    for body in payloads:  # warm-up: model fit happens on first use
        client.post("/api/v1/footprints/estimate", data=body,
                    headers={"Content-Type": "application/json"})
    samples = []
    for i in range(n):
        t = time.perf_counter()
        resp = client.post("/api/v1/footprints/estimate", data=payloads[i % len(payloads)],
                           headers={"Content-Type": "application/json"})
        samples.append(time.perf_counter() - t)
        assert resp.status_code == 200
    summary("Flask test client (in-process)", samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_gunicorn(n: int, db_path: str, workers: int) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "LOG_LEVEL": "ERROR"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "error", "wsgi:app"], cwd=ROOT, env=env)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        payloads = [json.dumps(b) for b in BODIES]

        def post(body: str) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/v1/footprints/estimate", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            assert resp.status == 200, resp.status

        for _ in range(4 * workers):
            for body in payloads:
                post(body)
        samples = []
        for i in range(n):
            t = time.perf_counter()
            post(payloads[i % len(payloads)])
            samples.append(time.perf_counter() - t)
        summary(f"gunicorn -w {workers} (loopback HTTP)", samples)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = f"{tmp}/bench.sqlite3"
        bench_test_client(args.requests, db_path)
        bench_gunicorn(args.requests, db_path, args.workers)


if __name__ == "__main__":
    main()
