"""Outgoing email: queued in the caller's transaction, sent by a job outside any lock.

``queue_email(to, subject, body)`` adds an ``outbound_emails`` row and an outbox record
(``mail.send``) to the current transaction, so an email exists if and only if the change that
caused it committed. The outbox handler enqueues ``deliver(email_id)`` on the ``notifications``
queue. ``deliver`` claims the row in a short committed transaction (``pending`` →
``sending``, ``claimed_at``), talks to the SMTP server with no transaction open and no lock
held, then marks it ``sent``, or ``pending`` again with ``next_attempt_at`` set by an
exponential backoff (1 min doubling to 1 h, ±20 % jitter). A second job for the same email
finds it claimed and sends nothing; a claim older than ``CLAIM_TIMEOUT`` (its worker died) is
taken over. Delivery is still at-least-once: a worker killed between the SMTP answer and the
commit sends the email again once its claim is stale (each email carries a stable
``Message-ID`` so mail clients fold duplicates).

Retries are the periodic ``redeliver_stale`` (``redeliver-emails``), not RQ's: it re-enqueues
pending emails that are due (past the grace period, and past ``next_attempt_at``) and stale
claims. A transient failure (connection refused, timeout, any 4xx answer, a server that
hangs up) never fails an email before ``RETRY_WINDOW`` (3 days) and ``MIN_ATTEMPTS`` have
both passed; a 5xx answer about the message or its recipient fails it at once (``failed``,
never retried).

``SMTP_URL`` picks the server: ``smtp://user:pass@host:port`` (STARTTLS when the server offers
it), ``smtps://...`` (TLS from the start). Unset (the embedded default), emails are written to
the log instead, addresses masked, so a developer can follow links without an SMTP server.
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from sqlalchemy import String, Text, and_, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core import jobs, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

log = logging.getLogger("marketplace.mail")

TOPIC = "mail.send"
# Backoff after the n-th failed attempt: 1 min doubling up to 1 h, then hourly (±20 %).
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
BACKOFF_JITTER = 0.2
# A transient failure fails an email only once both are reached (a long outage, not a blip).
RETRY_WINDOW = timedelta(days=3)
MIN_ATTEMPTS = 8
# A claim older than this belongs to a dead worker (an RQ job times out after 300 s).
CLAIM_TIMEOUT = timedelta(minutes=10)


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending → sending (claimed by a job) → sent; back to pending after a transient failure;
    # failed after a permanent one or once RETRY_WINDOW is over.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Not redelivered before this (a failed attempt's backoff); NULL: due now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the job sending it (status ``sending``) claimed it.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def queue_email(to: str, subject: str, body: str) -> OutboundEmail:
    """Add an email to the current transaction (does not commit)."""
    email = OutboundEmail(to_addr=to, subject=subject[:300], body=body)
    db.session.add(email)
    db.session.flush()
    outbox.write(TOPIC, {"email_id": email.id})
    return email


def _enqueue_delivery(message: outbox.OutboxMessage) -> None:
    # Inline: after the drain's commit (sending at once would wait on its SQLite write lock).
    # No RQ retries: the periodic redeliver_stale retries, after the email's backoff.
    jobs.enqueue(deliver, int(message.payload["email_id"]), queue="notifications",
                 retry=None, inline_after_commit=True)


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


@dataclass(frozen=True)
class _Claim:
    to: str
    subject: str
    body: str
    attempts: int  # including this one
    created_at: datetime
    claimed_at: datetime  # identifies this claim


def deliver(email_id: int) -> str:
    """Send one queued email (the ``notifications`` queue job). Returns its status.

    A failed attempt is recorded (backoff, or ``failed``) and returned, not raised: the
    periodic ``redeliver_stale`` retries it when it is due.
    """
    claim = _claim(email_id)
    if isinstance(claim, str):
        return claim
    url = current_app.config.get("SMTP_URL")
    try:
        if url:
            _send_smtp(url, email_id, claim.to, claim.subject, claim.body,
                       current_app.config["MAIL_FROM"])
        elif current_app.config["MAIL_LOG_BODIES"]:  # embedded development (config.py)
            log.info("email (SMTP_URL unset) to=%s subject=%r\n%s", mask(claim.to),
                     claim.subject, claim.body)
        else:  # the body may hold a code that takes over an account: never in these logs
            log.warning("email not sent (SMTP_URL unset) to=%s subject=%r", mask(claim.to),
                        claim.subject)
    except Exception as exc:
        status = _release(email_id, claim, exc)
        log.warning("email %s not sent (%s); status %s", email_id, _describe(exc), status)
        if not isinstance(exc, (OSError, smtplib.SMTPException)):
            raise  # a bug, not the server: let it be seen (the email waits its backoff)
        return status
    db.session.execute(update(OutboundEmail).where(OutboundEmail.id == email_id).values(
        status="sent", sent_at=utcnow(), last_error=None, claimed_at=None,
        next_attempt_at=None))
    db.session.commit()
    return "sent"


def _claim(email_id: int) -> _Claim | str:
    """Claim the email for this job in a short committed transaction (no lock is held
    afterwards); its status (or ``missing``) when it is not for this job to send."""
    status = db.session.scalar(select(OutboundEmail.status).where(OutboundEmail.id == email_id))
    if status not in ("pending", "sending"):
        db.session.rollback()
        return status or "missing"
    now = utcnow()
    # One statement: of two jobs, only one matches (PostgreSQL re-checks the WHERE clause
    # once the other's update commits; SQLite runs one writer at a time).
    claimed = db.session.execute(update(OutboundEmail).where(
        OutboundEmail.id == email_id,
        or_(OutboundEmail.status == "pending",
            and_(OutboundEmail.status == "sending",
                 OutboundEmail.claimed_at < now - CLAIM_TIMEOUT)),
    ).values(status="sending", claimed_at=now, attempts=OutboundEmail.attempts + 1)
     .execution_options(synchronize_session=False)).rowcount
    if not claimed:  # another job holds it (or has just sent it)
        status = db.session.scalar(select(OutboundEmail.status)
                                   .where(OutboundEmail.id == email_id))
        db.session.rollback()
        return status or "missing"
    row = db.session.execute(select(
        OutboundEmail.to_addr, OutboundEmail.subject, OutboundEmail.body,
        OutboundEmail.attempts, OutboundEmail.created_at).where(OutboundEmail.id == email_id)
    ).one()
    db.session.commit()
    return _Claim(row.to_addr, row.subject, row.body, row.attempts, row.created_at, now)


def _release(email_id: int, claim: _Claim, exc: Exception) -> str:
    """Record a failed attempt: pending again after a backoff, or failed for good."""
    now = utcnow()
    give_up = permanent(exc) or (claim.attempts >= MIN_ATTEMPTS
                                 and now - claim.created_at >= RETRY_WINDOW)
    status = "failed" if give_up else "pending"
    # Only this claim's row: a job that took over a stale claim may have sent it meanwhile.
    db.session.execute(update(OutboundEmail).where(
        OutboundEmail.id == email_id, OutboundEmail.status == "sending",
        OutboundEmail.claimed_at == claim.claimed_at,
    ).values(status=status, claimed_at=None, last_error=_describe(exc),
             next_attempt_at=None if give_up else now + backoff(claim.attempts))
     .execution_options(synchronize_session=False))
    db.session.commit()
    return status


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt (1 min, 2, 4 ... up to 1 h; ±20 %)."""
    base = min(BACKOFF_FIRST * 2 ** min(max(attempts - 1, 0), 16), BACKOFF_MAX)
    return base * (1 + random.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))


def permanent(exc: Exception) -> bool:
    """A 5xx answer about this message or its recipient: sending it again cannot work.

    Everything else is retried: connection errors and timeouts, 4xx answers (greylisting, a
    full mailbox, a server shedding load), and 5xx answers about the session (a wrong
    password, a refused sender), which an operator fixes for every email at once."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600


def _describe(exc: Exception) -> str:
    """The error's type and SMTP code: never its text, which may quote the address."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(str(c) for c, _ in exc.recipients.values())
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def redeliver_stale(grace: timedelta) -> int:
    """Re-enqueue the emails due for an attempt: pending for longer than ``grace`` (Redis was
    down, the job was lost) and past their backoff, or claimed by a job that died.

    Each one's ``next_attempt_at`` moves ``CLAIM_TIMEOUT`` ahead first, so a job still
    waiting in a busy queue is not joined by another every run; its attempt, when it comes,
    sets the real next time."""
    now = utcnow()
    due = or_(OutboundEmail.next_attempt_at.is_(None), OutboundEmail.next_attempt_at <= now)
    ids = db.session.scalars(select(OutboundEmail.id).where(due, or_(
        and_(OutboundEmail.status == "pending", OutboundEmail.created_at < now - grace),
        and_(OutboundEmail.status == "sending",
             OutboundEmail.claimed_at < now - CLAIM_TIMEOUT)),
    ).order_by(OutboundEmail.id).limit(1000)).all()
    if not ids:
        db.session.rollback()
        return 0
    db.session.execute(update(OutboundEmail).where(OutboundEmail.id.in_(ids))
                       .values(next_attempt_at=now + CLAIM_TIMEOUT)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    for email_id in ids:
        jobs.enqueue(deliver, email_id, queue="notifications", retry=None)
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
