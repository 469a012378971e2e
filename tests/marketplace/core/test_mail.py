"""Outgoing email through a real SMTP server: queued with the transaction, sent by a job."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from marketplace.core import config, mail
from marketplace.core.config import ConfigError, from_env
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow


def _queue(app, to="ada@example.org", subject="Hello", body="Your code is 123456."):
    with app.app_context():
        email = mail.queue_email(to, subject, body)
        db.session.commit()
        return email.id


def _status(app, email_id):
    with app.app_context():
        email = db.session.get(mail.OutboundEmail, email_id)
        return email.status, email.attempts


def _dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"smtp://127.0.0.1:{s.getsockname()[1]}"


class Clock:
    """mail's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(mail, "utcnow", clock)
    return clock


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


def test_server_down_keeps_email_pending_and_redelivery_sends_it(app, smtp_server, clock,
                                                                 monkeypatch, drain_jobs):
    monkeypatch.setitem(app.config, "SMTP_URL", _dead_url())
    email_id = _queue(app, to="cy@example.org")
    drain_jobs()
    assert _status(app, email_id) == ("pending", 1)
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    with app.app_context():  # not before its backoff (1 min, +-20 %)
        assert mail.redeliver_stale(timedelta(seconds=-1)) == 0
        clock.advance(seconds=75)
        assert mail.redeliver_stale(timedelta(seconds=-1)) == 1
    drain_jobs()
    assert _status(app, email_id) == ("sent", 2)
    assert len(smtp_server.to("cy@example.org")) == 1


def test_a_long_smtp_outage_never_loses_an_email(app, smtp_server, clock, monkeypatch,
                                                 drain_jobs):
    """Two and a half days without an SMTP server, redeliver-emails running all along: the
    email stays pending, attempts spaced out by the backoff (1 min doubling to 1 h), and is
    sent once the server is back."""
    monkeypatch.setitem(app.config, "SMTP_URL", _dead_url())
    email_id = _queue(app, to="ada@example.org")
    drain_jobs()
    grace = timedelta(seconds=app.config["OUTBOX_GRACE_SECONDS"])
    for _ in range(int(60 * 24 * 2.5 / 10)):  # every 10 minutes for 2.5 days
        clock.advance(minutes=10)
        with app.app_context():
            if mail.redeliver_stale(grace):
                drain_jobs()
    status, attempts = _status(app, email_id)
    # 1 + 6 attempts within the first ~hour of backoff, then about one an hour.
    assert status == "pending" and 55 <= attempts <= 75, (status, attempts)
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)  # the server is back
    clock.advance(minutes=75)
    with app.app_context():
        assert mail.redeliver_stale(grace) == 1
    drain_jobs()
    assert _status(app, email_id) == ("sent", attempts + 1)
    assert len(smtp_server.to("ada@example.org")) == 1


def test_a_transient_failure_fails_the_email_only_after_the_retry_window(app, clock,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", _dead_url())
    with app.app_context():
        email = mail.OutboundEmail(to_addr="old@example.org", subject="S", body="B",
                                   attempts=mail.MIN_ATTEMPTS, created_at=clock.now)
        db.session.add(email)
        db.session.commit()
        clock.advance(days=2, hours=23)
        assert mail.deliver(email.id) == "pending"
        clock.advance(hours=2)
        db.session.execute(update(mail.OutboundEmail).values(next_attempt_at=None))
        db.session.commit()
        assert mail.deliver(email.id) == "failed"
        assert mail.redeliver_stale(timedelta(seconds=-1)) == 0


def test_a_permanent_refusal_fails_at_once_a_temporary_one_backs_off(smtp_app, smtp_server,
                                                                    clock, drain_jobs):
    smtp_server.refuse = {"gone@example.org": "550 5.1.1 No such user",
                          "busy@example.org": "450 4.2.1 Try again later"}
    gone_id = _queue(smtp_app, to="gone@example.org")
    busy_id = _queue(smtp_app, to="busy@example.org")
    drain_jobs()
    with smtp_app.app_context():
        gone, busy = (db.session.get(mail.OutboundEmail, i) for i in (gone_id, busy_id))
        assert (gone.status, gone.attempts, gone.next_attempt_at) == ("failed", 1, None)
        assert gone.last_error == "SMTPRecipientsRefused 550"
        assert busy.status == "pending" and busy.last_error == "SMTPRecipientsRefused 450"
        wait = busy.next_attempt_at - clock.now
        assert timedelta(seconds=47) <= wait <= timedelta(seconds=73), wait
        smtp_server.refuse = {}
        clock.advance(seconds=75)
        assert mail.redeliver_stale(timedelta(seconds=-1)) == 1  # busy, never gone
    drain_jobs()
    assert _status(smtp_app, busy_id) == ("sent", 2)
    assert smtp_server.to("gone@example.org") == []


def test_backoff_doubles_from_a_minute_to_an_hour_with_jitter():
    for attempts, minutes in ((1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (50, 60)):
        waits = [mail.backoff(attempts) for _ in range(50)]
        assert all(0.8 * minutes * 60 <= w.total_seconds() <= 1.2 * minutes * 60
                   for w in waits), (attempts, waits)
        assert len(set(waits)) > 1  # jittered: emails failed together do not retry together


def _insert(app, to):
    """A pending email with no outbox record (no delivery job of its own)."""
    with app.app_context():
        email = mail.OutboundEmail(to_addr=to, subject="Offer accepted", body="hello")
        db.session.add(email)
        db.session.commit()
        return email.id


def test_two_delivery_jobs_of_one_email_send_it_once(smtp_app, smtp_server, monkeypatch):
    """A second ``deliver`` job (redeliver-emails, an outbox replay) runs while the first is
    in its SMTP session: the first has claimed the email, committed, and holds no lock."""
    email_id = _insert(smtp_app, "bob@example.org")
    real_send, calls, second = mail._send_smtp, [], []

    def send_while_another_job_runs(*args):
        assert not db.session().in_transaction()  # no transaction, so no lock, while sending
        calls.append(1)
        if len(calls) == 1:
            def run() -> None:
                with smtp_app.app_context():
                    second.append(mail.deliver(email_id))
            thread = threading.Thread(target=run)
            thread.start()
            thread.join(timeout=30)
            assert second, "the second job waited on the first"
        real_send(*args)

    monkeypatch.setattr(mail, "_send_smtp", send_while_another_job_runs)
    with smtp_app.app_context():
        assert mail.deliver(email_id) == "sent"
    assert second == ["sending"]
    assert len(smtp_server.to("bob@example.org")) == 1
    assert _status(smtp_app, email_id) == ("sent", 1)


def test_a_claim_left_by_a_dead_job_is_taken_over(smtp_app, smtp_server, clock, drain_jobs):
    dead, alive = _insert(smtp_app, "dead@example.org"), _insert(smtp_app, "alive@example.org")
    with smtp_app.app_context():
        for email_id, ago in ((dead, mail.CLAIM_TIMEOUT + timedelta(minutes=1)),
                              (alive, timedelta(minutes=1))):
            db.session.execute(update(mail.OutboundEmail)
                               .where(mail.OutboundEmail.id == email_id)
                               .values(status="sending", claimed_at=clock.now - ago, attempts=1))
        db.session.commit()
        assert mail.deliver(alive) == "sending"  # its job is still talking to the server
        assert mail.redeliver_stale(timedelta(seconds=60)) == 1
    drain_jobs()
    assert _status(smtp_app, dead) == ("sent", 2)
    assert _status(smtp_app, alive) == ("sending", 1)
    assert smtp_server.to("alive@example.org") == []


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
