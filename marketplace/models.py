"""Import every model so that the metadata (and Alembic) sees the whole schema."""

from marketplace.auth.models import ApiToken, User
from marketplace.notifications import Notification
from marketplace.outbox import OutboxMessage

__all__ = ["ApiToken", "Notification", "OutboxMessage", "User"]
