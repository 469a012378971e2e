"""HTTP API of impact: organisation reports, public totals, signed statements, leaderboards."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.impact import leaderboards, public, report, signing, statements
from marketplace.impact.schemas import (
    JwksSchema,
    OptInSchema,
    OrgBoardArgsSchema,
    OrgBoardSchema,
    OrgReportArgsSchema,
    OrgReportSchema,
    PeopleArgsSchema,
    PeopleBoardSchema,
    PublicImpactSchema,
    RangeArgsSchema,
    StatementInSchema,
    StatementSchema,
)

blp = Blueprint("impact", __name__, url_prefix="/api/v1",
                description="Impact reports, signed carbon statements and leaderboards")


@blp.route("/organisations/<int:org_id>/impact", methods=["GET"])
@blp.auth()
@blp.arguments(OrgReportArgsSchema, location="query", as_kwargs=True)
@blp.response(200, OrgReportSchema)
@blp.doc(responses={"200": {"description": "OK", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/OrgReport"}},
    "text/csv": {"schema": {"type": "string", "description": "The report as CSV (format=csv)"}},
}}})
@blp.errors(404, 422)
def organisation_impact(org_id, from_, to, format):
    """Procurement impact report (members): devices bought and sold for the organisation by
    category, spend, CO2e avoided (low/central/high), e-waste and materials, refurbished vs
    peer-to-peer, methodology versions. `format=csv` returns `text/csv` (UTF-8 with BOM,
    cells that a spreadsheet would run as formulas are neutralised)."""
    return report.render(org_id, current_user(), from_, to, format)


@blp.route("/impact", methods=["GET"])
@blp.conditional()
@blp.arguments(RangeArgsSchema, location="query", as_kwargs=True)
@blp.response(200, PublicImpactSchema)
@blp.errors(422)
def platform_impact(from_, to):
    """Platform totals by month and device category (public, no personal data; cells with
    fewer than `IMPACT_MIN_USERS` accounts suppressed; `from` and `to` widened to whole
    months, UTC, as the response's `from` and `to` say). Adds up to the ledger."""
    return public.report(from_, to)


@blp.route("/carbon/statements", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(StatementInSchema)
@blp.response(201, StatementSchema)
@blp.errors(403, 404, 422, 503)
def issue_statement(data):
    """Issue a signed statement of your account's (or an organisation's you act for)
    credited total over a period: `payload` is the exact JSON text signed, `signature` its
    Ed25519 signature (base64url) by key `key_id` (see `/carbon/statements/keys`)."""
    return statements.issue(current_user(), data["organisation_id"], data["from_"],
                            data["to"])


@blp.route("/carbon/statements/keys", methods=["GET"])
@blp.conditional()
@blp.response(200, JwksSchema)
def statement_keys():
    """The public keys that sign statements, as JWKs (`kty` OKP, `crv` Ed25519, `x`)."""
    return signing.jwks()


@blp.route("/carbon/statements/<string:statement_id>", methods=["GET"])
@blp.conditional()
@blp.response(200, StatementSchema)
@blp.errors(404)
def get_statement(statement_id):
    """A statement as issued (public to whoever holds its id), with its status now: a
    revoked key or a later reversal shows in `status`, outside the signed payload."""
    return statements.view(statement_id)


@blp.route("/leaderboards/people", methods=["GET"])
@blp.arguments(PeopleArgsSchema, location="query", as_kwargs=True)
@blp.response(200, PeopleBoardSchema)
@blp.errors(422)
def people_leaderboard(month, limit, city=None):
    """People who opted in, ranked by net credit in the month (optionally in one city)."""
    return leaderboards.people(month, city, limit)


@blp.route("/leaderboards/organisations", methods=["GET"])
@blp.arguments(OrgBoardArgsSchema, location="query", as_kwargs=True)
@blp.response(200, OrgBoardSchema)
@blp.errors(422)
def organisation_leaderboard(month, limit, kind=None):
    """Organisations ranked by net credit in the month (optionally of one kind)."""
    return leaderboards.organisations(month, kind, limit)


@blp.route("/leaderboards/opt-in", methods=["GET"])
@blp.auth()
@blp.response(200, OptInSchema)
def leaderboard_opt_in():
    """Whether you appear in people leaderboards (off by default)."""
    return leaderboards.get_opt_in(current_user())


@blp.route("/leaderboards/opt-in", methods=["PUT"])
@blp.auth()
@blp.idempotent()
@blp.arguments(OptInSchema)
@blp.response(200, OptInSchema)
@blp.errors(422)
def set_leaderboard_opt_in(data):
    """Opt in to (or out of) people leaderboards."""
    return leaderboards.set_opt_in(current_user(), data["appear"])
