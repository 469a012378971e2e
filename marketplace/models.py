"""Import every model so that the metadata (and Alembic) sees the whole schema."""

import carbon.ledger.posting  # noqa: F401  (registers the ledger's outbox handlers)
from carbon.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction
from marketplace.auth.models import ApiToken, User
from marketplace.notifications import Notification
from marketplace.outbox import OutboxMessage

__all__ = ["ApiToken", "LedgerAccount", "LedgerLine", "LedgerTransaction", "Notification",
           "OutboxMessage", "User"]
