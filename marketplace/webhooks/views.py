"""Admin API of outbound webhooks: endpoints and their delivery log."""

from __future__ import annotations

from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.webhooks import services
from marketplace.webhooks.schemas import (
    DeliveryArgsSchema,
    DeliverySchema,
    EndpointActiveSchema,
    EndpointCreatedSchema,
    EndpointInSchema,
    EndpointSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/admin",
                description="Outbound webhooks for partners (admin)")


@blp.route("/webhooks", methods=["POST"])
@blp.auth("admin")
@blp.idempotent()
@blp.arguments(EndpointInSchema)
@blp.response(201, EndpointCreatedSchema)
def create_webhook(data):
    """Register a partner endpoint for some event kinds; the signing secret is returned once."""
    return services.create_endpoint(data["url"], data["event_types"], data["description"])


@blp.route("/webhooks", methods=["GET"])
@blp.auth("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(EndpointSchema))
@blp.errors(422)
def list_webhooks(args):
    """Registered endpoints, newest first."""
    return services.endpoints(args["limit"], args.get("cursor"))


@blp.route("/webhooks/<int:endpoint_id>", methods=["PATCH"])
@blp.auth("admin")
@blp.arguments(EndpointActiveSchema)
@blp.response(200, EndpointSchema)
@blp.errors(404, 422)
def update_webhook(data, endpoint_id):
    """Turn an endpoint off (its waiting deliveries fail) or on again."""
    return services.set_active(endpoint_id, data["active"])


@blp.route("/webhooks/<int:endpoint_id>/deliveries", methods=["GET"])
@blp.auth("admin")
@blp.arguments(DeliveryArgsSchema, location="query")
@blp.response(200, page_schema(DeliverySchema))
@blp.errors(404, 422)
def webhook_deliveries(args, endpoint_id):
    """The endpoint's delivery log, newest first (``status`` to filter)."""
    return services.deliveries(endpoint_id, args["limit"], args.get("cursor"),
                               args.get("status"))
