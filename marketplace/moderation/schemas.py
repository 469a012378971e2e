"""Request and response schemas for reports, suspensions and the audit log."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate, validates_schema

from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.moderation.models import ReportStatus

_ID = validate.Range(min=1, max=MAX_BIGINT)
_REASON = validate.Length(min=3, max=2000)
_NOTE = validate.Length(max=2000)
SUBJECTS = ["listing", "user", "message"]


def _id(**kwargs) -> ma.fields.Integer:
    """An id in a JSON body: a JSON integer (strict: no "7", no 7.0)."""
    return ma.fields.Integer(strict=True, validate=_ID, **kwargs)


def _query_id(**kwargs) -> ma.fields.Integer:
    """An id in a query string, where every value is a string: parsed, then range-checked."""
    return ma.fields.Integer(validate=_ID, **kwargs)


class ReportCreateSchema(ma.Schema):
    """Exactly one of ``listing_id``, ``user_id`` and ``message_id``."""

    listing_id = _id(metadata={"description": "A listing you can see (404 otherwise)"})
    user_id = _id(metadata={"description": "A user"})
    message_id = _id(metadata={"description": "A message the other participant of one of "
                                              "your conversations sent you"})
    reason = ma.fields.String(required=True, validate=_REASON)

    @validates_schema
    def _one_subject(self, data, **kwargs):
        if sum(k in data for k in ("listing_id", "user_id", "message_id")) != 1:
            raise ma.ValidationError(
                "Give exactly one of listing_id, user_id and message_id.", "_schema")


class ReportSchema(ma.Schema):
    id = ma.fields.Integer()
    reporter_id = ma.fields.Integer()
    subject_type = ma.fields.String(metadata={"enum": SUBJECTS})
    listing_id = ma.fields.Integer(allow_none=True)
    user_id = ma.fields.Integer(allow_none=True)
    message_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String()
    status = ma.fields.String(metadata={"enum": [s.value for s in ReportStatus]})
    resolution = ma.fields.String(allow_none=True, metadata={"enum": ["actioned",
                                                                      "dismissed", None]})
    resolution_note = ma.fields.String(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


ReportPageSchema = page_schema(ReportSchema)


class ReportQueueArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in ReportStatus]),
                              metadata={"description": "Default: both, open first"})
    subject_type = ma.fields.String(validate=validate.OneOf(SUBJECTS))


class ReportResolveSchema(ma.Schema):
    resolution = ma.fields.String(required=True,
                                  validate=validate.OneOf(["actioned", "dismissed"]))
    note = ma.fields.String(load_default=None, validate=_NOTE)


class SuspendSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=_REASON)
    report_id = _id(load_default=None, allow_none=True, metadata={
        "description": "A report of this subject (for a user: also of a message they sent), "
                       "resolved as actioned with the suspension"})


class LiftSchema(ma.Schema):
    note = ma.fields.String(load_default=None, validate=_NOTE)


class ModeratedUserSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"enum": ["user", "admin"]})
    suspended = ma.fields.Boolean(attribute="is_suspended")
    suspended_at = ma.fields.AwareDateTime(allow_none=True)
    suspension_reason = ma.fields.String(allow_none=True)


class AuditArgsSchema(PageArgsSchema):
    subject_type = ma.fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "e.g. listing, user, report, dispute, incentive_rule"})
    subject_id = ma.fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "With subject_type"})
    action = ma.fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "e.g. user.suspended, listing.unsuspended"})
    actor_id = _query_id(metadata={"description": "The user who acted"})

    @validates_schema
    def _subject_with_type(self, data, **kwargs):
        if "subject_id" in data and "subject_type" not in data:
            raise ma.ValidationError("subject_id needs subject_type.", "subject_id")


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    actor_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: the system"})
    action = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    details = ma.fields.Dict(keys=ma.fields.String())
    created_at = ma.fields.AwareDateTime()


AuditEntryPageSchema = page_schema(AuditEntrySchema)
