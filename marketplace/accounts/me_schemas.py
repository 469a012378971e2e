"""Schemas of the caller's own account: profile, password, sessions, privacy, export,
closure, verification and reset."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts.schemas import NOT_BLANK
from marketplace.core.money_schemas import CurrencyField

PASSWORD = validate.Length(min=10, max=1024)


class ProfileUpdateSchema(ma.Schema):
    """Fields to change; absent ones are kept, null clears (but the display name)."""

    display_name = ma.fields.String(validate=[validate.Length(min=1, max=80), NOT_BLANK])
    bio = ma.fields.String(allow_none=True, validate=validate.Length(max=1000))
    city = ma.fields.String(allow_none=True,
                            validate=[validate.Length(min=1, max=100), NOT_BLANK])
    country = ma.fields.String(allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="An ISO 3166-1 alpha-2 code, e.g. FR."))
    locale = ma.fields.String(allow_none=True, validate=validate.Regexp(
        r"^[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?$", error="A language tag, e.g. fr, zh-CN."))
    currency = CurrencyField(allow_none=True)


class PasswordChangeSchema(ma.Schema):
    old_password = ma.fields.String(required=True, load_only=True,
                                    validate=validate.Length(min=1, max=1024))
    new_password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)


class SessionSchema(ma.Schema):
    id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "The token of this request"})


class PrivacySchema(ma.Schema):
    """Privacy choices; in a PUT, absent fields are kept."""

    public_profile = ma.fields.Boolean(
        metadata={"description": "GET /users/{id} shows the profile (default true)"})
    show_carbon = ma.fields.Boolean(
        metadata={"description": "The public profile shows carbon totals (default false)"})
    leaderboards = ma.fields.Boolean(
        metadata={"description": "Appear in leaderboards (default false)"})
    marketing_email = ma.fields.Boolean(
        metadata={"description": "Receive marketing email (default false)"})
    updated_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class ExportSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["pending", "ready", "failed"]})
    created_at = ma.fields.AwareDateTime()
    url = ma.fields.String(allow_none=True, metadata={
        "description": "Signed download link of the zip, valid 24 hours (null until ready)"})


class PasswordSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=1024))


class EmailSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))


class TokenConfirmSchema(ma.Schema):
    token = ma.fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))


class ResetConfirmSchema(TokenConfirmSchema):
    new_password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)
