"""``make run``: serve the API with a local Stripe (localstripe), so the whole trade flow works
offline.

Unless ``STRIPE_API_BASE`` is already set (then the configured Stripe is used as is), this
starts ``python -m localstripe`` on ``LOCALSTRIPE_PORT`` (default 8420; a free port when that
one is taken), registers its webhook to
``http://127.0.0.1:$PORT/api/v1/payments/stripe/webhook`` with a demo signing secret, points
the app at it, serves, and stops localstripe on exit. localstripe has no Connect transfers: it
is started through ``workers.demo_stripe``, which adds a clearly labelled stand-in for
``/v1/transfers`` so the demo's payouts complete. localstripe keeps its state in one pickle
file in the system temp directory, shared by every instance on the machine; the demo starts it
``--from-scratch``. At start it prints one line naming the database, the queue mode, the
Stripe endpoint, the demo accounts and the API docs URL.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from werkzeug.serving import run_simple

from marketplace.app import create_app
from marketplace.cli import DEMO_USERS
from marketplace.core.config import from_env
from marketplace.core.jobs import is_inline
from workers.schedule import run_inline_ticker

DEMO_KEY = "sk_test_reloop_demo"
DEMO_SECRET = "whsec_reloop_demo"
PREFERRED_PORT = 8420


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class StripAnsi(logging.Filter):
    """Removes ANSI escape sequences (colours) from a record's message: Werkzeug colours its
    dev-server banner and request lines for a terminal, and they would end up as
    ``\u001b[...m`` in the JSON log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\x1b" in message:
            record.msg, record.args = _ANSI.sub("", message), None
        return True


def strip_ansi_from_werkzeug_logs() -> None:
    """Install ``StripAnsi`` on the ``werkzeug`` logger (idempotent)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, StripAnsi) for f in logger.filters):
        logger.addFilter(StripAnsi())


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(method: str, url: str, data: dict | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Authorization": f"Bearer {DEMO_KEY}"})
    with urllib.request.urlopen(req, timeout=2) as resp:
        return resp.status


def localstripe_port(environ: dict[str, str] | None = None) -> int:
    """``LOCALSTRIPE_PORT`` (default 8420) when free, else any free port."""
    raw = (os.environ if environ is None else environ).get("LOCALSTRIPE_PORT", "").strip()
    try:
        preferred = int(raw) if raw else PREFERRED_PORT
    except ValueError:
        raise SystemExit(f"LOCALSTRIPE_PORT: expected an integer, got {raw!r}") from None
    if not 1 <= preferred <= 65535:
        raise SystemExit(f"LOCALSTRIPE_PORT: must be between 1 and 65535, got {preferred}")
    return preferred if _port_free(preferred) else _free_port()


def start_localstripe(app_port: int) -> tuple[subprocess.Popen, str]:
    port = localstripe_port()
    # localstripe with a demo-only stand-in for Connect transfers (workers/demo_stripe.py).
    proc = subprocess.Popen([sys.executable, "-m", "workers.demo_stripe", "--port", str(port),
                             "--from-scratch"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise SystemExit("localstripe exited at start-up")
        try:
            if _call("GET", f"{url}/v1/customers") == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise SystemExit("localstripe did not start within 30 s") from None
            time.sleep(0.2)
    hook = f"http://127.0.0.1:{app_port}/api/v1/payments/stripe/webhook"
    _call("POST", f"{url}/_config/webhooks/reloop", {"url": hook, "secret": DEMO_SECRET})
    return proc, url


def _redacted(url: str) -> str:
    """``url`` without its password, if any."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def startup_line(config: dict, port: int) -> str:
    """One line: the database, the queue mode, the Stripe endpoint, the demo accounts and the
    API docs, printed when ``make run`` starts."""
    queue = "inline (no Redis)" if not config.get("REDIS_URL") else (
        f"Redis {_redacted(config['REDIS_URL'])}")
    if not config.get("STRIPE_API_KEY"):
        stripe = "none (payments disabled)"
    else:
        stripe = config.get("STRIPE_API_BASE") or "https://api.stripe.com"
    accounts = ", ".join(f"{email} / {password}" for email, password, *_ in DEMO_USERS)
    return (f"Reloop on http://127.0.0.1:{port} | database "
            f"{_redacted(config['SQLALCHEMY_DATABASE_URI'])} | queue {queue} | Stripe {stripe}"
            f" | demo accounts: {accounts} | docs http://127.0.0.1:{port}/api/docs")


def main() -> None:
    port = from_env()["PORT"]
    proc = None
    # Stopped with SIGTERM too (not only Ctrl+C): exit through ``finally`` to stop localstripe.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not os.environ.get("STRIPE_API_BASE"):
        if importlib.util.find_spec("localstripe") is None:
            print("localstripe is not installed (pip install -e '.[dev]'): payments disabled")
        else:
            proc, url = start_localstripe(port)
            os.environ.update(STRIPE_API_BASE=url, STRIPE_API_KEY=DEMO_KEY,
                              STRIPE_WEBHOOK_SECRET=DEMO_SECRET)
            print(f"localstripe on {url} (key {DEMO_KEY}); webhook registered to "
                  f"http://127.0.0.1:{port}/api/v1/payments/stripe/webhook; /v1/transfers "
                  "answered by a demo stand-in (workers/demo_stripe.py): payouts complete, "
                  "no money moves")
    if "REQUIRE_VERIFIED_EMAIL" not in os.environ:
        # The local demo logs emails instead of sending them: let new accounts (e.g. the
        # walk-through's buyer) trade without the emailed code. Production keeps it on.
        os.environ["REQUIRE_VERIFIED_EMAIL"] = "false"
        print("demo: REQUIRE_VERIFIED_EMAIL=false (unverified accounts may buy and sell)")
    try:
        app = create_app()
        print(startup_line(app.config, port), flush=True)
        strip_ansi_from_werkzeug_logs()
        if is_inline(app):
            run_inline_ticker(app, threading.Event())
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
