"""Import every model so that the metadata (and Alembic) sees the whole schema."""

from marketplace.auth.models import ApiToken, User
from marketplace.listings.models import Listing
from marketplace.notifications import Notification
from marketplace.offers.models import Offer
from marketplace.outbox import OutboxMessage

__all__ = ["ApiToken", "Listing", "Notification", "Offer", "OutboxMessage", "User"]
