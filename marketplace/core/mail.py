"""Outgoing email: queued in the caller's transaction, sent by a job outside any lock.

``queue_email(to, subject, body)`` adds an ``outbound_emails`` row and an outbox record
(``mail.send``) to the current transaction, so an email exists if and only if the change that
caused it committed. The outbox handler enqueues ``deliver(email_id)`` on the ``notifications``
queue; ``deliver`` reads the row, talks to the SMTP server with no transaction open, and marks
the row sent in a short transaction of its own. Delivery is at-least-once: a worker killed
between the SMTP answer and the commit sends the email again (each carries a stable
``Message-ID`` so mail clients fold duplicates). ``redeliver_stale`` (periodic) re-enqueues
rows still unsent after a grace period.

``SMTP_URL`` picks the server: ``smtp://user:pass@host:port`` (STARTTLS when the server offers
it), ``smtps://...`` (TLS from the start). Unset (the embedded default), emails are written to
the log instead, addresses masked, so a developer can follow links without an SMTP server.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core import jobs, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

log = logging.getLogger("marketplace.mail")

TOPIC = "mail.send"
MAX_ATTEMPTS = 8


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def queue_email(to: str, subject: str, body: str) -> OutboundEmail:
    """Add an email to the current transaction (does not commit)."""
    email = OutboundEmail(to_addr=to, subject=subject[:300], body=body)
    db.session.add(email)
    db.session.flush()
    outbox.write(TOPIC, {"email_id": email.id})
    return email


def _enqueue_delivery(message: outbox.OutboxMessage) -> None:
    # Inline: after the drain's commit (sending at once would wait on its SQLite write lock).
    jobs.enqueue(deliver, int(message.payload["email_id"]), queue="notifications",
                 inline_after_commit=True)


def mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _send_smtp(url: str, email_id: int, to: str, subject: str, body: str, sender: str) -> None:
    parts = urlsplit(url)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(idstring=f"reloop-{email_id}", domain=sender.split("@")[-1])
    msg.set_content(body)
    cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with cls(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp":
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(msg)


def deliver(email_id: int) -> str:
    """Send one queued email (the ``notifications`` queue job). Returns its status."""
    email = db.session.get(OutboundEmail, email_id)
    if email is None:
        return "missing"
    if email.status != "pending":
        return email.status
    to, subject, body, attempts = email.to_addr, email.subject, email.body, email.attempts
    db.session.rollback()  # hold no transaction (and no lock) while talking to the server
    url = current_app.config.get("SMTP_URL")
    try:
        if url:
            _send_smtp(url, email_id, to, subject, body, current_app.config["MAIL_FROM"])
        elif current_app.config["MAIL_LOG_BODIES"]:  # embedded development (config.py)
            log.info("email (SMTP_URL unset) to=%s subject=%r\n%s", mask(to), subject, body)
        else:  # the body may hold a code that takes over an account: never in these logs
            log.warning("email not sent (SMTP_URL unset) to=%s subject=%r", mask(to), subject)
    except (OSError, smtplib.SMTPException) as exc:
        status = "failed" if attempts + 1 >= MAX_ATTEMPTS else "pending"
        db.session.execute(update(OutboundEmail).where(OutboundEmail.id == email_id).values(
            attempts=OutboundEmail.attempts + 1, status=status,
            last_error=type(exc).__name__))
        db.session.commit()
        log.warning("email %s not sent (%s); status %s", email_id, type(exc).__name__, status)
        raise
    db.session.execute(update(OutboundEmail).where(OutboundEmail.id == email_id).values(
        status="sent", sent_at=utcnow(), attempts=OutboundEmail.attempts + 1, last_error=None))
    db.session.commit()
    return "sent"


def redeliver_stale(grace: timedelta) -> int:
    """Re-enqueue emails still pending after ``grace`` (Redis was down, worker killed)."""
    ids = db.session.scalars(select(OutboundEmail.id).where(
        OutboundEmail.status == "pending", OutboundEmail.created_at < utcnow() - grace,
    ).order_by(OutboundEmail.id).limit(1000)).all()
    db.session.rollback()
    for email_id in ids:
        jobs.enqueue(deliver, email_id, queue="notifications")
    return len(ids)


def purge_sent(older_than: timedelta) -> int:
    """Delete sent emails older than ``older_than`` (they hold addresses: data minimisation)."""
    result = db.session.execute(OutboundEmail.__table__.delete().where(
        OutboundEmail.status == "sent", OutboundEmail.sent_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount or 0


def register(app: Flask) -> None:
    """Wire the ``mail.send`` outbox topic (called by ``create_app``)."""
    outbox.register_handler(app, TOPIC, _enqueue_delivery, queue="notifications")
    outbox.declare_writes(app, TOPIC)
