"""Request and response schemas for offers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.money import MAX_AMOUNT
from marketplace.offers.models import OfferKind, OfferStatus


class OfferAmountSchema(ma.Schema):
    amount = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Integer amount in minor units of the listing's currency"})


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    listing_id = ma.fields.Integer()
    buyer_id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": [k.value for k in OfferKind],
                                      "description": "offer (from the buyer) or counter "
                                                     "(from the seller)"})
    parent_offer_id = ma.fields.Integer(allow_none=True)
    amount = ma.fields.Integer(metadata={"description": "Minor units of `currency`"})
    currency = ma.fields.String()
    status = ma.fields.String(attribute="effective_status",
                              metadata={"enum": [s.value for s in OfferStatus]})
    expires_at = ma.fields.AwareDateTime()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    purchase_deadline = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Accepted offers: buy before this moment"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class OfferListArgsSchema(ma.Schema):
    role = ma.fields.String(validate=validate.OneOf(["buyer", "seller"]),
                            metadata={"description": "Default: both"})
    status = ma.fields.String(validate=validate.OneOf([s.value for s in OfferStatus]))
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = ma.fields.String(validate=validate.Length(min=1, max=200))


class OfferPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OfferSchema))
    next_cursor = ma.fields.String(allow_none=True)
