"""HTTP API of recycling handovers."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.recycling import services
from marketplace.recycling.schemas import (
    OutcomeSchema,
    RecyclingHandoverInSchema,
    RecyclingHandoverListArgsSchema,
    RecyclingHandoverPageSchema,
    RecyclingHandoverSchema,
)

blp = Blueprint("recycling", __name__, url_prefix="/api/v1",
                description="Take-back: devices handed to verified recyclers, credited once")


@blp.route("/recycling", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(RecyclingHandoverInSchema)
@blp.response(201, RecyclingHandoverSchema)
@blp.errors(403, 422)
def create_handover(data):
    """Hand a device that is not worth reselling to a verified recycler (drop-off or
    parcel); not to a recycler the caller belongs to (403)."""
    return services.create(current_user(), data)


@blp.route("/recycling", methods=["GET"])
@blp.auth()
@blp.arguments(RecyclingHandoverListArgsSchema, location="query")
@blp.response(200, RecyclingHandoverPageSchema)
@blp.errors(404, 422)
def list_handovers(args):
    """Your handovers, or a recycler's (`recycler_id`, members), newest first."""
    return services.list_handovers(current_user(), args.get("recycler_id"), args["limit"],
                                   args.get("cursor"))


@blp.route("/recycling/<int:handover_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, RecyclingHandoverSchema)
@blp.errors(404)
def get_handover(handover_id):
    """One handover (its user, the recycler's members, admins)."""
    return services.get(handover_id, current_user())


@blp.route("/recycling/<int:handover_id>/receive", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, RecyclingHandoverSchema)
@blp.errors(403, 404, 409)
def receive_handover(handover_id):
    """The recycler (an owner or buyer of it) confirms it received the device."""
    return services.receive(handover_id, current_user())


@blp.route("/recycling/<int:handover_id>/outcome", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(OutcomeSchema)
@blp.response(200, RecyclingHandoverSchema)
@blp.errors(403, 404, 409, 422)
def confirm_outcome(data, handover_id):
    """The recycler confirms the outcome (parts harvested, materials recovered): the user
    (or the organisation handed over for) is credited the recycling credit, once."""
    return services.confirm_outcome(handover_id, current_user(), data)
