"""``make run``'s entry point (workers/demo.py): what it prints and how it picks ports."""

import pytest

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
