"""HTTP API of organisations: create, members by invitation, recyclers, the carbon account."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import PageArgsSchema
from marketplace.organisations import services
from marketplace.organisations.schemas import (
    InviteSchema,
    MembershipPageSchema,
    MembershipSchema,
    OrgAccountSchema,
    OrganisationInSchema,
    OrganisationPageSchema,
    OrganisationSchema,
    VerifySchema,
)

blp = Blueprint("organisations", __name__, url_prefix="/api/v1",
                description="Organisations (procurers, NGOs, schools, recyclers) and members")


@blp.route("/organisations", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(OrganisationInSchema)
@blp.response(201, OrganisationSchema)
@blp.errors(422)
def create_organisation(data):
    """Create an organisation; the caller becomes its owner."""
    return services.create(current_user(), data)


@blp.route("/organisations", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OrganisationPageSchema)
@blp.errors(422)
def my_organisations(args):
    """The organisations the caller is an active member of, newest first."""
    return services.mine(current_user(), args["limit"], args.get("cursor"))


@blp.route("/organisations/<int:org_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, OrganisationSchema)
@blp.errors(404)
def get_organisation(org_id):
    """One organisation (its members and admins; 404 for anyone else)."""
    return services.get(org_id, current_user())


@blp.route("/organisations/<int:org_id>/members", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, MembershipPageSchema)
@blp.errors(404, 422)
def organisation_members(args, org_id):
    """Members and pending invitations, newest first (members only)."""
    return services.members(org_id, current_user(), args["limit"], args.get("cursor"))


@blp.route("/organisations/<int:org_id>/invitations", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(InviteSchema)
@blp.response(201, MembershipSchema)
@blp.errors(403, 404, 409, 422)
def invite_member(data, org_id):
    """Invite someone (by `user_id` or `email`) with a role (owners only); an email is sent.
    409 if they are already a member or invited."""
    return services.invite(org_id, current_user(), data)


@blp.route("/organisations/invitations", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, MembershipPageSchema)
@blp.errors(422)
def my_invitations(args):
    """Invitations waiting for the caller (by user id, or by their email address once
    verified)."""
    return services.my_invitations(current_user(), args["limit"], args.get("cursor"))


@blp.route("/organisations/invitations/<int:membership_id>/accept", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, MembershipSchema)
@blp.errors(403, 404, 409)
def accept_invitation(membership_id):
    """Accept an invitation addressed to the caller (their user id, or their email once
    verified: 403 before)."""
    return services.accept(membership_id, current_user())


@blp.route("/organisations/<int:org_id>/carbon/account", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, OrgAccountSchema)
@blp.errors(404)
def organisation_account(org_id):
    """The organisation's own carbon account (members): what members earned acting for it."""
    return services.account(org_id, current_user())


@blp.route("/recyclers", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OrganisationPageSchema)
@blp.errors(422)
def list_recyclers(args):
    """Verified recyclers with their certifications (public)."""
    return services.recyclers(args["limit"], args.get("cursor"))


@blp.route("/admin/organisations/<int:org_id>/verify", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(VerifySchema)
@blp.response(200, OrganisationSchema)
@blp.errors(404, 409, 422)
def verify_recycler(data, org_id):
    """Verify a recycler and store its certifications (R2, WEEELABEX, e-Stewards) (admins)."""
    return services.verify_recycler(org_id, current_user(), data["certifications"])
