"""Request and response schemas for offers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneyField, MoneyInSchema
from marketplace.offers.models import OfferKind, OfferStatus


class OfferAmountSchema(ma.Schema):
    amount = ma.fields.Nested(MoneyInSchema, required=True, metadata={
        "description": "The amount offered; `currency` must be the listing's (422 under "
                       "`amount.currency` otherwise)"})


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    listing_id = ma.fields.Integer()
    buyer_id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": [k.value for k in OfferKind],
                                      "description": "offer (from the buyer) or counter "
                                                     "(from the seller)"})
    parent_offer_id = ma.fields.Integer(allow_none=True)
    amount = MoneyField(metadata={"description": "In the listing's currency"})
    status = ma.fields.String(attribute="effective_status",
                              metadata={"enum": [s.value for s in OfferStatus]})
    expires_at = ma.fields.AwareDateTime()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    purchase_deadline = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Accepted offers: buy before this moment"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class OfferListArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(["buyer", "seller"]),
                            metadata={"description": "Default: both"})
    status = ma.fields.String(validate=validate.OneOf([s.value for s in OfferStatus]))


OfferPageSchema = page_schema(OfferSchema)
