"""Import every model so that the metadata (and Alembic) sees the whole schema."""

import carbon.incentives.evaluate  # noqa: F401  (incentives' outbox handlers)
import carbon.incentives.reversal  # noqa: F401
import carbon.ledger.posting  # noqa: F401  (registers the ledger's outbox handlers)
from carbon.incentives.models import (
    CatalogItem,
    CreditEvaluation,
    IncentiveRule,
    IncentiveRuleVersion,
    PointsAccount,
    PointsLine,
    PointsTransaction,
    Reward,
    Voucher,
)
from carbon.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction
from marketplace.auth.models import ApiToken, User
from marketplace.idempotency import IdempotencyKey
from marketplace.listings.models import Listing
from marketplace.notifications import Notification
from marketplace.offers.models import Offer
from marketplace.outbox import OutboxMessage
from marketplace.payments import payouts as _payouts  # noqa: F401  (outbox handlers)
from marketplace.payments import webhooks as _webhooks  # noqa: F401  (outbox handlers)
from marketplace.payments.models import Payout, PayoutAccount, StripeEvent
from marketplace.trades import ledger_check as _ledger_check  # noqa: F401  (verify check)
from marketplace.trades import stripe_events as _stripe_events  # noqa: F401  (webhooks)
from marketplace.trades.models import Review, Trade, TradeEvent, TradeRefund

__all__ = [
    "ApiToken", "CatalogItem", "CreditEvaluation", "IdempotencyKey", "IncentiveRule",
    "IncentiveRuleVersion", "LedgerAccount", "LedgerLine", "LedgerTransaction", "Listing",
    "Notification", "Offer", "OutboxMessage", "Payout", "PayoutAccount", "PointsAccount",
    "PointsLine", "PointsTransaction", "Review", "Reward", "StripeEvent", "Trade", "TradeEvent",
    "TradeRefund", "User", "Voucher",
]
