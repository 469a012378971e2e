"""HTTP API of notifications: the caller's own, read markers and channel preferences."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import page_schema
from marketplace.notifications import services
from marketplace.notifications.schemas import (
    MarkedSchema,
    NotificationArgsSchema,
    NotificationSchema,
    SettingsSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="In-app notifications")


@blp.route("/users/me/notifications", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(NotificationArgsSchema, location="query")
@blp.response(200, page_schema(NotificationSchema))
@blp.errors(422)
def my_notifications(args):
    """The caller's notifications, newest first (``unread_only`` for the unread ones)."""
    return services.page_for_user(current_user().id, args["limit"], args.get("cursor"),
                                  args["unread_only"])


@blp.route("/users/me/notifications/<int:notification_id>/read", methods=["POST"])
@blp.auth()
@blp.response(200, NotificationSchema)
@blp.errors(404)
def read_notification(notification_id):
    """Mark one notification read (again: no change)."""
    return services.mark_read(current_user().id, notification_id)


@blp.route("/users/me/notifications/read-all", methods=["POST"])
@blp.auth()
@blp.response(200, MarkedSchema)
def read_all_notifications():
    """Mark every notification of the caller read."""
    return services.mark_all_read(current_user().id)


@blp.route("/users/me/notification-settings", methods=["GET"])
@blp.auth()
@blp.response(200, SettingsSchema)
def notification_settings():
    """The caller's channels (in-app, email, push) for every kind of notification."""
    return services.settings(current_user().id)


@blp.route("/users/me/notification-settings", methods=["PUT"])
@blp.auth()
@blp.arguments(SettingsSchema)
@blp.response(200, SettingsSchema)
@blp.errors(422)
def update_notification_settings(data):
    """Change the channels of the kinds given; the others keep theirs."""
    return services.update_settings(current_user().id, data["kinds"])
