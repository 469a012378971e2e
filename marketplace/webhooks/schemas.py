"""Request and response schemas of outbound webhooks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.events import KINDS
from marketplace.core.http.pagination import PageArgsSchema

STATUSES = ("pending", "retrying", "delivered", "failed")


class EndpointInSchema(ma.Schema):
    url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                        validate=validate.Length(max=500))
    event_types = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(["*", *KINDS])), required=True,
        validate=validate.Length(min=1, max=len(KINDS) + 1),
        metadata={"description": "event kinds to receive, or `*` for all"})
    description = ma.fields.String(load_default="", validate=validate.Length(max=200))


class EndpointSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.String()
    description = ma.fields.String()
    event_types = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class EndpointCreatedSchema(EndpointSchema):
    secret = ma.fields.String(metadata={
        "description": "signing secret: shown only in this response; keep it"})


class EndpointActiveSchema(ma.Schema):
    active = ma.fields.Boolean(required=True)


class DeliveryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(STATUSES))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.Integer()
    event_kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": " | ".join(STATUSES)})
    attempts = ma.fields.Integer()
    last_status_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
