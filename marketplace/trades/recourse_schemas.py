"""Request and response schemas for returns and disputes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneySchema
from marketplace.trades.recourse_models import DisputeStatus, ReturnStatus
from marketplace.uploads import services as uploads

_REASON = validate.Length(min=1, max=2000)


def photo_ids_field(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_BIGINT)),
        validate=validate.Length(max=20), metadata={
            "description": "Photo evidence: ids of your own uploads (`POST /uploads`), at most "
                           "20; each may be used once (422 otherwise)"}, **kwargs)


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=_REASON)


class ReturnShipSchema(ma.Schema):
    carrier = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))


class ReturnSchema(ma.Schema):
    trade_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in ReturnStatus]})
    reason = ma.fields.String(metadata={"description": "The buyer's reason"})
    refusal_reason = ma.fields.String(allow_none=True, metadata={
        "description": "The seller's, when refused (the trade is then disputed)"})
    carrier = ma.fields.String(allow_none=True)
    tracking_number = ma.fields.String(allow_none=True)
    requested_at = ma.fields.AwareDateTime()
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    shipped_at = ma.fields.AwareDateTime(allow_none=True)
    received_at = ma.fields.AwareDateTime(allow_none=True)


class DisputeRecordSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    buyer_id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    origin = ma.fields.String(metadata={
        "enum": ["dispute", "return_refused", "return_stalled"],
        "description": "dispute: the buyer disputed; return_refused: the seller refused a "
                       "return; return_stalled: a return was not answered or not confirmed "
                       "received in time"})
    reason = ma.fields.String(metadata={"description": "The buyer's reason"})
    status = ma.fields.String(metadata={"enum": [s.value for s in DisputeStatus]})
    outcome = ma.fields.String(allow_none=True, metadata={
        "enum": ["release", "refund", "partial", None],
        "description": "partial: a partial refund, the buyer keeping the device"})
    refund = ma.fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "What the resolution refunded (null: nothing)"})
    resolution_note = ma.fields.String(allow_none=True)
    resolved_by = ma.fields.Integer(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


DisputeRecordPageSchema = page_schema(DisputeRecordSchema)


class DisputeQueueArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in DisputeStatus]),
                              metadata={"description": "Default: both, open first"})


class DisputeEntryCreateSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    photo_ids = photo_ids_field(load_default=list)


class DisputeEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    dispute_id = ma.fields.Integer()
    author_role = ma.fields.String(metadata={"enum": ["buyer", "seller", "admin", "system"]})
    author_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String(metadata={
        "enum": ["opened", "evidence", "reply", "note", "resolution"]})
    text = ma.fields.String()
    photo_ids = ma.fields.List(ma.fields.Integer(), metadata={"description": "Upload ids"})
    photos = ma.fields.Method("_photos", metadata={
        "type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "url": {"type": "string"},
            "thumb_url": {"type": "string"}, "width": {"type": "integer"},
            "height": {"type": "integer"}}},
        "description": "The evidence photos (URLs to fetch them)"})

    def _photos(self, entry) -> list[dict[str, Any]]:
        return uploads.describe(entry.photo_ids or [])
    created_at = ma.fields.AwareDateTime()


DisputeEntryPageSchema = page_schema(DisputeEntrySchema)
