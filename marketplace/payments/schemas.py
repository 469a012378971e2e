from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.payments.payouts import ACCOUNT_ID


class PayoutAccountSchema(ma.Schema):
    stripe_account_id = ma.fields.String(
        required=True,
        validate=validate.Regexp(ACCOUNT_ID, error="Expected acct_ followed by letters/digits."),
        metadata={"description": "The seller's Stripe Connect account id (`acct_...`).",
                  "example": "acct_1Nv0FGQ9RKHgCVdK"})
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class CurrencyCode(ma.fields.String):
    """ISO 4217 in upper case, as everywhere else in the API (stored lower case, as Stripe)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value).upper()


class PayoutSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    amount = ma.fields.Integer(metadata={"description": "Minor units (cents)."})
    currency = CurrencyCode(metadata={"description": "ISO 4217"})
    status = ma.fields.String(metadata={
        "description": "pending, transferred, accrued (no payout account yet), failed or "
                       "cancelled (reduced to nothing by refunds)"})
    stripe_transfer_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class BalanceSchema(ma.Schema):
    currency = CurrencyCode(metadata={"description": "ISO 4217"})
    accrued = ma.fields.Integer(metadata={
        "description": "Owed, waiting for a payout account (minor units)."})
    pending = ma.fields.Integer(metadata={"description": "Being transferred."})
    transferred = ma.fields.Integer()
    failed = ma.fields.Integer(metadata={"description": "Refused by Stripe; support will help."})


class PayoutsSchema(ma.Schema):
    payouts = ma.fields.List(ma.fields.Nested(PayoutSchema),
                             metadata={"description": "Latest 100, newest first."})
    balances = ma.fields.List(ma.fields.Nested(BalanceSchema),
                              metadata={"description": "Totals per currency."})


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean()
    duplicate = ma.fields.Boolean()
