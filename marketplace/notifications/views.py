"""HTTP API of notifications: the caller's own, in pages."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.notifications import services
from marketplace.notifications.schemas import NotificationSchema

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="In-app notifications")


@blp.route("/users/me/notifications", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(NotificationSchema))
@blp.errors(422)
def my_notifications(args):
    """The caller's notifications, newest first."""
    return services.page_for_user(current_user().id, args["limit"], args.get("cursor"))
