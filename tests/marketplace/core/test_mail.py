"""Outgoing email through a real SMTP server: queued with the transaction, sent by a job."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.core import config, mail
from marketplace.core.config import ConfigError, from_env
from marketplace.core.db import db


def _queue(app, to="ada@example.org", subject="Hello", body="Your code is 123456."):
    with app.app_context():
        email = mail.queue_email(to, subject, body)
        db.session.commit()
        return email.id


def _status(app, email_id):
    with app.app_context():
        email = db.session.get(mail.OutboundEmail, email_id)
        return email.status, email.attempts


def test_committed_email_is_delivered_once(smtp_app, smtp_server, drain_jobs):
    email_id = _queue(smtp_app)
    drain_jobs()
    assert _status(smtp_app, email_id) == ("sent", 1)
    [msg] = smtp_server.to("ada@example.org")
    assert msg["Subject"] == "Hello"
    assert "123456" in msg.get_payload()
    assert f"reloop-{email_id}" in msg["Message-ID"]
    # A duplicate delivery job (outbox retried, reconciler) sends nothing more.
    with smtp_app.app_context():
        assert mail.deliver(email_id) == "sent"
    assert len(smtp_server.to("ada@example.org")) == 1


def test_rolled_back_email_is_never_sent(smtp_app, smtp_server, drain_jobs):
    with smtp_app.app_context():
        mail.queue_email("bob@example.org", "Nope", "rolled back")
        db.session.rollback()
        assert db.session.scalar(select(mail.OutboundEmail.id)) is None
    drain_jobs()
    assert smtp_server.messages == []


def test_server_down_keeps_email_pending_and_redelivery_sends_it(app, smtp_server,
                                                                 monkeypatch, drain_jobs):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{dead}")
    email_id = _queue(app, to="cy@example.org")
    drain_jobs()
    status, attempts = _status(app, email_id)
    assert status == "pending" and attempts >= 1
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    with app.app_context():
        assert mail.redeliver_stale(timedelta(seconds=-1)) == 1
    drain_jobs()
    assert _status(app, email_id)[0] == "sent"
    assert len(smtp_server.to("cy@example.org")) == 1


def test_without_smtp_url_the_email_is_logged_with_the_address_masked(app, caplog):
    assert not app.config.get("SMTP_URL")
    caplog.set_level(logging.INFO, logger="marketplace.mail")
    email_id = _queue(app, to="dora@example.org", body="link: https://x/reset?t=abc")
    with app.app_context():
        mail.deliver(email_id)
    assert _status(app, email_id)[0] == "sent"
    text = caplog.text
    assert "d***@example.org" in text and "dora@example.org" not in text
    assert ("reset?t=abc" in text) == app.config["MAIL_LOG_BODIES"]


def test_on_postgresql_an_unsent_email_body_never_reaches_the_log(app, caplog, monkeypatch):
    on_pg = from_env({"DATABASE_URL": "postgresql://h/db", "SECRET_KEY": "k"})
    assert config.finalize(on_pg)["MAIL_LOG_BODIES"] is False
    embedded = from_env({"DATABASE_URL": "sqlite:///x.db"})
    assert config.finalize(embedded)["MAIL_LOG_BODIES"] is True
    monkeypatch.setitem(app.config, "MAIL_LOG_BODIES", False)
    caplog.set_level(logging.DEBUG, logger="marketplace.mail")
    email_id = _queue(app, to="eve@example.org", body="your code: secret-reset-code-123")
    with app.app_context():
        mail.deliver(email_id)
    assert "secret-reset-code-123" not in caplog.text
    assert "e***@example.org" in caplog.text and "SMTP_URL unset" in caplog.text


@pytest.mark.parametrize(("name", "raw"), [("SMTP_URL", "http://x"), ("SMTP_URL", "smtp:/x"),
                                           ("MAIL_FROM", "no address"),
                                           ("MAIL_FROM", "a@b\nBcc: x@y")])
def test_bad_mail_settings_stop_start_up(name, raw):
    with pytest.raises(ConfigError, match=f"^{name}:"):
        from_env({name: raw})
