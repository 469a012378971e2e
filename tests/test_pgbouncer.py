"""Behind PgBouncer in transaction mode (docs/scaling.md): with
``DATABASE_PREPARED_STATEMENTS=false`` the app's main paths work through a real pgbouncer
(Debian's ``pgbouncer``, installed by ``.ci/run``) in front of the test database: listings and
search, and a whole trade (payment through localstripe and its webhook, completion, the
credit and the payout made by a real RQ worker whose jobs claim outbox records with
``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from marketplace.app import create_app
from marketplace.core.config import finalize, from_env
from marketplace.core.db import db
from marketplace.payments import payouts
from tests.conftest import drain_in
from tests.factories import create_listing, make_admin, make_user
from tests.marketplace.trades.conftest import Env
from tests.stripe_fixtures import STRIPE_KEY, WEBHOOK_SECRET, FakeTransfers, free_port
from workers.worker import use_app

PGBOUNCER = os.environ.get("PGBOUNCER") or shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def test_the_setting_turns_server_side_prepares_off():
    env = {"DATABASE_URL": "postgresql://u@h/db", "SECRET_KEY": "s"}
    on = finalize(from_env(env))["SQLALCHEMY_ENGINE_OPTIONS"]
    off = finalize(from_env({**env, "DATABASE_PREPARED_STATEMENTS": "false"}))
    assert "connect_args" not in on
    assert off["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"prepare_threshold": None}


# Session state that would outlive a transaction on a server connection, which in transaction
# mode the next transaction may not get (docs/scaling.md): a statement starting with SET (not
# SET LOCAL) or LISTEN, session advisory locks, temporary tables, cursors WITH HOLD.
_SESSION_STATE = re.compile(
    r"""["']\s*(?:SET\s+(?!LOCAL\b)(?:SESSION\s+)?\w+\s*(?:=|TO\b)|LISTEN\s)"""
    r"|(?i:pg_(?:try_)?advisory_lock(?:_shared)?\s*\()|\bTEMP(?:ORARY)? TABLE\b|\bWITH HOLD\b")


def test_no_session_state_in_the_code():
    """Migrations are excluded: they run against PostgreSQL directly, not through pgbouncer."""
    root = Path(__file__).resolve().parent.parent
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}"
             for package in ("marketplace", "carbon", "workers")
             for path in sorted((root / package).rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if _SESSION_STATE.search(line)]
    assert not found, "session state breaks behind PgBouncer in transaction mode:\n" + \
        "\n".join(found)
    assert _SESSION_STATE.search('conn.execute(text("SET statement_timeout = 5"))')
    assert _SESSION_STATE.search("SELECT pg_advisory_lock(42)")
    assert not _SESSION_STATE.search('text("SET LOCAL lock_timeout = \'2s\'")')
    assert not _SESSION_STATE.search("SELECT pg_advisory_xact_lock(42)")
    assert not _SESSION_STATE.search('"UPDATE listings SET title = :t"')


def _wait_for(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"pgbouncer exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"pgbouncer did not listen: {log.read_text()}")


@pytest.fixture(scope="module")
def bouncer_url(app_config):
    assert os.path.exists(PGBOUNCER), f"{PGBOUNCER} missing: apt-get install pgbouncer"
    url = make_url(app_config["SQLALCHEMY_DATABASE_URI"])
    port = free_port()
    # pgbouncer refuses to run as root: it runs as postgres (-u), so its files are readable
    workdir = Path(tempfile.mkdtemp(prefix="reloop-pgbouncer-"))
    workdir.chmod(0o755)
    (workdir / "users.txt").write_text(f'"{url.username}" ""\n')
    (workdir / "pgbouncer.ini").write_text(f"""\
[databases]
{url.database} = host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / 'users.txt'}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
server_reset_query =
ignore_startup_parameters = extra_float_digits
""")
    for name in ("users.txt", "pgbouncer.ini"):
        (workdir / name).chmod(0o644)
    log = workdir / "pgbouncer.out"
    with log.open("wb") as out:
        args = [PGBOUNCER, *(["-u", "postgres"] if os.geteuid() == 0 else []),
                str(workdir / "pgbouncer.ini")]
        proc = subprocess.Popen(args, stdout=out, stderr=out)
    try:
        _wait_for(port, proc, log)
        yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _bounced(app_config: dict, bouncer_url: str, **extra) -> object:
    return create_app({**app_config, "SQLALCHEMY_DATABASE_URI": bouncer_url,
                       "DATABASE_PREPARED_STATEMENTS": False,
                       "DATABASE_POOL_SIZE": 3, "DATABASE_MAX_OVERFLOW": 0, **extra})


@pytest.mark.services
def test_main_paths_through_pgbouncer_in_transaction_mode(app, app_config, bouncer_url):
    bounced = _bounced(app_config, bouncer_url)
    with bounced.app_context():
        assert db.engine.url.port == make_url(bouncer_url).port
        raw = db.engine.raw_connection()
        try:
            assert raw.driver_connection.prepare_threshold is None
        finally:
            raw.close()
    client = bounced.test_client()
    _, headers = make_user(client, "Seller")
    _, buyer = make_user(client, "Buyer")
    ids = [create_listing(client, headers, title=f"Refurbished handset {i}",
                          price={"amount": 10_000 + 100 * (i % 3), "currency": "EUR"})["id"]
           for i in range(8)]
    # More runs of each statement than psycopg's prepare threshold (5), on alternating server
    # connections: another client holds the one the app used last (pgbouncer hands out the
    # most recently used idle one), so the app's next transactions run on the other.
    blocker = psycopg.connect(bouncer_url.replace("+psycopg", ""))
    for _ in range(8):
        blocker.execute("SELECT 1")  # a transaction that holds a server connection
        for query in ("", "?q=handset&sort=price_asc&currency=EUR&limit=3",
                      "?q=handset&sort=avoided_desc&limit=3", "?category=smartphone"):
            resp = client.get(f"/api/v1/listings{query}")
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()["items"]
        assert client.get(f"/api/v1/listings/{ids[0]}").status_code == 200
        assert client.get("/api/v1/users/me", headers=buyer).status_code == 200
        blocker.commit()
    blocker.close()
    page = client.get("/api/v1/listings?q=handset&sort=price_asc&currency=EUR&limit=100")
    assert sorted(item["id"] for item in page.get_json()["items"]) == sorted(ids)
    etag = client.get(f"/api/v1/listings/{ids[0]}").headers["ETag"]
    resp = client.patch(f"/api/v1/listings/{ids[0]}", json={"title": "Handset, renamed"},
                        headers={**headers, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    assert client.delete(f"/api/v1/listings/{ids[1]}", headers=headers).status_code in (200, 204)
    assert len(client.get("/api/v1/listings?q=handset").get_json()["items"]) == 7
    with bounced.app_context():
        db.engine.dispose()




@pytest.mark.services
def test_a_trade_through_pgbouncer_credited_and_paid_out_by_a_worker(
        app, app_config, bouncer_url, localstripe):
    """Every statement of the trade's life -- the API's, the webhook's and the worker's jobs
    (credit, rule evaluation, payout, notifications) -- goes through pgbouncer."""
    bounced = _bounced(app_config, bouncer_url, STRIPE_API_KEY=STRIPE_KEY,
                       STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_MAX_NETWORK_RETRIES=0,
                       STRIPE_TIMEOUT=(3, 10), STRIPE_API_BASE=localstripe.url)
    seen: list[str] = []
    with bounced.app_context():
        assert db.engine.url.port == make_url(bouncer_url).port
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, sql, *args: seen.append(sql))

    def drain() -> None:  # the worker's jobs run in the bounced app
        drain_in(bounced)

    client = bounced.test_client()
    seller, s = make_user(client, "Seller")
    buyer, b = make_user(client, "Buyer")
    env = Env(client, bounced, localstripe, drain, buyer, b, seller, s,
              make_admin(client, bounced), create_listing(client, s))
    transfers = FakeTransfers()  # localstripe has no Connect transfers
    thread = threading.Thread(target=transfers.server.serve_forever, daemon=True)
    thread.start()
    try:
        before = client.get("/api/v1/carbon/account", headers=b).get_json()["balance_g"]
        trade = env.shipped()
        with bounced.app_context():
            payouts.set_payout_account(seller["id"], "acct_bounced")
        bounced.config["STRIPE_API_BASE"] = transfers.url
        bounced.extensions.pop("reloop_stripe", None)
        resp = env.post(f"/trades/{trade['id']}/confirm", b)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["status"] == "completed"
        drain()
    finally:
        transfers.server.shutdown()
        transfers.server.server_close()
        thread.join(10)
        use_app(app)
    # the worker's claims went through the bounced engine (pgbouncer's port, asserted above)
    assert any("SKIP LOCKED" in sql for sql in seen)
    assert any("INSERT INTO ledger" in sql for sql in seen)
    [transfer] = transfers.requests
    assert transfer["form"]["destination"] == "acct_bounced"
    assert transfer["form"]["transfer_group"] == f"trade-{trade['id']}"
    account = client.get("/api/v1/carbon/account", headers=b).get_json()
    assert account["balance_g"] > before and account["pending_g"] == 0
    entries = client.get("/api/v1/carbon/entries", headers=s).get_json()["items"]
    assert [e["trade_id"] for e in entries] == [trade["id"]]
    result = bounced.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0, result.output
    with bounced.app_context():
        db.engine.dispose()
