"""Schemas of the shipment and handover endpoints."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.trades.shipping.carriers import CARRIERS, STATUSES


class TrackingEventSchema(ma.Schema):
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    occurred_at = ma.fields.AwareDateTime()
    description = ma.fields.String()
    location = ma.fields.String(allow_none=True)


class TrackedShipmentSchema(ma.Schema):
    trade_id = ma.fields.Integer()
    carrier = ma.fields.String(metadata={"enum": list(CARRIERS)})
    carrier_name = ma.fields.String()
    tracking_number = ma.fields.String()
    tracked = ma.fields.Boolean(metadata={
        "description": "The carrier's tracking is polled; delivery starts the confirm window"})
    status = ma.fields.String(metadata={
        "enum": ["in_transit", "delivered", "exception", "returned"],
        "description": "As the carrier last reported (untracked: in_transit)"})
    shipped_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    last_polled_at = ma.fields.AwareDateTime(allow_none=True)
    confirm_by = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "Auto-confirmed then unless confirmed or disputed (tracked parcels: "
                       "set on delivery)"})
    events = ma.fields.List(ma.fields.Nested(TrackingEventSchema), metadata={
        "description": "Tracking events, oldest first (at most 200)"})


class HandoverCodeSchema(ma.Schema):
    trade_id = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "8 digits: show it to the seller at "
                                                     "the handover", "example": "40318275"})
    pickup_city = ma.fields.String(allow_none=True)


class HandoverSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "The buyer's code (spaces and dashes ignored)"})
