"""``make run``'s entry point (workers/demo.py): what it prints and how it picks ports."""

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from marketplace.cli import DEMO_USERS
from workers import demo


def test_startup_line_names_database_queue_stripe_accounts_and_docs():
    line = demo.startup_line({"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/x.db",
                              "REDIS_URL": None, "STRIPE_API_KEY": "sk_test_reloop_demo",
                              "STRIPE_API_BASE": "http://127.0.0.1:8420"}, 5000)
    assert "\n" not in line
    assert "database sqlite:////tmp/x.db" in line
    assert "queue inline" in line
    assert "Stripe http://127.0.0.1:8420" in line
    for email, password, *_ in DEMO_USERS:
        assert f"{email} / {password}" in line
    assert "http://127.0.0.1:5000/api/docs" in line


def test_startup_line_with_redis_real_stripe_and_no_passwords_shown():
    line = demo.startup_line({
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://reloop:s3cret@db:5432/reloop",
        "REDIS_URL": "redis://:hunter2@cache:6379/0", "STRIPE_API_KEY": "sk_live_x",
        "STRIPE_API_BASE": None}, 8000)
    assert "s3cret" not in line and "hunter2" not in line
    assert "postgresql+psycopg://reloop:***@db:5432/reloop" in line
    assert "queue Redis redis://:***@cache:6379/0" in line
    assert "Stripe https://api.stripe.com" in line


def test_startup_line_without_stripe_says_payments_are_disabled():
    line = demo.startup_line({"SQLALCHEMY_DATABASE_URI": "sqlite:///x"}, 5000)
    assert "Stripe none (payments disabled)" in line


def test_localstripe_port_defaults_to_8420_and_reads_localstripe_port(monkeypatch):
    monkeypatch.setattr(demo, "_port_free", lambda port: True)
    assert demo.localstripe_port({}) == 8420
    assert demo.localstripe_port({"LOCALSTRIPE_PORT": "8491"}) == 8491


def test_localstripe_port_falls_back_to_a_free_port_when_taken(monkeypatch):
    monkeypatch.setattr(demo, "_port_free", lambda port: False)
    monkeypatch.setattr(demo, "_free_port", lambda: 40123)
    assert demo.localstripe_port({"LOCALSTRIPE_PORT": "8491"}) == 40123


@pytest.mark.parametrize("raw", ["eighty", "70000", "0"])
def test_a_bad_localstripe_port_stops_start_up_naming_it(raw):
    with pytest.raises(SystemExit, match="^LOCALSTRIPE_PORT:"):
        demo.localstripe_port({"LOCALSTRIPE_PORT": raw})


def test_werkzeug_log_lines_carry_no_ansi_colour_codes(monkeypatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("werkzeug")
    monkeypatch.setattr(logger, "filters", list(logger.filters))
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.INFO)
    demo.strip_ansi_from_werkzeug_logs()
    demo.strip_ansi_from_werkzeug_logs()
    assert sum(isinstance(f, demo.StripAnsi) for f in logger.filters) == 1

    # As werkzeug.serving logs them: the banner, and a request line with a coloured status.
    logger.info("\x1b[31m\x1b[1mWARNING: This is a development server.\x1b[0m\n * Running on x")
    logger.info('%s - - [%s] %s\n', "127.0.0.1", "02/Dec/2026 11:30:25",
                '"GET /healthz HTTP/1.1" \x1b[32m200\x1b[0m -')
    logger.info("no colour %s", "here")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "WARNING: This is a development server.\n * Running on x",
        '127.0.0.1 - - [02/Dec/2026 11:30:25] "GET /healthz HTTP/1.1" 200 -\n',
        "no colour here",
    ]
    assert "\\u001b" not in stream.getvalue() and "\x1b" not in stream.getvalue()
