"""HTTP API for reports, suspensions and the audit log (thin: ``services`` does the work)."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC
from marketplace.core.http.pagination import PageArgsSchema
from marketplace.listings.schemas import ListingSchema
from marketplace.moderation import services
from marketplace.moderation.schemas import (
    AuditArgsSchema,
    AuditEntryPageSchema,
    LiftSchema,
    ModeratedUserSchema,
    ReportCreateSchema,
    ReportPageSchema,
    ReportQueueArgsSchema,
    ReportResolveSchema,
    ReportSchema,
    SuspendSchema,
)

blp = Blueprint("moderation", __name__, url_prefix="/api/v1",
                description="Moderation: reports, suspensions of listings and users, the "
                            "audit log")


def _listing(listing):
    return listing, 200, {"ETag": listing.etag}


# ---- reports -----------------------------------------------------------------------------
@blp.route("/reports", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ReportCreateSchema)
@blp.response(201, ReportSchema)
@blp.errors(404, 409)
def create_report(data):
    """Report a listing, a user or a message you received to the admins, with a reason."""
    return services.report(current_user(), data["reason"], data.get("listing_id"),
                           data.get("user_id"), data.get("message_id"))


@blp.route("/reports", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ReportPageSchema)
def my_reports(args):
    """The caller's reports, newest first by id."""
    return services.my_reports(current_user(), args["limit"], args.get("cursor"))


@blp.route("/reports/<int:report_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, ReportSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_report(report_id):
    """A report (its reporter and admins; 404 for anyone else)."""
    return services.get_report(report_id, current_user())


@blp.route("/admin/reports", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(ReportQueueArgsSchema, location="query")
@blp.response(200, ReportPageSchema)
def report_queue(args):
    """The admin queue: **open reports first, then resolved ones, each oldest first**."""
    return services.queue(args.get("status"), args.get("subject_type"), args["limit"],
                          args.get("cursor"))


@blp.route("/admin/reports/<int:report_id>/resolve", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(ReportResolveSchema)
@blp.response(200, ReportSchema)
@blp.errors(404, 409)
def resolve_report(data, report_id):
    """Close a report as actioned or dismissed (a suspension naming it closes it too)."""
    return services.resolve_report(report_id, current_user(), data["resolution"],
                                   data["note"])


# ---- suspensions -------------------------------------------------------------------------
@blp.route("/admin/listings/<int:listing_id>/suspend", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(SuspendSchema)
@blp.response(200, ListingSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404, 409)
def suspend_listing(data, listing_id):
    """Suspend an active listing: hidden from everyone but its seller and admins (409 for a
    reserved one: settle or cancel its trade first)."""
    return _listing(services.suspend_listing(listing_id, current_user(), data["reason"],
                                             data["report_id"]))


@blp.route("/admin/listings/<int:listing_id>/unsuspend", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(LiftSchema)
@blp.response(200, ListingSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404, 409)
def unsuspend_listing(data, listing_id):
    """Lift a listing's suspension: active again."""
    return _listing(services.unsuspend_listing(listing_id, current_user(), data["note"]))


@blp.route("/admin/users/<int:user_id>/suspend", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(SuspendSchema)
@blp.response(200, ModeratedUserSchema)
@blp.errors(404, 409)
def suspend_user(data, user_id):
    """Suspend a user: their tokens are revoked, they cannot log in (so cannot list, offer or
    buy) and their open listings are hidden; their trades in flight go on."""
    return services.suspend_user(user_id, current_user(), data["reason"], data["report_id"])


@blp.route("/admin/users/<int:user_id>/reinstate", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(LiftSchema)
@blp.response(200, ModeratedUserSchema)
@blp.errors(404, 409)
def reinstate_user(data, user_id):
    """Lift a user's suspension: they may log in again; their listings show again."""
    return services.reinstate_user(user_id, current_user(), data["note"])


# ---- audit -------------------------------------------------------------------------------
@blp.route("/admin/audit", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditEntryPageSchema)
def audit_log(args):
    """The audit log of administrative actions, newest first by id; filter by subject
    (`subject_type`, `subject_id`), `action` or `actor_id`."""
    return services.audit_log(args)
