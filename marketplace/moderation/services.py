"""Reports, suspensions and the audit log view.

Every admin action here (suspend / unsuspend a listing, suspend / reinstate a user, resolve a
report) writes an audit entry (``marketplace.core.audit``) in the transaction that makes it.

A suspended user cannot log in (403), every token of theirs is revoked at once and none
works while suspended (401), so they cannot list, offer or buy; their open (active and
reserved) listings are hidden from everyone else (search and detail). Trades already in
flight are not cancelled: the other party, the timers and admins carry them on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import cache as accounts_cache
from marketplace.accounts.models import ApiToken, User
from marketplace.conversations import services as conversations
from marketplace.conversations.models import Message
from marketplace.core import audit
from marketplace.core.audit import AuditEntry
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page, value_id_page
from marketplace.listings import status as listing_status
from marketplace.listings import visibility as listing_visibility
from marketplace.listings.models import Listing
from marketplace.moderation import personal_data
from marketplace.moderation.models import Report, ReportStatus


# ---- reports -----------------------------------------------------------------------------
def report(reporter: User, reason: str, listing_id: int | None = None,
           user_id: int | None = None, message_id: int | None = None) -> Report:
    if message_id is not None:
        conversations.reportable_message(message_id, reporter)  # 404 / 409
        subject = ("message", Report.message_id, message_id)
    elif listing_id is not None:
        listing = listing_visibility.get_visible(listing_id, reporter)  # 404 when hidden from them
        if listing.seller_id == reporter.id:
            raise InvalidInput("You cannot report your own listing.",
                               {"listing_id": ["Your own listing."]})
        subject = ("listing", Report.listing_id, listing_id)
    else:
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        if user.id == reporter.id:
            raise InvalidInput("You cannot report yourself.", {"user_id": ["Yourself."]})
        subject = ("user", Report.user_id, user_id)
    kind, column, subject_id = subject
    already = Conflict(f"You already reported this {kind}; an admin will look at it.")
    if db.session.scalar(select(Report.id).where(
            Report.reporter_id == reporter.id, column == subject_id,
            Report.status == ReportStatus.OPEN.value)) is not None:
        raise already
    row = Report(reporter_id=reporter.id, subject_type=kind, listing_id=listing_id,
                 user_id=user_id, message_id=message_id, reason=reason,
                 status=ReportStatus.OPEN.value)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same report made concurrently (uq_reports_open_*)
        db.session.rollback()
        if "uq_reports_open" in str(exc.orig) or "reports.reporter_id" in str(exc.orig):
            raise already from None
        raise
    return row


def get_report(report_id: int, user: User) -> Report:
    row = db.session.get(Report, report_id)
    if row is None or not (user.is_admin or row.reporter_id == user.id):
        raise NotFound("No such report.")
    return row


def my_reports(user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    return id_page(select(Report).where(Report.reporter_id == user.id), Report.id, limit,
                   cursor)


def queue(status: str | None, subject_type: str | None, limit: int,
          cursor: str | None) -> dict[str, Any]:
    """Admins: open reports first, then resolved ones, each oldest first (keyset on
    ``(status, id)``: "open" sorts before "resolved")."""
    query = select(Report)
    if status:
        query = query.where(Report.status == status)
    if subject_type:
        query = query.where(Report.subject_type == subject_type)
    return value_id_page(query, Report.status, Report.id, limit, cursor, _status)


def _status(value: Any) -> str:
    if value not in {s.value for s in ReportStatus}:
        raise ValueError("not a report status")
    return value


def resolve_report(report_id: int, admin: User, resolution: str,
                   note: str | None) -> Report:
    row = db.session.get(Report, report_id)
    if row is None:
        raise NotFound("No such report.")
    _close(row, admin, resolution, note)
    db.session.commit()
    return row


def _close(row: Report, admin: User, resolution: str, note: str | None) -> None:
    if row.status != ReportStatus.OPEN.value:
        raise Conflict(f"The report is already {row.status}.", {"status": [row.status]})
    row.status, row.resolution, row.resolution_note = (ReportStatus.RESOLVED.value,
                                                       resolution, note)
    row.resolved_by, row.resolved_at = admin.id, utcnow()
    personal_data.forget_closed_subject(row)
    audit.record("report.resolved", "report", row.id, actor_id=admin.id,
                 details={"resolution": resolution, "subject_type": row.subject_type,
                          "subject_id": row.subject_id})


def _is_about(row: Report, kind: str, subject_id: int) -> bool:
    """Whether a suspension of ``kind`` ``subject_id`` answers the report: one about that
    listing or user, or, for a user, about a message they sent (a message has no suspension
    of its own: its sender's is the action)."""
    if row.subject_type == kind:
        return row.subject_id == subject_id
    if kind == "user" and row.subject_type == "message":
        return db.session.scalar(select(Message.sender_id).where(
            Message.id == row.message_id)) == subject_id
    return False


def _close_named(report_id: int | None, admin: User, kind: str, subject_id: int) -> None:
    """The report an action names (``report_id``) is resolved as actioned with it."""
    if report_id is None:
        return
    row = db.session.get(Report, report_id)
    if row is None or not _is_about(row, kind, subject_id):
        raise InvalidInput(f"The report is not about this {kind}.",
                           {"report_id": [f"Not a report of {kind} {subject_id}."]})
    _close(row, admin, "actioned", None)


# ---- listing suspensions -----------------------------------------------------------------
def _listing(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def suspend_listing(listing_id: int, admin: User, reason: str,
                    report_id: int | None = None) -> Listing:
    listing = _listing(listing_id)
    try:
        listing_status.suspend(listing, reason)
        audit.record("listing.suspended", "listing", listing.id, actor_id=admin.id,
                     details={"reason": reason, "report_id": report_id})
        _close_named(report_id, admin, "listing", listing.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return listing


def unsuspend_listing(listing_id: int, admin: User, note: str | None = None) -> Listing:
    listing = _listing(listing_id)
    try:
        listing_status.unsuspend(listing)
        audit.record("listing.unsuspended", "listing", listing.id, actor_id=admin.id,
                     details={"note": note})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return listing


# ---- user suspensions --------------------------------------------------------------------
def _locked_user(user_id: int) -> User:
    user = db.session.scalars(select(User).where(User.id == user_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def suspend_user(user_id: int, admin: User, reason: str,
                 report_id: int | None = None) -> User:
    try:
        user = _locked_user(user_id)
        if user.is_admin:
            raise Conflict("An admin cannot be suspended; remove the role first.")
        if user.is_suspended:
            raise Conflict("The user is already suspended.")
        now = utcnow()
        user.suspended_at, user.suspension_reason = now, reason
        revoked = db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
        accounts_cache.forget_user(user.id)
        audit.record("user.suspended", "user", user.id, actor_id=admin.id,
                     details={"reason": reason, "report_id": report_id,
                              "tokens_revoked": revoked})
        _close_named(report_id, admin, "user", user.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user


def reinstate_user(user_id: int, admin: User, note: str | None = None) -> User:
    try:
        user = _locked_user(user_id)
        if not user.is_suspended:
            raise Conflict("The user is not suspended.")
        user.suspended_at, user.suspension_reason = None, None
        audit.record("user.reinstated", "user", user.id, actor_id=admin.id,
                     details={"note": note})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user


# ---- audit log ---------------------------------------------------------------------------
def audit_log(args: dict[str, Any]) -> dict[str, Any]:
    """Admins: the audit log, newest first, filtered by subject, action or actor."""
    query = select(AuditEntry)
    if args.get("subject_type"):
        query = query.where(AuditEntry.subject_type == args["subject_type"])
    if args.get("subject_id") is not None:
        query = query.where(AuditEntry.subject_id == str(args["subject_id"]))
    if args.get("action"):
        query = query.where(AuditEntry.action == args["action"])
    if args.get("actor_id") is not None:
        query = query.where(AuditEntry.actor_id == args["actor_id"])
    return id_page(query, AuditEntry.id, args["limit"], args.get("cursor"))
