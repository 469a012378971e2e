"""Request and response schemas for returns and disputes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneySchema
from marketplace.trades.recourse_models import DisputeStatus, ReturnStatus

_REASON = validate.Length(min=1, max=2000)


class UploadRef(ma.fields.Field):
    """An opaque upload reference: a string (1-200 characters) or a positive integer. Kept as
    given; checked against uploads once that feature exists."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Any:
        if isinstance(value, bool):
            raise ma.ValidationError("An upload id: a string or a positive integer.")
        if isinstance(value, int) and 1 <= value <= MAX_BIGINT:
            return value
        if isinstance(value, str) and 1 <= len(value.strip()) <= 200:
            return value.strip()
        raise ma.ValidationError("An upload id: a string (1-200 characters) or a positive "
                                 "integer.")


def photo_ids_field(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(UploadRef(metadata={"oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 200},
        {"type": "integer", "minimum": 1}]}), validate=validate.Length(max=20), metadata={
        "description": "Photo evidence: upload ids (opaque strings or integers, at most 20; "
                       "kept as given until uploads exist to check them against)"}, **kwargs)


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
    photo_ids = ma.fields.List(ma.fields.Raw(metadata={"oneOf": [{"type": "string"},
                                                                 {"type": "integer"}]}))
    created_at = ma.fields.AwareDateTime()


DisputeEntryPageSchema = page_schema(DisputeEntrySchema)
