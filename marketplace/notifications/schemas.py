"""Response schemas of notifications."""

from __future__ import annotations

import marshmallow as ma


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "e.g. welcome"})
    title = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)
