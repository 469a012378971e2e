"""Request and response schemas for trades and reviews."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate, validates_schema

from carbon.schemas import EstimateSchema
from marketplace.addresses.schemas import AddressSnapshotSchema
from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneyField, MoneyInSchema, MoneySchema
from marketplace.devices.wiping import METHODS as WIPE_METHODS
from marketplace.trades.fulfilment import FULFILMENTS
from marketplace.trades.machine import TRANSITIONS
from marketplace.trades.models import TradeStatus
from marketplace.trades.recourse_schemas import photo_ids_field
from marketplace.trades.shipping.carriers import CARRIERS
from marketplace.trades.shipping.carriers import normalize as normalize_carrier

STATUSES = [s.value for s in TradeStatus]
# Transitions, and the bookkeeping events that are not (engine.record, services._defer).
EVENT_NAMES = [t.name for t in TRANSITIONS] + ["refund_reconciled", "timer_failed",
                                                  "payment_held", "delivered"]

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
    fulfilment = ma.fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf(FULFILMENTS), metadata={
        "description": "shipping (default) or local_pickup (only when the listing offers it; "
                       "409 otherwise)"})
    shipping_address_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                            validate=_ID, metadata={
        "description": "shipping: one of your addresses (default: your default address; "
                       "422 when you have none). Copied onto the trade."})
    organisation_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=_ID, metadata={
        "description": "Buy on behalf of this organisation (you must be its owner or buyer; "
                       "422 otherwise): its account, not yours, gets your share of the credit"})


class CarrierField(ma.fields.String):
    """A known carrier's code; a display name ("La Poste") is accepted and normalised."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalize_carrier(super()._deserialize(value, attr, data, **kwargs))


class ShipSchema(ma.Schema):
    carrier = CarrierField(required=True, validate=validate.OneOf(
        list(CARRIERS), error="Not a known carrier: one of {choices}."), metadata={
        "enum": list(CARRIERS), "description": "A known carrier's code (reloop_test only "
                                               "where TEST_CARRIER_URL is set)"})
    tracking_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))


class DisputeSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    evidence_text = ma.fields.String(load_default=None, validate=validate.Length(max=4000),
                                     metadata={"description": "What happened, in detail"})
    photo_ids = photo_ids_field(load_default=list)


class ResolveSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=validate.OneOf(
        ["release", "refund", "partial_refund"]), metadata={
        "description": "release: the seller is paid, the trade completes; refund: all (or "
                       "`amount`) back to the buyer, the trade ends refunded without carbon "
                       "credit; partial_refund: the buyer keeps the device and `amount` (less "
                       "than what is left), the trade completes and keeps its credit"})
    amount = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "refund (default: all of it) and partial_refund (required); 422 with "
                       "release. In the trade's currency (422 under `amount.currency` "
                       "otherwise), at most what is left to refund"})
    note = ma.fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "The admin's reasons, added to the dispute's timeline"})

    @validates_schema
    def _amount_only_to_refund(self, data, **kwargs):
        if data.get("outcome") == "release" and "amount" in data:
            raise ma.ValidationError("Only a refund takes an amount.", "amount")
        if data.get("outcome") == "partial_refund" and "amount" not in data:
            raise ma.ValidationError("A partial refund needs an amount.", "amount")


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


class DataWipeSchema(ma.Schema):
    required = ma.fields.Boolean(metadata={
        "description": "Phones, tablets, laptops and desktops ship only once declared"})
    declared = ma.fields.Boolean()
    method = ma.fields.String(metadata={"enum": list(WIPE_METHODS)})
    wiped_on = ma.fields.Date()
    certificate_ref = ma.fields.String(allow_none=True)
    declared_at = ma.fields.AwareDateTime()
    buyer_answer = ma.fields.String(allow_none=True, metadata={
        "enum": ["confirmed", "reported", None]})
    answered_at = ma.fields.AwareDateTime(allow_none=True)


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
    fulfilment = ma.fields.String(metadata={"enum": list(FULFILMENTS)})
    shipping_address = ma.fields.Nested(AddressSnapshotSchema, allow_none=True, metadata={
        "description": "Where to ship (copied at creation): the buyer always, the seller only "
                       "once the trade is paid, nobody else (null)"})
    pickup_city = ma.fields.String(allow_none=True, metadata={
        "description": "local_pickup: the listing's city"})
    amount = MoneyField(metadata={
        "description": "The price (listing or accepted offer), before any voucher"})
    shipping_price = MoneyField(amount="shipping_amount", metadata={
        "description": "Shipping on top of the price (0: free, or local pickup); paid on to "
                       "the seller, no fee on it"})
    voucher_code = ma.fields.String(allow_none=True)
    discount = ma.fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "The voucher's discount, borne by the platform (null: none)"})
    amount_charged = MoneyField(metadata={
        "description": "What the buyer pays: amount + shipping_price - discount; refunds are "
                       "at most this"})
    platform_fee = MoneyField(metadata={
        "description": "The platform's fee, seller's side, on the undiscounted amount"})
    seller_payable = MoneyField(metadata={
        "description": "What the seller is owed: amount + shipping_price - fee - refunds "
                       "(at their share), never below zero"})
    refunded_amount = MoneyField(metadata={
        "description": "Refunded to the buyer so far (out of amount_charged)"})
    footprint_snapshot = ma.fields.Nested(EstimateSchema, metadata={
        "description": "The listing's estimate (kg CO2e), frozen when the trade was created"})
    payment = ma.fields.Nested(PaymentSchema)
    shipment = ma.fields.Nested(ShipmentSchema, allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    data_wipe = ma.fields.Nested(DataWipeSchema, allow_none=True, metadata={
        "description": "The seller's data-wipe declaration and the buyer's answer (null when "
                       "the category needs none and none was made)"})
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
    reason = ma.fields.String(metadata={"description": "dispute or return reason, a refused "
                                                      "return's reason, or why a payment "
                                                      "failed"})
    carrier = ma.fields.String()
    tracking_number = ma.fields.String()
    outcome = ma.fields.String(metadata={"enum": ["release", "refund", "partial_refund"]})
    note = ma.fields.String(metadata={"description": "resolve: the admin's note"})
    dispute_id = ma.fields.Integer(metadata={"description": "The dispute opened or resolved"})
    origin = ma.fields.String(metadata={"description": "Why a dispute opened (see Dispute)"})
    data_wipe = ma.fields.String(metadata={
        "description": "ship: the declared wipe method; dispute: `reported` when the buyer "
                       "reported the device was not wiped"})
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
    tracked = ma.fields.Boolean(metadata={
        "description": "ship: the carrier is tracked (the confirm window starts on delivery)"})
    delivered_at = ma.fields.String(metadata={"description": "delivered: when (ISO 8601)"})
    confirm_by = ma.fields.String(metadata={"description": "delivered: auto-confirmed then "
                                                          "(ISO 8601)"})


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
