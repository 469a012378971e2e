"""Real processes: gunicorn (gthread, 2 workers), PostgreSQL, Redis and an RQ worker.

The buyer's message goes through one gunicorn worker; the seller's stream may be held by
the other: the wake-up crosses processes through Redis pub/sub. The notification for the
message is written by the RQ worker (outbox drain) and reaches the stream the same way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from tests.factories import listing_body

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict:
    return {**os.environ, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING",
            "RATELIMIT_ENABLED": "false", **extra}


@pytest.fixture
def services_up(app):  # the session app: schema migrated in DATABASE_URL
    port = _free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--worker-class", "gthread",
         "--threads", "8", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=_env(PORT=str(port)), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "workers", "--no-cron", "notifications",
                               "default"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert web.poll() is None, web.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
            time.sleep(0.3)
        yield base
    finally:
        for proc in (web, worker):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _user(app, base: str, name: str) -> dict:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(f"{base}/api/v1/auth/register", json={
        "email": email, "password": "correct horse battery", "display_name": name},
        timeout=10).raise_for_status()
    with app.app_context():  # as if the emailed verification code had been used
        db.session.execute(update(User).where(User.email == email)
                           .values(email_verified_at=utcnow()))
        db.session.commit()
    token = requests.post(f"{base}/api/v1/auth/tokens", json={
        "email": email, "password": "correct horse battery"}, timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _frames(resp, out: list, done: threading.Event) -> None:
    buffer = ""
    for chunk in resp.iter_content(chunk_size=None, decode_unicode=True):
        buffer += chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in frame.splitlines()
                          if ": " in line and not line.startswith(":"))
            if "id" in fields:
                out.append((time.monotonic(), fields["event"], json.loads(fields["data"])))
                if len(out) >= 2:
                    done.set()
                    return


def test_buyer_message_reaches_the_sellers_stream_within_a_second(services_up, app):
    base = services_up
    seller, buyer = _user(app, base, "Sally"), _user(app, base, "Bob")
    listing = requests.post(f"{base}/api/v1/listings", json=listing_body(), headers=seller,
                            timeout=10).json()
    conv = requests.post(f"{base}/api/v1/listings/{listing['id']}/conversations",
                         headers=buyer, timeout=10).json()
    stream = requests.get(f"{base}/api/v1/events/stream", headers=seller, stream=True,
                          timeout=(5, 30))
    assert stream.status_code == 200
    frames: list = []
    done = threading.Event()
    threading.Thread(target=_frames, args=(stream, frames, done), daemon=True).start()
    time.sleep(0.5)  # the stream is subscribed
    sent_at = time.monotonic()
    posted = requests.post(f"{base}/api/v1/conversations/{conv['id']}/messages",
                           json={"body": "Is the battery original?"}, headers=buyer,
                           timeout=10)
    assert posted.status_code == 201, posted.text
    assert done.wait(15), f"frames received: {frames}"
    stream.close()
    (msg_at, kind, data), (note_at, note_kind, note) = frames
    assert kind == "message" and data["body"] == "Is the battery original?"
    assert msg_at - sent_at < 1.0, f"message after {msg_at - sent_at:.3f} s"
    assert note_kind == "notification" and note["kind"] == "message.received"
    assert note_at - sent_at < 5.0, f"notification (via the RQ worker) after {note_at - sent_at}"
