"""Request and response schemas for trades and reviews."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate, validates_schema

from carbon.schemas import EstimateSchema
from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneyField, MoneyInSchema, MoneySchema
from marketplace.trades.machine import TRANSITIONS
from marketplace.trades.models import TradeStatus

STATUSES = [s.value for s in TradeStatus]
# Transitions, and the bookkeeping events that are not (engine.record, services._defer).
EVENT_NAMES = [t.name for t in TRANSITIONS] + ["refund_reconciled", "timer_failed"]

_ID = validate.Range(min=1, max=MAX_BIGINT)


class TradeCreateSchema(ma.Schema):
    listing_id = ma.fields.Integer(required=True, strict=True, validate=_ID)
    offer_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True, validate=_ID,
                                 metadata={
        "description": "An accepted offer of yours on this listing: its price is used."})
    voucher_code = ma.fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(min=1, max=32), metadata={
        "description": "One of your vouchers: the payment is the price less its discount "
                       "(at least the currency's minimum charge is left to pay). 422 under "
                       "voucher_code if it is not yours or does not apply; 409 if expired, "
                       "used or held by another purchase."})
    organisation_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=_ID, metadata={
        "description": "Buy on behalf of this organisation (you must be its owner or buyer; "
                       "422 otherwise): its account, not yours, gets your share of the credit"})


class ShipSchema(ma.Schema):
    carrier = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))


class DisputeSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ResolveSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=validate.OneOf(["release", "refund"]))
    amount = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "refund only (422 with release); default: all of it. In the trade's "
                       "currency (422 under `amount.currency` otherwise), at most what is "
                       "left to refund"})

    @validates_schema
    def _amount_only_to_refund(self, data, **kwargs):
        if data.get("outcome") == "release" and "amount" in data:
            raise ma.ValidationError("Only a refund takes an amount.", "amount")


class RefundSchema(ma.Schema):
    amount = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "Default: what is left. In the trade's currency (422 under "
                       "`amount.currency` otherwise), at most what is left to refund"})


class PaymentSchema(ma.Schema):
    provider = ma.fields.String(metadata={"enum": ["stripe"]})
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
    buyer_organisation_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The organisation the buyer acted for (null: in person)"})
    seller_organisation_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The organisation the listing was listed for (null: in person)"})
    status = ma.fields.String(metadata={"enum": STATUSES})
    amount = MoneyField(metadata={
        "description": "The price (listing or accepted offer), before any voucher"})
    voucher_code = ma.fields.String(allow_none=True)
    discount = ma.fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "The voucher's discount, borne by the platform (null: none)"})
    amount_charged = MoneyField(metadata={
        "description": "What the buyer pays: amount - discount; refunds are at most this"})
    platform_fee = MoneyField(metadata={
        "description": "The platform's fee, seller's side, on the undiscounted amount"})
    seller_payable = MoneyField(metadata={
        "description": "What the seller is owed: amount - fee - refunds (at their share of "
                       "the price), never below zero"})
    refunded_amount = MoneyField(metadata={
        "description": "Refunded to the buyer so far (out of amount_charged)"})
    footprint_snapshot = ma.fields.Nested(EstimateSchema, metadata={
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


class TradeListArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(["buyer", "seller"]),
                            metadata={"description": "Default: both"})
    status = ma.fields.String(validate=validate.OneOf(STATUSES))


TradePageSchema = page_schema(TradeSchema)


class RefundDetailSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The Stripe refund id (re_...)"})
    amount = ma.fields.Nested(MoneySchema)
    adopted = ma.fields.Boolean(metadata={
        "description": "Already recorded from Stripe's webhook; counted once"})


class VoucherDetailSchema(ma.Schema):
    code = ma.fields.String()
    discount = ma.fields.Nested(MoneySchema)
    restored = ma.fields.Boolean(metadata={"description": "Given back to the buyer"})


class TradeEventDetailsSchema(ma.Schema):
    """What a transition did. Every field is optional: each transition records its own.
    Seller-only fields (payout, payout_reduced_by, platform_borne) are left out for the
    buyer."""

    amount = ma.fields.Nested(MoneySchema, metadata={"description": "create: the price; "
                                                     "resolve: the refund asked for"})
    offer_id = ma.fields.Integer(allow_none=True)
    voucher = ma.fields.Nested(VoucherDetailSchema)
    payment_intent_id = ma.fields.String()
    payment_intent = ma.fields.String(metadata={
        "description": "What became of the PaymentIntent on cancel (e.g. canceled)"})
    charge_id = ma.fields.String()
    amount_received = ma.fields.Nested(MoneySchema)
    detected_by = ma.fields.String()
    stripe_event = ma.fields.String(metadata={"description": "The Stripe event id (evt_...)"})
    reason = ma.fields.String(metadata={"description": "dispute reason, or why a payment "
                                                      "failed"})
    carrier = ma.fields.String()
    tracking_number = ma.fields.String()
    outcome = ma.fields.String(metadata={"enum": ["release", "refund"]})
    listing = ma.fields.String(metadata={"description": "The listing's status afterwards"})
    refund = ma.fields.Nested(RefundDetailSchema)
    payout = ma.fields.Nested(MoneySchema, metadata={
        "description": "The seller's payout (seller and admins only)"})
    payout_reduced_by = ma.fields.Nested(MoneySchema, metadata={
        "description": "Taken out of the payout by a refund (seller and admins only)"})
    platform_borne = ma.fields.Nested(MoneySchema, metadata={
        "description": "Refunded but already transferred: borne by the platform (seller and "
                       "admins only)"})
    due_at = ma.fields.String(metadata={"description": "Timers: the deadline that passed "
                                                      "(ISO 8601)"})
    error = ma.fields.String(metadata={"description": "timer_failed: what went wrong"})


class TradeEventSchema(ma.Schema):
    id = ma.fields.Integer()
    transition = ma.fields.String(metadata={"enum": EVENT_NAMES})
    from_status = ma.fields.String(allow_none=True, metadata={
        "enum": STATUSES, "description": "null for create"})
    to_status = ma.fields.String(metadata={"enum": STATUSES})
    actor = ma.fields.String(metadata={"enum": ["buyer", "seller", "admin", "system",
                                                "stripe"]})
    actor_id = ma.fields.Integer(allow_none=True)
    details = ma.fields.Nested(TradeEventDetailsSchema)
    created_at = ma.fields.AwareDateTime()


TradeEventPageSchema = page_schema(TradeEventSchema)


class ReviewCreateSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, strict=True,
                               validate=validate.Range(min=1, max=5))
    comment = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class ReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    author_id = ma.fields.Integer()
    subject_id = ma.fields.Integer()
    author_role = ma.fields.String(metadata={"enum": ["buyer", "seller"]})
    rating = ma.fields.Integer(metadata={"minimum": 1, "maximum": 5})
    comment = ma.fields.String()
    published = ma.fields.Function(lambda r: r.published_at is not None, metadata={
        "description": "false while hidden from the other party"})
    created_at = ma.fields.AwareDateTime()


ReviewPageSchema = page_schema(ReviewSchema)
