"""/metrics under gunicorn with several workers: every worker's requests are counted
(prometheus_client multiprocess mode, set up by gunicorn.conf.py)."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "gunicorn-metrics-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, body


def _healthz_count(text: str) -> float:
    found = re.search(r'reloop_http_requests_total\{[^}]*endpoint="/healthz"[^}]*'
                      r'status="200"[^}]*\} ([\d.e+]+)', text)
    assert found, text[:2000]
    return float(found.group(1))


def test_requests_served_by_every_worker_are_counted(app, app_config, tmp_path):
    port = _free_port()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "x",
                "METRICS_TOKEN": TOKEN, "WEB_CONCURRENCY": "3", "PORT": str(port),
                "LOG_LEVEL": "WARNING", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.time() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        before = _healthz_count(_get(port, "/metrics", auth)[1])  # start-up polls included
        sent = 0
        with ThreadPoolExecutor(8) as pool:  # concurrent: the workers share the load
            for _ in range(20):
                statuses = list(pool.map(lambda _: _get(port, "/healthz")[0], range(16)))
                assert statuses == [200] * 16
                sent += 16
                if len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                    break
        writers = {p.name for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # more than one worker served (and wrote)
        for _ in range(4):  # whichever worker serves the scrape, it counts all of them
            status, text = _get(port, "/metrics", auth)
            assert status == 200
            assert _healthz_count(text) == before + sent, text[:2000]
    finally:
        proc.terminate()
        proc.wait(30)
