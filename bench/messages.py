"""Messages per second through the API, and SSE fan-out latency with many open streams.

Starts gunicorn (gthread) and one RQ worker against the given PostgreSQL and Redis, creates
one seller with one listing and N-1 buyers each with a conversation about it, opens one
``GET /events/stream`` per user (N streams, read by one selector loop over raw sockets),
then:

1. throughput: ``--senders`` threads post ``--messages`` messages (each buyer in their own
   conversation) as fast as the API answers: messages per second;
2. latency: the seller answers ``--latency-messages`` buyers one at a time (paced), and the
   time from just before the POST to the frame's arrival on the buyer's open stream is
   recorded (p50 / p95 / p99 / max).

    .venv/bin/python bench/messages.py --database postgresql://postgres@127.0.0.1/reloop_bench \\
        --redis redis://127.0.0.1:6379/9 --streams 1000

The database is migrated and emptied first (it must be a scratch database).
"""

from __future__ import annotations

import argparse
import logging
import os
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests
from flask_migrate import upgrade
from procstat import cpu_seconds
from redis import Redis
from sqlalchemy import text

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.app import create_app
from marketplace.core.db import db


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def env(args) -> dict:
    return {**os.environ, "DATABASE_URL": args.database, "REDIS_URL": args.redis,
            "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false",
            "DATABASE_POOL_SIZE": str(args.pool), "DATABASE_MAX_OVERFLOW": "10",
            "STREAM_MAX_SECONDS": "3600"}


def prepare(args) -> list[tuple[int, str]]:
    """Empty, migrate, and create ``streams`` users with tokens: [(id, token)]."""
    os.environ.update(env(args))
    app = create_app()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        users = [User(email=f"u{i}-{uuid.uuid4().hex[:6]}@bench.test", password_hash="x",
                      display_name=f"User {i}") for i in range(args.streams)]
        db.session.add_all(users)
        db.session.commit()
        out = [(u.id, accounts.issue_token(u)[0]) for u in users]
    Redis.from_url(args.redis).flushdb()
    return out


def start(args) -> tuple[list[subprocess.Popen], str]:
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--worker-class", "gthread",
         "--workers", str(args.web_workers), "--threads", str(args.threads),
         "--bind", f"127.0.0.1:{args.port}", "wsgi:app"], cwd=ROOT, env=env(args),
        stdout=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "workers", "--no-cron", "notifications",
                               "default"], cwd=ROOT, env=env(args), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(600):
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return [web, worker], base
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


class Streams(threading.Thread):
    """N open SSE responses on raw sockets, read by one selector loop; records, per user,
    the arrival time of each message frame by message body."""

    def __init__(self, port: int, users: list[tuple[int, str]]):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.arrivals: dict[str, float] = {}
        self.frames = 0
        self.open = 0
        for user_id, token in users:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall((f"GET /api/v1/events/stream HTTP/1.1\r\nHost: bench\r\n"
                          f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n")
                         .encode())
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, {"user": user_id, "buf": b""})
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.5):
                now = time.monotonic()
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.sel.unregister(key.fileobj)
                    continue
                data = key.data
                if b"text/event-stream" in chunk and not data.get("ok"):
                    data["ok"] = True
                    self.open += 1
                data["buf"] += chunk
                while b"\n\n" in data["buf"]:
                    frame, data["buf"] = data["buf"].split(b"\n\n", 1)
                    if b"event: message" in frame and b'"body":"' in frame:
                        body = frame.split(b'"body":"', 1)[1].split(b'"', 1)[0].decode()
                        self.frames += 1
                        self.arrivals.setdefault(f"{data['user']}:{body}", now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1100)
    parser.add_argument("--pool", type=int, default=20)
    parser.add_argument("--port", type=int, default=8716)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--latency-messages", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between them")
    args = parser.parse_args()

    logging.getLogger("urllib3").setLevel(logging.ERROR)
    users = prepare(args)
    procs, base = start(args)
    try:
        run(args, base, users, procs[0].pid, procs[1].pid)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()


def workers_memory(master: int) -> tuple[int, int]:
    """(RSS in kB, threads) summed over the gunicorn master's worker processes."""
    out = subprocess.run(["ps", "-o", "rss=,nlwp=", "--ppid", str(master)],
                         capture_output=True, text=True).stdout.split()
    return sum(map(int, out[0::2])), sum(map(int, out[1::2]))


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout.split()
    return [int(p) for p in out] + [d for p in out for d in descendants(int(p))]


def run(args, base: str, users: list[tuple[int, str]], master: int, worker: int) -> None:
    seller_id, seller_token = users[0]
    seller = {"Authorization": f"Bearer {seller_token}"}
    listing = requests.post(f"{base}/api/v1/listings", headers=seller, json={
        "title": "iPhone 13 128GB", "description": "bench", "category": "smartphone",
        "brand": "Apple", "model": "iPhone 13", "storage_gb": 128, "release_year": 2021,
        "condition": "good", "price": {"amount": 39000, "currency": "EUR"}, "photos": [],
        "location": {"city": "Lyon", "country": "FR"}}, timeout=30).json()
    session = requests.Session()

    def open_conv(user):
        resp = session.post(f"{base}/api/v1/listings/{listing['id']}/conversations",
                            headers={"Authorization": f"Bearer {user[1]}"}, timeout=60)
        resp.raise_for_status()
        return user[0], user[1], resp.json()["id"]

    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        convs = list(pool.map(open_conv, users[1:]))
    print(f"{len(convs)} conversations opened in {time.monotonic() - t0:.1f} s; load {load()}")

    # 0. Throughput with no stream open.
    per_sender = args.messages // args.senders

    def send(k: int, tag: str) -> list[float]:
        s, took = requests.Session(), []
        for i in range(per_sender):
            user_id, token, conv = convs[(k * per_sender + i) % len(convs)]
            began = time.monotonic()
            s.post(f"{base}/api/v1/conversations/{conv}/messages",
                   headers={"Authorization": f"Bearer {token}"},
                   json={"body": f"{tag}{k}-{i}"}, timeout=60).raise_for_status()
            took.append(time.monotonic() - began)
        return took

    def throughput(tag: str, label: str) -> None:
        load_before = load()
        web_pids, worker_pids = descendants(master), [worker, *descendants(worker)]
        web_cpu, worker_cpu = cpu_seconds(web_pids), cpu_seconds(worker_pids)
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.senders) as pool:
            took = sorted(t for ts in pool.map(send, range(args.senders), [tag] * args.senders)
                          for t in ts)
        elapsed = time.monotonic() - t0
        print(f"throughput ({label}): {len(took)} messages in {elapsed:.2f} s = "
              f"{len(took) / elapsed:.0f} msg/s, {args.senders} senders; request p50 "
              f"{took[len(took) // 2] * 1000:.0f} ms, p95 {took[int(len(took) * .95)] * 1000:.0f}"
              f" ms; load {load_before} -> {load()}")
        time.sleep(3)  # the RQ worker's notifications catch up
        n = len(took)
        print(f"  CPU per message: web {(cpu_seconds(web_pids) - web_cpu) / n * 1000:.1f} ms, "
              f"RQ worker (notification) {(cpu_seconds(worker_pids) - worker_cpu) / n * 1000:.1f}"
              f" ms (user + system, whatever the load)")

    throughput("a", "no stream open")
    time.sleep(3)

    rss_before, threads_before = workers_memory(master)
    streams = Streams(args.port, users)
    streams.start()
    t0 = time.monotonic()
    while streams.open < len(users) and time.monotonic() - t0 < 120:
        time.sleep(0.2)
    print(f"{streams.open} streams open after {time.monotonic() - t0:.1f} s; load {load()}")
    time.sleep(2)
    rss_after, threads_after = workers_memory(master)
    print(f"web workers: RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MB, threads "
          f"{threads_before} -> {threads_after}: "
          f"{(rss_after - rss_before) / max(1, streams.open):.0f} kB per open stream")

    # 1. Throughput with every stream open.
    throughput("t", f"{streams.open} streams open")
    time.sleep(3)

    # 2. Fan-out latency: the seller answers buyers one at a time.
    latencies, missing = [], 0
    starts = {}
    for i in range(args.latency_messages):
        buyer_id, _, conv = convs[(i * 7919) % len(convs)]
        body = f"lat{i}"
        starts[f"{buyer_id}:{body}"] = time.monotonic()
        session.post(f"{base}/api/v1/conversations/{conv}/messages", headers=seller,
                     json={"body": body}, timeout=60).raise_for_status()
        time.sleep(args.pace)
    time.sleep(5)
    for key, began in starts.items():
        if key in streams.arrivals:
            latencies.append((streams.arrivals[key] - began) * 1000)
        else:
            missing += 1
    streams.stop.set()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    print(f"fan-out latency over {len(latencies)} messages ({streams.open} streams open): "
          f"p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms, "
          f"max {latencies[-1]:.0f} ms, mean {statistics.mean(latencies):.0f} ms; "
          f"missing {missing}; load {load()}")


if __name__ == "__main__":
    main()
