from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import page_schema
from marketplace.core.money_schemas import MoneyField
from marketplace.payments.models import PayoutStatus
from marketplace.payments.payouts import ACCOUNT_ID


class PayoutAccountSchema(ma.Schema):
    stripe_account_id = ma.fields.String(
        required=True,
        validate=validate.Regexp(ACCOUNT_ID, error="Expected acct_ followed by letters/digits."),
        metadata={"description": "The seller's Stripe Connect account id (`acct_...`), as "
                                 "Stripe reported it after onboarding.",
                  "example": "acct_1Nv0FGQ9RKHgCVdK"})
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class PayoutSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    amount = MoneyField(metadata={"description": "What the seller is paid for the trade "
                                                "(after any refund taken out of it)"})
    status = ma.fields.String(metadata={
        "enum": [s.value for s in PayoutStatus],
        "description": "pending, transferred, accrued (no payout account yet), failed or "
                       "cancelled (reduced to nothing by refunds)"})
    stripe_transfer_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


PayoutPageSchema = page_schema(PayoutSchema)


class BalanceSchema(ma.Schema):
    """A seller's payout totals in one currency (every amount in that currency)."""

    currency = ma.fields.String(metadata={"description": "ISO 4217, upper case",
                                          "example": "EUR"})
    accrued = MoneyField(amount="accrued", metadata={
        "description": "Owed, waiting for a payout account."})
    pending = MoneyField(amount="pending", metadata={"description": "Being transferred."})
    transferred = MoneyField(amount="transferred")
    failed = MoneyField(amount="failed", metadata={
        "description": "Refused by Stripe; support will help."})


class BalancesSchema(ma.Schema):
    balances = ma.fields.List(ma.fields.Nested(BalanceSchema), required=True, metadata={
        "description": "One entry per currency the caller has payouts in (a small fixed set, "
                       "so not paginated), by currency code."})


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean()
    duplicate = ma.fields.Boolean()


class OnboardingSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=1024), metadata={
        "description": "The caller's password, again (a token alone cannot change where "
                       "payouts go)"})


class OnboardingLinkSchema(ma.Schema):
    url = ma.fields.String(metadata={"description": "Stripe-hosted onboarding page (single "
                                                    "use, short-lived)"})
    expires_at = ma.fields.AwareDateTime(allow_none=True)
