"""gunicorn with the checked-in gunicorn.conf.py: its own errors (request line too long, bad
header line) and the app's body limit, all in the API's JSON error shape, over real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.stripe_fixtures import free_port

ROOT = Path(__file__).resolve().parents[1]
SHAPE = {"code", "status", "message", "errors"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "GUNICORN_CMD_ARGS")}
    env.update(PORT=str(port), WEB_CONCURRENCY="1", LOG_LEVEL="WARNING",
               DATABASE_URL=f"sqlite:///{tmp / 'g.sqlite3'}")
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _raw(port: int, data: bytes, chunks=()) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:  # the server answered and closed while we were still sending
            pass
        received = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            received += part
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                headers = dict(line.split(": ", 1) for line in
                               head.decode("latin-1").split("\r\n")[1:])
                length = int(headers.get("Content-Length", -1))
                if length >= 0 and len(body) >= length:
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _error(status: int, headers: dict, body: bytes, expected: int) -> dict:
    assert status == expected, body
    assert headers["content-type"].startswith("application/json")
    payload = json.loads(body)
    assert set(payload) == SHAPE and payload["code"] == expected
    return payload


def test_request_line_too_long_is_json_414(server):
    path = "/api/v1/listings?q=" + "x" * 5000
    _error(*_raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), 414)


def test_bad_header_line_is_json_400(server):
    _error(*_raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"), 400)


def test_too_many_headers_is_json_431(server):
    many = "".join(f"X-H{i}: v\r\n" for i in range(80))
    _error(*_raw(server, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode()), 431)


def test_body_over_the_limit_is_json_413(server):
    body = b"x" * (2 * 1024 * 1024)
    head = (f"POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    _error(*_raw(server, head, [body]), 413)


def test_chunked_body_over_the_limit_is_json_413(server):
    head = (b"POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 20 + [b"0\r\n\r\n"]
    _error(*_raw(server, head, chunks), 413)
