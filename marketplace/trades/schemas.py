"""Request and response schemas for trades and reviews."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.money import MAX_AMOUNT
from marketplace.trades.models import TradeStatus


class TradeCreateSchema(ma.Schema):
    listing_id = ma.fields.Integer(required=True, strict=True)
    offer_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True, metadata={
        "description": "An accepted offer of yours on this listing: its price is used."})
    voucher_code = ma.fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(min=1, max=32), metadata={
        "description": "One of your vouchers: the payment is the price less its discount "
                       "(at least the currency's minimum charge is left to pay). 422 under "
                       "voucher_code if it is not yours or does not apply; 409 if expired, "
                       "used or held by another purchase."})


class ShipSchema(ma.Schema):
    carrier = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))


class DisputeSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ResolveSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=validate.OneOf(["release", "refund"]))
    amount = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT),
                               metadata={"description": "refund only; default: all of it"})


class RefundSchema(ma.Schema):
    amount = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT),
                               metadata={"description": "Minor units; default: what is left"})


class MoneySchema(ma.Schema):
    amount = ma.fields.Integer()
    currency = ma.fields.String()


class PaymentSchema(ma.Schema):
    provider = ma.fields.String()
    payment_intent_id = ma.fields.String(allow_none=True)
    client_secret = ma.fields.String(allow_none=True, metadata={
        "description": "For the buyer's client to confirm the PaymentIntent (buyer only)."})


class ShipmentSchema(ma.Schema):
    carrier = ma.fields.String()
    tracking_number = ma.fields.String()


class TradeSchema(ma.Schema):
    id = ma.fields.Integer()
    listing_id = ma.fields.Integer()
    buyer_id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    offer_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"enum": [s.value for s in TradeStatus]})
    amount = ma.fields.Nested(MoneySchema, metadata={
        "description": "The price (listing or accepted offer), before any voucher"})
    voucher_code = ma.fields.String(allow_none=True)
    discount = ma.fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "The voucher's discount, borne by the platform (null: none)"})
    amount_charged = ma.fields.Nested(MoneySchema, metadata={
        "description": "What the buyer pays: amount - discount; refunds are at most this"})
    platform_fee = ma.fields.Integer(metadata={
        "description": "Minor units, seller's side, on the undiscounted amount"})
    seller_payable = ma.fields.Integer()
    refunded_amount = ma.fields.Integer()
    footprint_snapshot = ma.fields.Dict(metadata={
        "description": "The listing's estimate (kg CO2e), frozen when the trade was created"})
    payment = ma.fields.Nested(PaymentSchema)
    shipment = ma.fields.Nested(ShipmentSchema, allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    expires_at = ma.fields.AwareDateTime(metadata={"description": "Pay before this moment"})
    ship_by = ma.fields.AwareDateTime(allow_none=True)
    confirm_by = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "Auto-confirmed at this moment unless confirmed or disputed"})
    review_deadline = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    shipped_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)


class TradeListArgsSchema(ma.Schema):
    role = ma.fields.String(validate=validate.OneOf(["buyer", "seller"]),
                            metadata={"description": "Default: both"})
    status = ma.fields.String(validate=validate.OneOf([s.value for s in TradeStatus]))
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = ma.fields.String(validate=validate.Length(min=1, max=200))


class TradePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TradeSchema))
    next_cursor = ma.fields.String(allow_none=True)


class TradeEventSchema(ma.Schema):
    id = ma.fields.Integer()
    transition = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor = ma.fields.String(metadata={"enum": ["buyer", "seller", "admin", "system",
                                                "stripe"]})
    actor_id = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict()
    created_at = ma.fields.AwareDateTime()


class ReviewCreateSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, strict=True,
                               validate=validate.Range(min=1, max=5))
    comment = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class ReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    author_id = ma.fields.Integer()
    subject_id = ma.fields.Integer()
    author_role = ma.fields.String()
    rating = ma.fields.Integer()
    comment = ma.fields.String()
    published = ma.fields.Function(lambda r: r.published_at is not None, metadata={
        "description": "false while hidden from the other party"})
    created_at = ma.fields.AwareDateTime()
