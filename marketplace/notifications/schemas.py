"""Request and response schemas of notifications."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import PageArgsSchema
from marketplace.notifications.catalog import KINDS


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "welcome, or an event kind, e.g. "
                                                     "offer.received, trade.paid"})
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(allow_none=True, metadata={
        "description": "the event's data (ids, amounts): what a client links to"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationArgsSchema(PageArgsSchema):
    unread_only = ma.fields.Boolean(load_default=False)


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "notifications newly marked read"})


class ChannelsSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(sorted(KINDS)))
    in_app = ma.fields.Boolean()
    email = ma.fields.Boolean()
    push = ma.fields.Boolean(metadata={"description": "stored; delivered once push exists"})


class SettingsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChannelsSchema), required=True,
                           validate=validate.Length(max=len(KINDS)))
