"""Shared Stripe test fixtures (payments and trades): a private localstripe server, the app
served over real HTTP, a fake of Stripe's ``/v1/transfers``, and webhook signing.

localstripe keeps its state in one pickle file (``/tmp/localstripe.pickle``) shared by every
instance on the machine, and other suites may run one at the same time: ours is started with
``--from-scratch`` on a free port, flushed with ``DELETE /_config/data``, and the tests only
look at objects they created themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from werkzeug.serving import make_server

from marketplace.payments import webhooks

STRIPE_KEY = "sk_test_reloop"
WEBHOOK_SECRET = "whsec_reloop_test"



class JsonHandler(BaseHTTPRequestHandler):
    """Base of the small local HTTP fakes in the tests: JSON replies, no access log."""

    def reply(self, status: int, body) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(method: str, url: str, data: dict[str, Any] | None = None,
             timeout: float = 5) -> int:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Authorization": f"Bearer {STRIPE_KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


class LocalStripe:
    def __init__(self, url: str):
        self.url = url

    def flush(self) -> None:
        assert _request("DELETE", f"{self.url}/_config/data") == 200

    def register_webhook(self, hook_id: str, url: str, secret: str,
                         events: list[str] | None = None) -> None:
        data: dict[str, Any] = {"url": url, "secret": secret}
        for i, event in enumerate(events or []):
            data[f"events[{i}]"] = event
        assert _request("POST", f"{self.url}/_config/webhooks/{hook_id}", data) == 200

    def client(self):
        """A StripeClient acting as the buyer's side would (confirming intents)."""

        return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": self.url},
                                   max_network_retries=0,
                                   http_client=stripe.RequestsClient(timeout=(3, 10)))


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[LocalStripe]:
    """A private ``python -m localstripe`` on a free port, for the whole session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"localstripe exited: {log_path.read_text()[-2000:]}")
            try:
                if _request("GET", f"{url}/v1/customers", timeout=1) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("localstripe did not answer within 30 s")
            time.sleep(0.1)
        server = LocalStripe(url)
        server.flush()
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def stripe_config(app, monkeypatch):
    """Point the session app at nothing yet, with test credentials; tests set the base."""
    monkeypatch.setitem(app.config, "STRIPE_API_KEY", STRIPE_KEY)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT", (3, 10))
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", None)
    yield app.config
    app.extensions.pop("reloop_stripe", None)


@pytest.fixture
def stripe_app(app, stripe_config, localstripe):
    """The session app talking to localstripe."""
    stripe_config["STRIPE_API_BASE"] = localstripe.url
    return app


class _TestHandlers:
    def __init__(self, app):
        self.app = app

    def on(self, event_type: str):
        def decorator(func):
            webhooks.register_event_handler(self.app, event_type, func)
            return func

        return decorator


@pytest.fixture
def handlers(app, monkeypatch):
    """Register webhook handlers for one test only: ``handlers.on(type)(func)``."""
    monkeypatch.setitem(app.extensions, webhooks.HANDLERS_EXTENSION, {})
    return _TestHandlers(app)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The session app over real HTTP on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


class FakeTransfers:
    """A minimal stand-in for Stripe's ``POST /v1/transfers`` (localstripe has no Connect).

    Records each request (headers, form fields); answers from ``responses`` (a list of
    (status, body) consumed in order), else with a new transfer object.
    """

    def __init__(self):
        self.requests: list[dict[str, Any]] = []
        self.responses: list[tuple[int, dict[str, Any]]] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(length).decode()).items()}
                time.sleep(fake.delay)
                with fake.lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "form": form})
                    n = len(fake.requests)
                    scripted = fake.responses.pop(0) if fake.responses else None
                if self.path != "/v1/transfers":
                    status, body = 404, {"error": {"type": "invalid_request_error",
                                                   "message": "not faked"}}
                elif scripted is not None:
                    status, body = scripted
                else:
                    status, body = 200, {
                        "id": f"tr_fake{n:04d}", "object": "transfer",
                        "amount": int(form["amount"]), "currency": form["currency"],
                        "destination": form["destination"],
                        "transfer_group": form.get("transfer_group"),
                        "metadata": {k[9:-1]: v for k, v in form.items()
                                     if k.startswith("metadata[")},
                    }
                self.reply(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def fake_transfers(app, stripe_config) -> Iterator[FakeTransfers]:
    fake = FakeTransfers()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    stripe_config["STRIPE_API_BASE"] = fake.url
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(10)


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_id: str, event_type: str = "payment_intent.succeeded",
                  obj: dict[str, Any] | None = None) -> bytes:
    obj = obj or {"id": "pi_test123", "object": "payment_intent", "amount": 1000,
                  "currency": "eur", "status": "succeeded", "metadata": {"trade_id": "42"}}
    return json.dumps({"id": event_id, "object": "event", "type": event_type,
                       "api_version": "2024-06-20", "created": int(time.time()),
                       "data": {"object": obj}, "livemode": False}).encode()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
